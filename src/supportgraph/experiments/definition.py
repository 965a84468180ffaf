"""Experiment definitions: experiments/<name>.yaml, reviewed like code.

    description: Does dense-only retrieval resolve more conversations than hybrid?
    status: draft                 # draft | running | stopped | concluded
    salt: dense-retrieval-1       # change it and every unit is hashed afresh
    unit: conversation            # conversation | end_user (API threads with X-End-User)
    coverage: 0.10                # share of NEW conversations that enter the experiment
    variants:                     # name: weight; names from params.yaml experiment.variants
      production: 50              #   `production` is the control
      dense-only: 50
    primary_metric: resolution
    guardrails: [escalation, negative_feedback, latency]
    min_sample: 200               # conversations per variant before a verdict

A guardrail stop is recorded in the store (a replica cannot edit the repo); the effective status
is the file's, unless the store holds a stop (experiments/live.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml import YAML

from supportgraph.errors import ConfigError, NotFoundError
from supportgraph.evals.variants import NAME, PRODUCTION, Variant, load_variants

FOLDER = "experiments"
Status = Literal["draft", "running", "stopped", "concluded"]
MetricName = Literal["resolution", "thumbs_up", "negative_feedback", "escalation", "abstention", "stars", "latency"]


class Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", description="The file name without .yaml.")
    description: str = ""
    status: Status = "draft"
    salt: str = Field(min_length=1)
    unit: Literal["conversation", "end_user"] = "conversation"
    coverage: float = Field(gt=0, le=1)
    variants: dict[str, float] = Field(description="Variant name -> traffic weight; production is the control.")
    primary_metric: MetricName = "resolution"
    guardrails: list[MetricName] = Field(default_factory=lambda: ["escalation", "negative_feedback", "latency"])
    min_sample: int = Field(default=200, ge=1, description="Conversations per variant before a verdict.")
    alpha: float = Field(default=0.05, gt=0, lt=0.5, description="Significance level of the primary metric.")
    guardrail_alpha: float = Field(default=0.01, gt=0, lt=0.5,
                                   description="Stricter: guardrails are checked again and again as data comes in.")
    guardrail_min_sample: int = Field(default=30, ge=1, description="Conversations per variant before a stop.")
    guardrail_margin: float = Field(default=0.10, ge=0, description="How much worse than production (relative, "
                                    "0.10 = 10%) a significant difference must be to stop: with enough traffic "
                                    "a few milliseconds are significant, and not worth a stop.")
    check_every: int = Field(default=20, ge=1, description="Check the guardrails after every N new conversations.")

    @field_validator("variants")
    @classmethod
    def _control_and_weights(cls, variants: dict[str, float]) -> dict[str, float]:
        if PRODUCTION not in variants or len(variants) < 2:
            raise ValueError("variants must include `production` (the control) and at least one other")
        if any(w <= 0 for w in variants.values()):
            raise ValueError("every variant weight must be positive")
        return variants

    @property
    def treatments(self) -> list[str]:
        return [n for n in self.variants if n != PRODUCTION]


def experiments_dir(project_dir: Path) -> Path:
    return project_dir / FOLDER


def _read(path: Path) -> Experiment:
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
        return Experiment(name=path.stem, **data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        raise ConfigError(f"{path.name} is not a valid experiment ({where}: {first['msg']}).",
                          "fix that field (the format is in README.md, Online experiments).") from None
    except TypeError as error:
        raise ConfigError(f"{path.name} is not a valid experiment ({error}).",
                          "it must be a mapping of the fields in README.md, Online experiments.") from None


def check_variants(project_dir: Path, experiment: Experiment) -> dict[str, Variant]:
    """The experiment's variants as params.yaml declares them (production included)."""
    declared = load_variants(project_dir)
    missing = [n for n in experiment.treatments if n not in declared]
    if missing:
        raise ConfigError(f"Experiment '{experiment.name}' serves {', '.join(missing)}, which params.yaml does not "
                          "declare under experiment.variants.", "declare each variant there (it is evaluated "
                          "offline by `dvc repro` too), or remove it from the experiment.")
    return {n: Variant() if n == PRODUCTION else declared[n] for n in experiment.variants}


def load_experiments(project_dir: Path) -> dict[str, Experiment]:
    """Every experiment file, by name; at most one may be running (a conversation is in one at most)."""
    folder = experiments_dir(project_dir)
    found = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        if not NAME.match(path.stem):
            raise ConfigError(f"experiments/{path.name}: the name is not allowed.",
                              "use lowercase letters, digits, - and _.")
        found[path.stem] = _read(path)
    running = [n for n, e in found.items() if e.status == "running"]
    if len(running) > 1:
        raise ConfigError(f"More than one experiment is running: {', '.join(running)}.",
                          "stop all but one (`supportgraph experiment stop NAME`).")
    return found


def get_experiment(project_dir: Path, name: str) -> Experiment:
    experiments = load_experiments(project_dir)
    if name not in experiments:
        raise NotFoundError(f"No experiment '{name}' in {FOLDER}/.",
                            f"use one of: {', '.join(experiments) or 'none yet'} (or write {FOLDER}/{name}.yaml).")
    return experiments[name]


def set_status(project_dir: Path, name: str, status: Status) -> None:
    """Write the status into the file, keeping its comments (the change is reviewed like code). The
    file is replaced whole, so a turn reading it meanwhile never sees half of it."""
    path = experiments_dir(project_dir) / f"{name}.yaml"
    yaml = YAML()
    data = yaml.load(path.read_text(encoding="utf-8"))
    data["status"] = status
    partial = path.with_suffix(".yaml.partial")
    with partial.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    os.replace(partial, path)

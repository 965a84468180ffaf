"""Experiment variants: the agent answering with another prompt label and/or other retrieval params.

Declared in params.yaml, each evaluated by its own DVC stages into
evals/results/variants/<name>/ (changing one variant reruns only that one):

    experiment:
      variants:
        staging-prompts: {prompts: staging}            # every node renders its `staging` prompt version
        dense-only: {retrieval: {mode: dense}}         # overrides on top of params.yaml `retrieval`
        cautious: {brief: {escalation: {min_confidence: 0.7}}}  # overrides of the agent's brief

Retrieval and brief overrides change what the deterministic twins answer, so such a variant
differs with no chat model configured; a prompt label alone does not.

`production` is the served configuration (production prompts, params.yaml
`retrieval` as it is), evaluated by the main stages into evals/results/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from supportgraph.agents.brief import Brief
from supportgraph.errors import ConfigError, NotFoundError
from supportgraph.params import RetrievalParams, load_params
from supportgraph.prompts.registry import read_labels

PRODUCTION = "production"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")
RESULTS = Path("evals/results")
BRIEF_OVERRIDABLE = {"escalation", "scaffold", "review"}  # how the agent behaves, not what it is or guards


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = PRODUCTION
    prompts: str = Field(default="production", description="The prompt label every node resolves its prompt by.")
    retrieval: dict[str, Any] = Field(default_factory=dict, description="Overrides of params.yaml `retrieval`.")
    brief: dict[str, Any] = Field(default_factory=dict, description="Overrides of the brief's `escalation`, "
                                  "`scaffold` or `review` (e.g. escalation.min_confidence, scaffold.confirm).")

    def retrieval_params(self, base: RetrievalParams) -> RetrievalParams:
        """``base`` with this variant's overrides (nested ones such as confidence merged key by key)."""
        unknown = set(self.retrieval) - set(RetrievalParams.model_fields)
        if unknown:
            raise ConfigError(f"Variant '{self.name}' overrides unknown retrieval params: {', '.join(sorted(unknown))}.",
                              f"use some of: {', '.join(RetrievalParams.model_fields)}.")
        try:
            merged = base.model_dump()
            apply_overrides(merged, self.retrieval)
            return RetrievalParams(**merged)
        except ValidationError as error:
            raise ConfigError(f"Variant '{self.name}': {str(error).splitlines()[0]} "
                              f"({str(error).splitlines()[1].strip()}).", "fix the value in params.yaml.") from None

    def brief_for(self, base: Brief) -> Brief:
        """``base`` with this variant's brief overrides (validated as the brief itself is)."""
        unknown = set(self.brief) - BRIEF_OVERRIDABLE
        if unknown:
            raise ConfigError(f"Variant '{self.name}' overrides brief sections it may not: {', '.join(sorted(unknown))}.",
                              f"use some of: {', '.join(sorted(BRIEF_OVERRIDABLE))}.")
        if not self.brief:
            return base
        try:
            merged = base.model_dump()
            apply_overrides(merged, self.brief)
            return Brief.model_validate(merged)
        except ValidationError as error:
            raise ConfigError(f"Variant '{self.name}': {str(error).splitlines()[0]} "
                              f"({str(error).splitlines()[1].strip()}).", "fix the value in params.yaml.") from None

    def same_as_production(self) -> bool:
        """Serves exactly what production serves (no label, retrieval or brief change)."""
        return self.prompts == PRODUCTION and not self.retrieval and not self.brief

    def describe(self) -> str:
        parts = [f"prompts: {self.prompts}"] + [f"retrieval.{k}: {v}" for k, v in self.retrieval.items()] + \
            [f"brief.{k}: {v}" for k, v in self.brief.items()]
        return ", ".join(parts)


def apply_overrides(target, overrides: dict, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Write ``overrides`` into ``target`` in place (nested mappings key by key); return each
    (dotted key, old value, new value) written."""
    written = []
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            written += apply_overrides(target[key], value, f"{prefix}{key}.")
        else:
            written.append((f"{prefix}{key}", target.get(key), value))
            target[key] = value
    return written


def load_variants(project_dir: Path) -> dict[str, Variant]:
    """The variants declared under params.yaml `experiment.variants` (production is implicit)."""
    path = project_dir / "params.yaml"
    data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}
    declared = (data.get("experiment") or {}).get("variants") or {}
    variants = {}
    for name, spec in declared.items():
        if name == PRODUCTION or not NAME.match(str(name)):
            raise ConfigError(f"params.yaml: experiment variant name '{name}' is not allowed.",
                              "use lowercase letters, digits, - and _; `production` is the served configuration "
                              "and is always compared as it is.")
        try:
            variants[name] = Variant(name=name, **(spec or {}))
        except (ValidationError, TypeError) as error:
            raise ConfigError(f"params.yaml: experiment variant '{name}' is invalid: {str(error).splitlines()[0]}.",
                              "a variant takes `prompts: LABEL`, `retrieval: {param: value}` and/or "
                              "`brief: {section: {key: value}}`.") from None
    return variants


def get_variant(project_dir: Path, name: str) -> Variant:
    if name == PRODUCTION:
        return Variant()
    variants = load_variants(project_dir)
    if name not in variants:
        raise NotFoundError(f"No experiment variant named '{name}'.",
                            f"use {PRODUCTION} or one declared under experiment.variants in params.yaml: "
                            f"{', '.join(variants) or 'none declared yet'}.")
    return variants[name]


def check_prompt_label(prompts_dir: Path, variant: Variant) -> None:
    """Every prompt must have the variant's label, else the nodes would fail to resolve it."""
    missing = [name for name, tags in read_labels(prompts_dir).items() if variant.prompts not in (tags or {})]
    if missing:
        raise ConfigError(f"Variant '{variant.name}' uses prompt label '{variant.prompts}', which "
                          f"{', '.join(missing)} do not have.",
                          f"run `supportgraph prompts promote NAME VERSION --label {variant.prompts}` for each.")


def variant_params(project_dir: Path, variant: Variant) -> RetrievalParams:
    return variant.retrieval_params(load_params(project_dir).retrieval)


def results_dir(project_dir: Path, name: str) -> Path:
    """Where a variant's answers, results and metrics live: evals/results for production."""
    return project_dir / RESULTS if name == PRODUCTION else project_dir / RESULTS / "variants" / name


def is_evaluated(project_dir: Path, name: str) -> bool:
    """Whether the variant has the metrics and per-question results a comparison reads."""
    folder = results_dir(project_dir, name)
    return (folder / "metrics.json").exists() and (folder / "results.jsonl").exists()

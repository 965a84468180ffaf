"""Golden-set files: one JSON object per line (format in evals/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from supportgraph.errors import ConfigError


class GoldenCase(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    question: str = Field(min_length=1)
    reference_answer: str = ""
    sources: list[str] = Field(default_factory=list)
    answerable: bool = True
    category: str = ""
    style: str = ""


def load_dataset(path: Path) -> list[GoldenCase]:
    if not path.exists():
        raise ConfigError(f"Dataset {path} does not exist.", "pass a JSONL file in the golden-set format.")
    cases: list[GoldenCase] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            cases.append(GoldenCase(**json.loads(line)))
        except (json.JSONDecodeError, ValidationError, TypeError) as error:
            raise ConfigError(f"{path}:{number} is not a valid case ({str(error).splitlines()[0]}).",
                              "each line needs {id, question, reference_answer, sources, answerable}; "
                              "see evals/README.md.") from None
    ids = [c.id for c in cases]
    if len(ids) != len(set(ids)):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise ConfigError(f"{path}: case id '{duplicate}' is used twice.", "give every case a unique id.")
    return cases

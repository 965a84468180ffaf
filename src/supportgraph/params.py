"""params.yaml: tunable parameters shared by the runtime and the DVC stages."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from supportgraph.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow")  # other stages keep their own keys here


class KnowledgeParams(_Section):
    chunk_max_words: int = Field(default=150, ge=20, le=400)


class Calibration(BaseModel):
    """Logistic model of P(best article is right) from retrieval features."""

    intercept: float = -4.0
    dense: float = 8.0
    lexical: float = 0.0
    agreement: float = 1.0
    margin: float = 0.0


class RetrievalParams(_Section):
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid"
    candidates: int = Field(default=40, ge=5)
    fusion: Literal["minmax", "rrf"] = "minmax"
    rrf_k: float = Field(default=60, gt=0)
    dense_weight: float = Field(default=0.5, ge=0)
    lexical_weight: float = Field(default=0.5, ge=0)
    chat_weight: float = Field(default=0.5, ge=0)
    confidence: Calibration = Calibration()


class Params(_Section):
    knowledge: KnowledgeParams = KnowledgeParams()
    retrieval: RetrievalParams = RetrievalParams()


def load_params(project_dir: Path) -> Params:
    path = project_dir / "params.yaml"
    if not path.exists():
        return Params()
    try:
        return Params(**(yaml.safe_load(path.read_text(encoding="utf-8")) or {}))
    except (yaml.YAMLError, ValidationError) as error:
        raise ConfigError(f"{path} is invalid: {str(error).splitlines()[0]}",
                          "fix the value, or delete the key to use its default.") from None

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
    """Logistic model of P(best article is right) from the features in knowledge/calibration.py.

    ``source``: ``defaults`` (these values), ``self`` (fitted on the knowledge base when indexed)
    or ``labelled`` (fitted on labelled questions by `supportgraph kb calibrate`; wins)."""

    source: Literal["defaults", "self", "labelled"] = "defaults"
    null_quantile: float = Field(default=0.1, gt=0, lt=1)  # "self": where 0.5 falls among unanswerable scores
    intercept: float = -1.6
    dense: float = 3.083
    title: float = 0.488
    coverage: float = 0.947
    passage_coverage: float = 1.375
    known: float = -0.904

    def weights(self) -> tuple[float, ...]:
        """In the order of calibration.FEATURES."""
        return (self.dense, self.title, self.coverage, self.passage_coverage, self.known)


class RetrievalParams(_Section):
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid"
    candidates: int = Field(default=100, ge=5)               # chunks fetched per chunk channel
    articles_per_channel: int = Field(default=40, ge=5)      # the articles each channel contributes to fusion
    fusion: Literal["zscore", "minmax", "rrf"] = "zscore"
    rrf_k: float = Field(default=60, gt=0)
    dense_weight: float = Field(default=1.0, ge=0)
    title_weight: float = Field(default=1.0, ge=0)
    lexical_weight: float = Field(default=1.0, ge=0)
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

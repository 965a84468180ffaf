"""params.yaml: tunable parameters shared by the runtime and the DVC stages."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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
    intercept: float = -6.478
    dense: float = 2.207
    title: float = 1.032
    coverage: float = 2.11
    passage_coverage: float = 3.056
    known: float = 1.326
    missing: float = 2.895

    @model_validator(mode="before")
    @classmethod
    def _not_fitted_on_old_features(cls, data):
        # `kb calibrate` writes every weight: a labelled fit without `missing` predates the feature.
        if isinstance(data, dict) and data.get("source") == "labelled" and "coverage" in data and "missing" not in data:
            raise ValueError("this calibration has no `missing` weight: it was fitted on the features before "
                             "2026-12-04; run `supportgraph kb calibrate` again, or delete retrieval.confidence "
                             "to use the defaults")
        return data

    def weights(self) -> tuple[float, ...]:
        """In the order of calibration.FEATURES."""
        return (self.dense, self.title, self.coverage, self.passage_coverage, self.known, self.missing)


class RetrievalParams(_Section):
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid"
    candidates: int = Field(default=100, ge=5)               # chunks fetched per chunk channel
    articles_per_channel: int = Field(default=40, ge=5)      # the articles each channel contributes to fusion
    fusion: Literal["zscore", "minmax", "rrf"] = "zscore"
    rrf_k: float = Field(default=60, gt=0)
    dense_weight: float = Field(default=1.0, ge=0)
    title_weight: float = Field(default=1.0, ge=0)
    lexical_weight: float = Field(default=0.5, ge=0)
    phrase_weight: float = Field(default=0.5, ge=0)          # BM25 over stem pairs (knowledge/lexical.py)
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
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is invalid: {str(error).splitlines()[0]}",
                          "fix the YAML, or delete the file to use the defaults.") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path} is invalid at {where or 'the top'}: {first['msg']}",
                          "fix the value, or delete the key to use its default.") from None

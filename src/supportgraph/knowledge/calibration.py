"""Fit the retrieval confidence on a golden set.

The label is "the best hit is one of the case's sources" (always 0 for
unanswerable cases), the features those of ``Retriever.confidence``. The fitted
logistic coefficients are written into params.yaml, comments kept.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from supportgraph.evals.datasets import GoldenCase
from supportgraph.knowledge.retrieval import Retriever, confidence_features
from supportgraph.params import Calibration

FEATURES = ("dense", "lexical", "agreement", "margin")  # the order of confidence_features


def fit_calibration(retriever: Retriever, cases: list[GoldenCase]) -> tuple[Calibration, float]:
    """Return the fitted calibration and its accuracy at p=0.5 on the same cases."""
    from sklearn.linear_model import LogisticRegression

    rows, labels = [], []
    for case in cases:
        hits = retriever.search(case.question, k=5)
        if not hits:
            continue
        rows.append(confidence_features(hits))
        labels.append(int(case.answerable and hits[0].article.id in case.sources))
    x, y = np.array(rows), np.array(labels)
    model = LogisticRegression(C=10.0, max_iter=1000).fit(x, y)
    calibration = Calibration(intercept=round(float(model.intercept_[0]), 3),
                              **{name: round(float(w), 3) for name, w in zip(FEATURES, model.coef_[0])})
    return calibration, round(float(model.score(x, y)), 4)


def write_calibration(params_path: Path, calibration: Calibration) -> None:
    from ruamel.yaml import YAML

    yaml = YAML()
    data = yaml.load(params_path.read_text()) if params_path.exists() else {}
    data.setdefault("retrieval", {})
    confidence = data["retrieval"].setdefault("confidence", {})
    for key, value in calibration.model_dump().items():
        confidence[key] = value
    with params_path.open("w") as handle:
        yaml.dump(data, handle)

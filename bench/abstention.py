"""Abstention benchmark (not a test): does the agent tell a question its help centre cannot answer,
on help centres nobody tuned it for?

Every benchmark set is indexed with the production code and every question searched. The
confidence is a logistic score of the ranking's features (knowledge/calibration.py) whose
weights are fitted across benchmark sets, and whose threshold is set per knowledge base: at the
NULL_QUANTILE of the scores of questions its own articles cannot answer (titles and headings of
articles held out of the search). Reported leave-one-dataset-out: the weights used on a set were
fitted on the other sets only. Printed per set: answerable questions answered, unanswerable ones
abstained, and the trade-off curve (null quantile -> answered / abstained).

    PYTHONPATH=src:bench .venv/bin/python bench/abstention.py [--fit-defaults]

`--fit-defaults` prints the weights fitted on all sets: what params.yaml ships.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from embedding_cache import (
    CachedEmbedder,  # noqa: E402
    product_embedder,  # noqa: E402
)
from sets import BENCH_CACHE, REPO, benchmark_sets  # noqa: E402

from supportgraph.config import Settings  # noqa: E402
from supportgraph.knowledge.calibration import FEATURES, features, held_out_scores, synthetic_questions  # noqa: E402
from supportgraph.knowledge.index import build_index  # noqa: E402
from supportgraph.knowledge.retrieval import Retriever  # noqa: E402
from supportgraph.params import load_params  # noqa: E402

CACHE = BENCH_CACHE
CURVE = (0.05, 0.1, 0.15, 0.2, 0.3)
# Feature sets measured against each other (the shipped one is calibration.FEATURES).
CANDIDATES = {"before 2026-12-04": ("dense", "title", "coverage", "passage_coverage", "known"),
              "shipped": FEATURES,
              "missing in place of coverage": ("dense", "title", "passage_coverage", "known", "missing")}


def collect(bench_set, model) -> dict:
    """Feature rows of the set's real questions and of its held-out-article questions."""
    embedder = CachedEmbedder(model, CACHE, bench_set.name, "production")
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(project_dir=REPO, home=Path(home), knowledge_dir=bench_set.knowledge)
        build_index(settings, embedder)
        retriever = Retriever(settings, embedder)
        real = []
        for case in bench_set.cases():
            hits = retriever.search(case.question, k=5)
            real.append({"x": features(hits, retriever) if hits else [0.0] * len(FEATURES),
                         "answerable": case.answerable, "right": bool(hits) and hits[0].article.id in case.sources})
        questions = synthetic_questions([a for a in retriever.articles.values() if a.audience == "customer"])
        null = held_out_scores(retriever, questions)
    embedder.save()
    return {"real": real, "null": null}


def fit_weights(rows_by_set: dict[str, list[dict]]) -> tuple[np.ndarray, float]:
    """Logistic weights of "the best hit is right"; within each set both outcomes weigh half, and
    every set weighs the same, however many questions it has."""
    from sklearn.linear_model import LogisticRegression

    xs, ys, ws = [], [], []
    for rows in rows_by_set.values():
        y = np.array([r["answerable"] and r["right"] for r in rows])
        w = np.where(y, 0.5 / max(y.sum(), 1), 0.5 / max((~y).sum(), 1))
        xs.append(np.array([r["x"] for r in rows])), ys.append(y), ws.append(w)
    model = LogisticRegression(C=1.0, max_iter=3000).fit(np.concatenate(xs), np.concatenate(ys),
                                                         sample_weight=np.concatenate(ws) * 1000)
    return model.coef_[0], float(model.intercept_[0])


def held_out(data: dict, held: str, names: tuple[str, ...] = FEATURES):
    """The held-out set's question scores, null (held-out-article) scores and answerable mask, with the
    ``names`` features weighted as fitted on the other sets."""
    columns = [FEATURES.index(name) for name in names]
    only = lambda rows: [r | {"x": [r["x"][i] for i in columns]} for r in rows]  # noqa: E731
    weights, _ = fit_weights({name: only(d["real"]) for name, d in data.items() if name != held})
    scores = np.array([r["x"] for r in data[held]["real"]])[:, columns] @ weights
    null = np.array(data[held]["null"])[:, columns] @ weights
    return scores, null, np.array([r["answerable"] for r in data[held]["real"]])


def feature_table(data: dict, quantile: float) -> None:
    """Each candidate feature set, leave one dataset out: the threshold-free figures (AUC of answerable
    against unanswerable; unanswerable abstained at the threshold that answers 90% of the answerable,
    the issue's goal) beside the self-calibrated point; a set with no unanswerable question has only
    its answered share."""
    from sklearn.metrics import roc_auc_score

    print("\n### Which features, leave one dataset out\n")
    print("| features | " + " | ".join(data) + " |")
    print("|---|" + "---|" * len(data))
    for label, names in CANDIDATES.items():
        cells = []
        for held in data:
            scores, null, answerable = held_out(data, held, names)
            cut = np.quantile(null, quantile)
            answered = f"{(scores[answerable] >= cut).mean():.2f}"
            if answerable.all():
                cells.append(f"- / - / {answered}, -")
                continue
            at_90 = float((scores[~answerable] < np.quantile(scores[answerable], 0.1)).mean())
            cells.append(f"{roc_auc_score(answerable, scores):.2f} / {at_90:.2f} / {answered}, "
                         f"{(scores[~answerable] < cut).mean():.2f}")
        print(f"| {label}: {', '.join(names)} | " + " | ".join(cells) + " |")
    print(f"\n(cells: AUC / unanswerable abstained at 90% answered / answerable answered, unanswerable "
          f"abstained at q={quantile})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit-defaults", action="store_true")
    parser.add_argument("--refresh", action="store_true", help="recompute the feature rows")
    args = parser.parse_args()
    cached = CACHE / "abstention.json"
    if cached.exists() and not args.refresh:
        data = json.loads(cached.read_text())
    else:
        model = product_embedder()
        data = {s.name: collect(s, model) for s in benchmark_sets()}
        cached.write_text(json.dumps(data))
    if args.fit_defaults:
        weights, intercept = fit_weights({name: d["real"] for name, d in data.items()})
        print(json.dumps({"intercept": round(intercept, 3)} | {f: round(float(w), 3) for f, w in zip(FEATURES, weights)}))
        return 0
    quantile = load_params(REPO).retrieval.confidence.null_quantile
    print(f"\n### Abstention, leave one dataset out (threshold at the held-out-article quantile {quantile})\n")
    print("| set | questions | unanswerable | answerable answered | unanswerable abstained | "
          + " | ".join(f"q={q}" for q in CURVE) + " |")
    print("|---|---|---|---|---|" + "---|" * len(CURVE))
    for held, d in data.items():
        scores, null, answerable = held_out(data, held)

        def at(q: float) -> tuple[float, float]:
            cut = np.quantile(null, q)
            abstained = float((scores[~answerable] < cut).mean()) if (~answerable).any() else float("nan")
            return float((scores[answerable] >= cut).mean()), abstained

        answered, abstained = at(quantile)
        curve = " | ".join(f"{a:.2f} / {b:.2f}" for a, b in map(at, CURVE))
        print(f"| {held} | {len(d['real'])} | {int((~answerable).sum())} | {answered:.3f} | {abstained:.3f} | {curve} |")
    print("\n(curve cells: answerable answered / unanswerable abstained)")
    feature_table(data, quantile)
    return 0


if __name__ == "__main__":
    sys.exit(main())

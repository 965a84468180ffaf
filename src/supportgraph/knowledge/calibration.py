"""Confidence: the probability that the best article retrieved is the right one.

A logistic score over a few features of the ranking. Its weights say what a right answer looks
like and transfer between help centres: params.yaml ships weights fitted across four benchmark
sets (`bench/abstention.py --fit-defaults`). Where the score crosses 0.5 does not transfer (a
cosine of 0.6 is strong on one help centre and ordinary on another), so it is set per knowledge
base, with no labelled data, when it is indexed ("self"):

  the titles and headings of a sample of articles are searched with their own article held out,
  which makes each one an on-topic question this help centre cannot answer; the intercept puts
  0.5 at the `null_quantile` of their scores. With 0.1, a question scoring like the best tenth of
  unanswerable ones is still answered, the rest are handed over.

`supportgraph kb calibrate --dataset FILE` instead fits weights and intercept on the team's own
labelled questions (`source: labelled` in params.yaml), which then wins. The brief's
`escalation.min_confidence` is the threshold on the resulting probability (0.5 by default).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np

from supportgraph.evals.datasets import GoldenCase
from supportgraph.knowledge.chunking import TITLES_FORMAT
from supportgraph.knowledge.lexical import LEXICAL_FORMAT
from supportgraph.params import Calibration, RetrievalParams

# Absolute features only: how close the best article is, how much of the question it and its best
# passage contain, and how much of it the knowledge base knows. `missing` (the IDF of the rarest question
# word the article lacks) reads beside the coverages: the same share left uncovered costs less when it
# is one rare word (a typo, a filler, a name the help centre never uses) than when it is several
# ordinary ones; its weight comes out positive on each set fitted alone. Relative features (the fused
# margin over the second article, channels agreeing) tell a right article from a wrong one but not an
# answerable question from an unanswerable one, and did not transfer (bench/abstention.py,
# docs/benchmarks.md).
FEATURES = ("dense", "title", "coverage", "passage_coverage", "known", "missing")
SELF_SAMPLE = 150       # articles whose titles and headings become questions
HEADINGS_PER_ARTICLE = 2
MIN_QUESTIONS = 20      # fewer than this (a tiny knowledge base): keep params.yaml's calibration
_GENERIC_HEADING = re.compile(r"^(steps?|overview|introduction|summary|notes?|details|more|faq|see also|"
                              r"before you (begin|start)|requirements|if that didn'?t work.*)\b", re.IGNORECASE)


def features(hits, retriever=None) -> list[float]:
    """What predicts that the best hit answers the question: its best chunk's cosine, its title's (or a
    section heading's) cosine, how much of the question (IDF-weighted) the article and its best passage
    contain, how much of it the knowledge base knows at all, and the rarest question word the article lacks."""
    top = hits[0]
    return [top.dense_score, top.title_score, top.coverage, top.passage_coverage, top.known, top.missing]


def is_current(calibration: dict) -> bool:
    """Was this stored calibration fitted on today's features and today's ranking? (An older index's is
    not used: a new lexical or titles format ranks differently, so its held-out scores differ too.)"""
    return (calibration.get("features") == list(FEATURES) and calibration.get("lexical_format") == LEXICAL_FORMAT
            and calibration.get("titles_format") == TITLES_FORMAT)


def calibration_for(manifest: dict, params: RetrievalParams) -> Calibration:
    """params.yaml's when it was fitted on labelled questions, else the knowledge base's own."""
    if params.confidence.source == "labelled" or not is_current(manifest.get("calibration") or {}):
        return params.confidence
    return Calibration(**{k: v for k, v in manifest["calibration"].items() if k in Calibration.model_fields})


def _fit(rows: list[list[float]], labels: list[int], source: str) -> Calibration:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=1000).fit(np.array(rows), np.array(labels))
    return Calibration(source=source, intercept=round(float(model.intercept_[0]), 3),
                       **{name: round(float(w), 3) for name, w in zip(FEATURES, model.coef_[0])})


def synthetic_questions(articles, sample: int = SELF_SAMPLE, seed: int = 7) -> list[tuple[str, str]]:
    """(question, article id): titles and informative headings of a sample of articles."""
    chosen = sorted(articles, key=lambda a: a.id)
    random.Random(seed).shuffle(chosen)
    questions = []
    for article in chosen[:sample]:
        questions.append((article.title, article.id))
        headings = [s.heading for s in article.sections()[1:]
                    if len(s.heading.split()) >= 3 and not _GENERIC_HEADING.match(s.heading)]
        questions += [(f"{article.title}: {h}", article.id) for h in headings[:HEADINGS_PER_ARTICLE]]
    return questions


def held_out_scores(retriever, questions: list[tuple[str, str]]) -> list[list[float]]:
    """Feature rows of each question searched without its own article: what unanswerable looks like here."""
    rows = []
    vectors = retriever.embed_queries([question for question, _ in questions])  # one batched model call
    for (question, article_id), vector in zip(questions, vectors):
        hits = retriever.search(question, k=5, exclude=[article_id], vector=vector)
        if hits:
            rows.append(features(hits, retriever))
    return rows


def self_calibrate(retriever) -> tuple[Calibration, int] | None:
    """params.yaml's weights, with the intercept this knowledge base's unanswerable questions call
    for (see the module docstring); None when it is too small to tell."""
    customer = [a for a in retriever.articles.values() if a.audience == "customer"]
    questions = synthetic_questions(customer)
    if len(questions) < MIN_QUESTIONS or len(customer) < 3:
        return None
    rows = held_out_scores(retriever, questions)
    if len(rows) < MIN_QUESTIONS:
        return None
    base = retriever.params.confidence
    scores = np.array(rows) @ np.array(base.weights())
    cut = float(np.quantile(scores, base.null_quantile))
    return base.model_copy(update={"source": "self", "intercept": round(-cut, 3)}), len(questions)


def save_self_calibration(settings, calibration: Calibration, questions: int) -> None:
    """Keep a knowledge base's own calibration in its index manifest."""
    from supportgraph.knowledge.index import read_manifest, write_manifest

    manifest = read_manifest(settings.index_dir)
    manifest["calibration"] = calibration.model_dump() | {"questions": questions, "features": list(FEATURES),
                                                          "lexical_format": LEXICAL_FORMAT,
                                                          "titles_format": TITLES_FORMAT}
    write_manifest(settings.index_dir, manifest)


def fit_calibration(retriever, cases: list[GoldenCase]) -> tuple[Calibration, float]:
    """Fit on labelled questions: label 1 when the best hit is one of the case's sources (0 for
    unanswerable cases). Returns the calibration and its accuracy at p=0.5 on the same cases."""
    rows, labels = [], []
    for case in cases:
        hits = retriever.search(case.question, k=5)
        if not hits:
            continue
        rows.append(features(hits, retriever))
        labels.append(int(case.answerable and hits[0].article.id in case.sources))
    calibration = _fit(rows, labels, "labelled")
    weights = np.array(calibration.weights())
    predicted = (np.array(rows) @ weights + calibration.intercept) > 0
    return calibration, round(float((predicted == np.array(labels)).mean()), 4)


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

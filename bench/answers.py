"""What a customer gets, not only what retrieval finds: supportgraph's whole agent on a benchmark set
(the same orchestration `supportgraph eval --knowledge DIR --dataset FILE` runs), beside the
LangChain-style baseline's answer, which is its top chunk pasted verbatim.

Per set: answerable questions answered, unanswerable ones clarified, escalated or refused, and
answer similarity (cosine of the bundled MiniLM embeddings of the reply and the reference answer,
as RAGAS' SemanticSimilarity computes it) over the answerable questions that have a reference, and
the same over those it answered (a handover scores about 0.1-0.4 against an expert answer).
"""

from __future__ import annotations

from statistics import mean

import numpy as np
from sets import REPO, BenchSet  # noqa: E402  (bench/ is on sys.path when compare.py runs)

from supportgraph.config import Settings
from supportgraph.evals.datasets import GoldenCase
from supportgraph.evals.evaluate import answer_with_fresh_index
from supportgraph.evals.metrics import ABSTAINED


def cosines(embedder, answers: list[str], references: list[str]) -> np.ndarray:
    if not answers:
        return np.empty(0)
    a, r = np.asarray(embedder.embed(answers)), np.asarray(embedder.embed(references))
    return np.sum(a * r, axis=1)


def similarity(embedder, answers: list[str], references: list[str]) -> float:
    return _mean(cosines(embedder, answers, references))


def _mean(values: np.ndarray) -> float:
    return round(float(np.mean(values)), 3) if len(values) else float("nan")


def agent_quality(bench: BenchSet, cases: list[GoldenCase], embedder) -> dict[str, float]:
    settings = Settings(project_dir=REPO, knowledge_dir=bench.knowledge)
    records, _ = answer_with_fresh_index(settings, cases, embedder)
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]
    with_reference = [r for r in answerable if r.reference_answer]
    scores = cosines(embedder, [r.answer for r in with_reference], [r.reference_answer for r in with_reference])
    return {
        "answered": round(mean(r.outcome == "answered" for r in answerable), 3) if answerable else float("nan"),
        "abstained": round(mean(r.outcome in ABSTAINED for r in unanswerable), 3) if unanswerable else float("nan"),
        "similarity": _mean(scores),
        # The same over the questions it answered: what an answer is worth when it is given.
        "similarity_answered": _mean(scores[[r.outcome == "answered" for r in with_reference]]) if scores.size
        else float("nan"),
        "latency_p50_ms": float(np.percentile([r.latency_ms for r in records], 50)),
    }


def pasted_chunk_quality(method, cases: list[GoldenCase], queries, embedder) -> dict[str, float]:
    """The LangChain-style pipeline answers everything with its best chunk."""
    with_reference = [c for c in cases if c.answerable and c.reference_answer]
    chunks = [method.best_chunk(c.question, queries) for c in with_reference]
    pasted = similarity(embedder, chunks, [c.reference_answer for c in with_reference])
    return {"answered": 1.0, "abstained": 0.0, "similarity": pasted, "similarity_answered": pasted}

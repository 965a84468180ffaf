"""supportgraph's own answer metrics: small, immutable, per-case scores.

Each metric says which cases it applies to (`applies`) and scores one record
0..1; `evaluate` aggregates. Retrieval metrics at article level come from
retrieval_metrics.py; RAGAS metrics from ragas_metrics.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import mean

from supportgraph.evals.retrieval_metrics import HitAtK, MRRAtK, RecallAtK, percentile
from supportgraph.evals.runner import EvalRecord

ABSTAINED = ("clarify", "escalated", "refused")
NUMBERED_STEP = re.compile(r"^\d+\. ", re.MULTILINE)


@dataclass(frozen=True)
class Retrieval:
    """recall@k / MRR@k of the retrieved articles against the case's sources."""

    metric: RecallAtK | HitAtK | MRRAtK

    @property
    def name(self) -> str:
        return f"retrieval.{self.metric.name}"

    def applies(self, r: EvalRecord) -> bool:
        return r.answerable and bool(r.sources)

    def score(self, r: EvalRecord) -> float:
        return self.metric.score(r.retrieved, r.sources)


@dataclass(frozen=True)
class CitationAccuracy:
    """Answered answerable questions whose first cited article is a source."""

    name: str = "answer.citation_accuracy"

    def applies(self, r: EvalRecord) -> bool:
        return r.answerable and r.outcome == "answered"

    def score(self, r: EvalRecord) -> float:
        return float(bool(r.cited) and r.cited[0] in r.sources)


@dataclass(frozen=True)
class ScaffoldCompliance:
    """The reply follows the scaffold for its outcome: summary; numbered steps and the
    confirmation question when answering; exactly one question when clarifying."""

    name: str = "answer.scaffold_compliance"

    def applies(self, r: EvalRecord) -> bool:
        return r.outcome in ("answered", "clarify", "escalated")

    def score(self, r: EvalRecord) -> float:
        has_summary = bool(r.summary.strip())
        if r.outcome == "answered":
            return float(has_summary and bool(NUMBERED_STEP.search(r.answer))
                         and r.answer.rstrip().endswith("Did that resolve your issue?"))
        if r.outcome == "clarify":
            return float(r.answer.count("?") == 1)
        return float(has_summary and "follow up" in r.answer)


@dataclass(frozen=True)
class AnswerableAnswered:
    name: str = "outcome.answerable_answered"

    def applies(self, r: EvalRecord) -> bool:
        return r.answerable

    def score(self, r: EvalRecord) -> float:
        return float(r.outcome == "answered")


@dataclass(frozen=True)
class UnanswerableAbstained:
    name: str = "outcome.unanswerable_abstained"

    def applies(self, r: EvalRecord) -> bool:
        return not r.answerable

    def score(self, r: EvalRecord) -> float:
        return float(r.outcome in ABSTAINED)


@dataclass(frozen=True)
class OutcomeAccuracy:
    """Answered when answerable, abstained when not."""

    name: str = "outcome.accuracy"

    def applies(self, r: EvalRecord) -> bool:
        return True

    def score(self, r: EvalRecord) -> float:
        return float((r.outcome == "answered") == r.answerable)


OWN_METRICS = (Retrieval(HitAtK(1)), Retrieval(HitAtK(5)), Retrieval(RecallAtK(1)), Retrieval(RecallAtK(5)),
               Retrieval(MRRAtK(10)), CitationAccuracy(),
               ScaffoldCompliance(), AnswerableAnswered(), UnanswerableAbstained(), OutcomeAccuracy())


def evaluate(records: list[EvalRecord], metrics=OWN_METRICS) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Aggregate per metric (dotted name -> mean) and per-case scores (case id -> name -> score)."""
    aggregate: dict[str, float] = {}
    per_case: dict[str, dict[str, float]] = {r.id: {} for r in records}
    for metric in metrics:
        scores = []
        for record in records:
            if metric.applies(record):
                value = metric.score(record)
                per_case[record.id][metric.name] = value
                scores.append(value)
        aggregate[metric.name] = round(mean(scores), 4) if scores else 0.0
    latencies = [r.latency_ms for r in records]
    aggregate["latency.p50_ms"] = percentile(latencies, 50)
    aggregate["latency.p95_ms"] = percentile(latencies, 95)
    return aggregate, per_case


def nest(flat: dict[str, float]) -> dict:
    """{"a.b": 1} -> {"a": {"b": 1}}: the shape DVC metrics and the gate read."""
    nested: dict = {}
    for key, value in flat.items():
        group, _, name = key.partition(".")
        nested.setdefault(group, {})[name] = value
    return nested

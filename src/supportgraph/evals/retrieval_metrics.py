"""Article-level retrieval metrics: small, immutable, per-case scores plus an aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean


@dataclass(frozen=True)
class RecallAtK:
    """Share of the relevant articles found in the top k."""

    k: int

    @property
    def name(self) -> str:
        return f"recall_at_{self.k}"

    def score(self, retrieved: list[str], relevant: list[str]) -> float:
        return len(set(retrieved[: self.k]) & set(relevant)) / len(set(relevant))


@dataclass(frozen=True)
class HitAtK:
    """1 when any relevant article is in the top k (what a customer needs: one right article)."""

    k: int

    @property
    def name(self) -> str:
        return f"hit_at_{self.k}"

    def score(self, retrieved: list[str], relevant: list[str]) -> float:
        return 1.0 if set(retrieved[: self.k]) & set(relevant) else 0.0


@dataclass(frozen=True)
class MRRAtK:
    """Reciprocal rank of the first relevant article within the top k (0 if none)."""

    k: int

    @property
    def name(self) -> str:
        return f"mrr_at_{self.k}"

    def score(self, retrieved: list[str], relevant: list[str]) -> float:
        for rank, article_id in enumerate(retrieved[: self.k], 1):
            if article_id in relevant:
                return 1.0 / rank
        return 0.0


DEFAULT_METRICS = (RecallAtK(1), RecallAtK(3), RecallAtK(5), MRRAtK(10))


@dataclass(frozen=True)
class MetricResult:
    name: str
    per_case: list[float]

    @property
    def aggregate(self) -> float:
        return round(mean(self.per_case), 4) if self.per_case else 0.0


def score_retrieval(runs: list[tuple[list[str], list[str]]], metrics=DEFAULT_METRICS) -> dict[str, MetricResult]:
    """``runs`` holds (retrieved ids, relevant ids) per answerable case."""
    return {m.name: MetricResult(m.name, [m.score(got, want) for got, want in runs]) for m in metrics}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 1)

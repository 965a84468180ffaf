"""The live metrics, one home: what each counts per conversation and which way is better.

The unit is the conversation (what was randomised), so proportions count conversations, not
turns; latency is the exception: every turn's latency, since that is what a customer waits for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from supportgraph.review.flags import is_negative
from supportgraph.store.experiments import ConversationFacts


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    higher_is_better: bool
    # Proportions: (counted in the denominator?, a success?) per conversation.
    counts: Callable[[ConversationFacts], bool] | None = None
    success: Callable[[ConversationFacts], bool] | None = None
    # Continuous: the values a conversation contributes.
    values: Callable[[ConversationFacts], list[float]] | None = None

    @property
    def proportion(self) -> bool:
        return self.success is not None


def _every(_: ConversationFacts) -> bool:
    return True


def _stars(c: ConversationFacts) -> list[float]:
    return [sum(c.stars) / len(c.stars)] if c.stars else []  # one value per conversation


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("resolution", "resolution rate (customer confirmed)", True, _every, lambda c: "resolved" in c.outcomes),
    Metric("thumbs_up", "thumbs-up rate (rated conversations)", True, lambda c: bool(c.thumbs),
           lambda c: c.thumbs[-1] == "up"),
    Metric("negative_feedback", "negative feedback rate", False, _every,
           lambda c: any(is_negative(t, None) for t in c.thumbs) or any(is_negative(None, s) for s in c.stars)),
    Metric("escalation", "escalation rate", False, _every, lambda c: "escalated" in c.outcomes),
    # Abstention: handed over because no article was confident enough (not a request for a person).
    Metric("abstention", "abstention rate", False, _every,
           lambda c: any(o == "escalated" and "low_confidence" in f for o, f in zip(c.outcomes, c.flags))),
    Metric("stars", "mean stars", True, values=_stars),
    Metric("latency", "latency (ms per turn)", False, values=lambda c: list(c.latencies)),
)}

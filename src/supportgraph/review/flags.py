"""Automatic review flags: which turns a reviewer should look at, and why (unsafe_article and injection
come from the guards' step flags, agents/guardrails.py and agents/output_guard.py).

Computed from what a turn stored (outcome, step flags, confidence, latency) and
its feedback, against the brief, so changing the brief's latency budget or
confidence threshold re-flags past turns too.
"""

from __future__ import annotations

from typing import Any

from supportgraph.agents.brief import Brief

REVIEW_FLAGS: tuple[str, ...] = ("refused", "ungrounded", "escalated", "low_confidence", "negative_feedback", "slow",
                                 "unsafe_article", "injection", "human")


def is_negative(thumb: str | None, stars: int | None) -> bool:
    return thumb == "down" or (stars is not None and stars <= 2)


def is_positive(thumb: str | None, stars: int | None) -> bool:
    return thumb == "up" or (stars is not None and stars >= 4)


def review_flags(turn: Any, brief: Brief, thumb: str | None = None, stars: int | None = None) -> list[str]:
    """The review flags of a turn (a store ``Turn`` or a ``TurnRecord``), in ``REVIEW_FLAGS`` order."""
    step_flags = list(turn.flags or [])
    found = {
        "refused": turn.outcome == "refused" or any(f.startswith("guardrail:") for f in step_flags),
        # The answer check dropped steps its article does not support, or the model's answer was not grounded.
        "ungrounded": any(f == "ungrounded" or f.endswith(":ungrounded") for f in step_flags)
        or any(c.get("dropped") for c in (getattr(turn, "trace", None) or {}).get("llm_calls", [])),
        "escalated": turn.outcome == "escalated",
        "low_confidence": bool(turn.retrieved) and turn.confidence < brief.escalation.min_confidence,
        "negative_feedback": is_negative(thumb, stars),
        "slow": turn.latency_ms > brief.review.latency_budget_ms,
        # The turn retrieved an article with a flagged passage (knowledge/safety.py), or the output guard caught one.
        "unsafe_article": any(f.startswith("unsafe_article:") or f == "output_guard:unsafe_passage" for f in step_flags),
        # The message held a prompt injection (refused, or answered without it).
        "injection": any(f in ("prompt_injection", "prompt_injection_removed") for f in step_flags),
        # A person wrote this reply (a handoff): their words are reviewed like the bot's.
        "human": turn.outcome == "human",
    }
    return [flag for flag in REVIEW_FLAGS if found[flag]]

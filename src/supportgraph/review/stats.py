"""Figures for the stand-up dashboard's charts: feedback and satisfaction per day, the outcome
mix, the latency distribution, flags and tags over a window, and time to the first human reply."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter

from pydantic import BaseModel

from supportgraph.agents.brief import Brief
from supportgraph.review.flags import is_positive
from supportgraph.review.transcripts import TranscriptFilter, list_conversations
from supportgraph.store.handoffs import answered_handoffs, handoff_queue
from supportgraph.store.models import utcnow
from supportgraph.store.repository import Store

LATENCY_BINS_MS = (250, 500, 1000, 2000, 4000, 8000)


class Day(BaseModel):
    day: dt.date
    turns: int
    rated: int
    positive: int
    mean_stars: float | None

    @property
    def feedback_rate(self) -> float:
        return self.rated / self.turns if self.turns else 0.0

    @property
    def satisfaction(self) -> float | None:
        """Share of rated turns rated positively (thumb up or 4-5 stars)."""
        return self.positive / self.rated if self.rated else None


class Stats(BaseModel):
    days: list[Day]
    outcomes: dict[str, int]
    latency_bins: dict[str, int]   # "<250 ms" ... ">=8000 ms" -> turns
    flags: dict[str, int]          # conversations per flag
    tags: dict[str, int]           # conversations per tag

    @property
    def turns(self) -> int:
        return sum(d.turns for d in self.days)

    @property
    def feedback_rate(self) -> float:
        return sum(d.rated for d in self.days) / self.turns if self.turns else 0.0

    @property
    def satisfaction(self) -> float | None:
        rated = sum(d.rated for d in self.days)
        return sum(d.positive for d in self.days) / rated if rated else None


def _latency_bin(ms: float) -> str:
    upper = next((b for b in LATENCY_BINS_MS if ms < b), None)
    return f"<{upper} ms" if upper else f">={LATENCY_BINS_MS[-1]} ms"


def dashboard_stats(store: Store, brief: Brief, since: dt.datetime) -> Stats:
    views = list_conversations(store, brief, TranscriptFilter(since=since, limit=None))
    turns = [t for v in views for t in v.turns if t.created_at >= since]
    by_day: dict[dt.date, list] = {}
    for turn in turns:
        by_day.setdefault(turn.created_at.date(), []).append(turn)
    days = []
    for day in sorted(by_day):
        rated = [t for t in by_day[day] if t.thumb or t.stars]
        stars = [t.stars for t in rated if t.stars]
        days.append(Day(day=day, turns=len(by_day[day]), rated=len(rated),
                        positive=sum(is_positive(t.thumb, t.stars) for t in rated),
                        mean_stars=round(sum(stars) / len(stars), 2) if stars else None))
    latency = Counter(_latency_bin(t.latency_ms) for t in turns)
    bin_order = [f"<{b} ms" for b in LATENCY_BINS_MS] + [f">={LATENCY_BINS_MS[-1]} ms"]
    return Stats(days=days, outcomes=dict(Counter(t.outcome for t in turns).most_common()),
                 latency_bins={name: latency[name] for name in bin_order},
                 flags=dict(Counter(f for v in views for f in v.flags).most_common()),
                 tags=dict(Counter(tag for v in views for tag in {t.tag for t in v.tags}).most_common()))


class ReplyDay(BaseModel):
    """Handoffs queued on one day that a person has replied to, and how long the first reply took."""

    day: dt.date
    replied: int
    median_s: float
    p90_s: float


class ReplyTimes(BaseModel):
    days: list[ReplyDay]
    median_s: float | None          # over the whole window
    p90_s: float | None
    waiting: int                    # open handoffs nobody has replied to yet (whenever they were queued)
    oldest_waiting_s: float | None  # how long the longest of them has waited


def p90(values: list[float]) -> float:
    """The nearest-rank 90th percentile: with few handoffs, a time one of them really waited."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def reply_times(store: Store, since: dt.datetime, now: dt.datetime | None = None) -> ReplyTimes:
    """Time from a handoff being queued to a person's first reply, per day it was queued, plus who is still waiting."""
    now = now or utcnow()
    by_day: dict[dt.date, list[float]] = {}
    for handoff in answered_handoffs(store, since):
        by_day.setdefault(handoff.created_at.date(), []).append(handoff.first_reply_s)
    waits = [(now - h.created_at).total_seconds() for h in handoff_queue(store) if h.first_reply_at is None]
    every = [s for day in by_day.values() for s in day]
    return ReplyTimes(
        days=[ReplyDay(day=day, replied=len(values), median_s=statistics.median(values), p90_s=p90(values))
              for day, values in sorted(by_day.items())],
        median_s=statistics.median(every) if every else None, p90_s=p90(every) if every else None,
        waiting=len(waits), oldest_waiting_s=max(waits) if waits else None)


def duration_unit(seconds: float) -> tuple[str, float]:
    """The unit a span of this size reads best in: (name, seconds per unit)."""
    if seconds < 120:
        return "s", 1.0
    return ("min", 60.0) if seconds < 2 * 3600 else ("h", 3600.0)


def duration(seconds: float) -> str:
    """'45 s', '3.2 min', '1.5 h'."""
    unit, size = duration_unit(seconds)
    return f"{seconds / size:.0f} {unit}" if unit == "s" else f"{seconds / size:.1f} {unit}"

"""Figures for the stand-up dashboard's charts: feedback and satisfaction per day, the outcome
mix, the latency distribution, and flags and tags over a window."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from pydantic import BaseModel

from supportgraph.agents.brief import Brief
from supportgraph.review.flags import is_positive
from supportgraph.review.transcripts import TranscriptFilter, list_conversations
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

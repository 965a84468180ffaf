"""The weekly review: the week's flagged and negatively rated conversations, grouped by tag and
flag, with counts against the previous week."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from pydantic import BaseModel

from supportgraph.agents.brief import Brief
from supportgraph.review.transcripts import ConversationView, TranscriptFilter, list_conversations
from supportgraph.store.repository import Store


class Trend(BaseModel):
    name: str
    this_week: int
    previous_week: int

    @property
    def change(self) -> int:
        return self.this_week - self.previous_week


class WeeklyReview(BaseModel):
    week_start: dt.date
    conversations: int
    needs_review: list[ConversationView]   # flagged or negatively rated, newest first
    reviewed: int
    tags: list[Trend]
    flags: list[Trend]

    @property
    def reviewed_share(self) -> float:
        return self.reviewed / len(self.needs_review) if self.needs_review else 1.0


def week_start(day: dt.date) -> dt.date:
    """Monday of the ISO week holding ``day``."""
    return day - dt.timedelta(days=day.weekday())


def _week_of_conversations(store: Store, brief: Brief, start: dt.date) -> list[ConversationView]:
    """Conversations that started in the week beginning ``start`` (a conversation counts in one week only)."""
    begin = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    end = begin + dt.timedelta(days=7)
    views = list_conversations(store, brief, TranscriptFilter(since=begin, until=end, limit=None))
    return [v for v in views if begin <= v.created_at < end]


def _counts(views: list[ConversationView]) -> tuple[Counter, Counter]:
    tags = Counter(tag for v in views for tag in {t.tag for t in v.tags})
    flags = Counter(flag for v in views for flag in v.flags)
    return tags, flags


def weekly_review(store: Store, brief: Brief, start: dt.date) -> WeeklyReview:
    """Conversations of the week starting ``start`` (use ``week_start``), compared with the week before."""
    start = week_start(start)
    this = _week_of_conversations(store, brief, start)
    before = _week_of_conversations(store, brief, start - dt.timedelta(days=7))
    (tags_now, flags_now), (tags_then, flags_then) = _counts(this), _counts(before)
    tag_order = [t.id for t in brief.review.tags] + sorted(set(tags_now) | set(tags_then))
    flagged = [v for v in this if v.flags]  # negative feedback is one of the flags
    return WeeklyReview(
        week_start=start, conversations=len(this), needs_review=flagged,
        reviewed=sum(1 for v in flagged if v.reviewed_by),
        tags=[Trend(name=n, this_week=tags_now[n], previous_week=tags_then[n])
              for n in dict.fromkeys(tag_order) if tags_now[n] or tags_then[n]],
        flags=[Trend(name=n, this_week=flags_now[n], previous_week=flags_then[n])
               for n in sorted(set(flags_now) | set(flags_then), key=lambda n: -flags_now[n])],
    )

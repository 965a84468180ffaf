"""Transcripts for review: filtered conversation lists, one conversation with its traces, the
review queue, and tagging.

Conversations are read per time window and filtered here rather than in SQL:
flags depend on the brief and on feedback, and a week of chats fits in memory.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from supportgraph.agents.brief import Brief
from supportgraph.errors import NotFoundError
from supportgraph.privacy import redact
from supportgraph.review.flags import is_negative, is_positive, review_flags
from supportgraph.store.models import Conversation, ConversationReview, ConversationTag, Turn
from supportgraph.store.repository import Store

Rating = Literal["positive", "negative", "neutral", "unrated"]  # neutral: rated, neither (3 stars)
PAGE = 250  # conversations read per query


class TranscriptFilter(BaseModel):
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    outcome: str | None = None
    flag: str | None = None
    rating: Rating | None = None
    tag: str | None = None
    prompt_version: str | None = Field(default=None, description="e.g. 'answer@1.1.0', or 'twins'")
    unreviewed: bool = False
    flagged: bool = Field(default=False, description="only conversations with a review flag")
    tagged_since: dt.datetime | None = None
    limit: int | None = Field(default=200, ge=1, description="None: all")


class TurnView(BaseModel):
    id: int
    created_at: dt.datetime
    customer_message: str
    reply: str
    summary: str
    outcome: str
    confidence: float
    latency_ms: float
    kb_version: str
    retrieved: list[dict]
    citations: list[dict]
    step_flags: list[str]
    review_flags: list[str]
    trace: dict
    thumb: str | None = None
    stars: int | None = None
    comment: str | None = None
    author: str | None = None  # the person who wrote the reply (a handoff); None: the bot

    @property
    def prompt_versions(self) -> list[str]:
        """'name@version' of each prompt the model path used; ['twins'] when the deterministic twins answered."""
        prompts = self.trace.get("prompts") or {}
        return [f"{name}@{version}" for name, version in prompts.items()] or ["twins"]


class TagView(BaseModel):
    id: int
    tag: str
    note: str
    reviewer: str
    turn_id: int | None
    created_at: dt.datetime


class ConversationView(BaseModel):
    id: str
    channel: str
    status: str
    created_at: dt.datetime
    turns: list[TurnView]
    tags: list[TagView]
    reviewed_by: str | None = None
    verdict: str | None = None

    @property
    def flags(self) -> list[str]:
        return sorted({flag for turn in self.turns for flag in turn.review_flags})

    @property
    def rating(self) -> Rating:
        if any(is_negative(t.thumb, t.stars) for t in self.turns):
            return "negative"
        if any(is_positive(t.thumb, t.stars) for t in self.turns):
            return "positive"
        return "neutral" if any(t.thumb or t.stars for t in self.turns) else "unrated"

    @property
    def summary(self) -> str:
        return next((t.summary for t in self.turns if t.summary), self.turns[0].customer_message if self.turns else "")


def _turn_view(turn: Turn, brief: Brief) -> TurnView:
    feedback = turn.feedback
    thumb, stars = (feedback.thumb, feedback.stars) if feedback else (None, None)
    return TurnView(id=turn.id, created_at=turn.created_at, customer_message=turn.customer_message,
                    reply=turn.reply, summary=turn.summary, outcome=turn.outcome, confidence=turn.confidence,
                    latency_ms=turn.latency_ms, kb_version=turn.kb_version, retrieved=turn.retrieved or [],
                    citations=turn.citations or [], step_flags=turn.flags or [],
                    review_flags=review_flags(turn, brief, thumb, stars), trace=turn.trace or {},
                    thumb=thumb, stars=stars, comment=feedback.comment if feedback else None, author=turn.author)


def _conversation_views(store: Store, brief: Brief, query) -> list[ConversationView]:
    query = query.options(selectinload(Conversation.turns).selectinload(Turn.feedback))
    with store.session() as session:
        conversations = list(session.scalars(query))
        ids = [c.id for c in conversations]
        tags = session.scalars(select(ConversationTag).where(ConversationTag.conversation_id.in_(ids))
                               .order_by(ConversationTag.id)).all() if ids else []
        reviews = {r.conversation_id: r for r in session.scalars(
            select(ConversationReview).where(ConversationReview.conversation_id.in_(ids)))} if ids else {}
    tags_by_conversation: dict[str, list[TagView]] = {}
    for tag in tags:
        tags_by_conversation.setdefault(tag.conversation_id, []).append(TagView(
            id=tag.id, tag=tag.tag, note=tag.note, reviewer=tag.reviewer, turn_id=tag.turn_id,
            created_at=tag.created_at))
    views = []
    for conversation in conversations:
        review = reviews.get(conversation.id)
        views.append(ConversationView(
            id=conversation.id, channel=conversation.channel, status=conversation.status,
            created_at=conversation.created_at, turns=[_turn_view(t, brief) for t in conversation.turns],
            tags=tags_by_conversation.get(conversation.id, []),
            reviewed_by=review.reviewer if review else None, verdict=review.verdict if review else None))
    return views


def _matches(view: ConversationView, filters: TranscriptFilter) -> bool:
    return ((filters.outcome is None or any(t.outcome == filters.outcome for t in view.turns))
            and (filters.flag is None or filters.flag in view.flags)
            and (filters.rating is None or view.rating == filters.rating)
            and (filters.tag is None or any(t.tag == filters.tag for t in view.tags))
            and (filters.prompt_version is None
                 or any(filters.prompt_version in t.prompt_versions for t in view.turns))
            and not (filters.flagged and not view.flags))


def list_conversations(store: Store, brief: Brief, filters: TranscriptFilter | None = None) -> list[ConversationView]:
    """Conversations with a turn in the window that match every filter, newest first."""
    filters = filters or TranscriptFilter()
    query = select(Conversation).order_by(Conversation.updated_at.desc(), Conversation.id)
    if filters.since is not None:
        query = query.where(Conversation.turns.any(Turn.created_at >= filters.since))
    if filters.until is not None:
        query = query.where(Conversation.turns.any(Turn.created_at < filters.until))
    if filters.tagged_since is not None:
        query = query.where(Conversation.id.in_(select(ConversationTag.conversation_id)
                                                .where(ConversationTag.created_at >= filters.tagged_since)))
    if filters.unreviewed:
        query = query.where(Conversation.id.not_in(select(ConversationReview.conversation_id)))
    views: list[ConversationView] = []
    for offset in itertools.count(0, PAGE):  # pages, so a short list stops reading early
        page = _conversation_views(store, brief, query.limit(PAGE).offset(offset))
        views += [v for v in page if _matches(v, filters)]
        if len(page) < PAGE or (filters.limit is not None and len(views) >= filters.limit):
            return views[:filters.limit]


MIN_PREFIX = 6


def resolve_conversation_id(store: Store, given: str) -> str:
    """The full id of a conversation named by its id or a unique prefix of it (the review queue prints 12
    characters); NotFoundError when none or several match."""
    given = given.strip()
    with store.session() as session:
        if session.get(Conversation, given) is not None:
            return given
        escaped = given.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        matches = list(session.scalars(select(Conversation.id).where(Conversation.id.like(f"{escaped}%", escape="\\"))
                                       .limit(3))) if len(given) >= MIN_PREFIX else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise NotFoundError(f"'{given}' is the start of several conversations ({', '.join(matches)}, ...).",
                            "give more characters of the id.")
    raise NotFoundError(f"No conversation '{given}'.",
                        f"list them with `supportgraph review queue` or on the Transcripts page (give at least "
                        f"{MIN_PREFIX} characters of an id).")


def get_conversation(store: Store, brief: Brief, conversation_id: str) -> ConversationView:
    conversation_id = resolve_conversation_id(store, conversation_id)
    views = _conversation_views(store, brief, select(Conversation).where(Conversation.id == conversation_id))
    if not views:
        raise NotFoundError(f"No conversation '{conversation_id}'.",
                            "list them with `supportgraph review queue` or on the Transcripts page.")
    return views[0]


def review_queue(store: Store, brief: Brief, since: dt.datetime | None = None, limit: int = 50) -> list[ConversationView]:
    """Flagged conversations (any review flag, including negative feedback) no one has reviewed yet."""
    return list_conversations(store, brief, TranscriptFilter(since=since, unreviewed=True, flagged=True, limit=limit))


def mark_reviewed(store: Store, conversation_id: str, reviewer: str, verdict: Literal["ok", "issues"] = "ok") -> None:
    """Take a conversation out of the review queue (the latest verdict wins)."""
    conversation_id = resolve_conversation_id(store, conversation_id)
    with store.session() as session, session.begin():
        if session.get(Conversation, conversation_id) is None:
            raise NotFoundError(f"No conversation '{conversation_id}'.", "check the conversation id.")
        review = session.get(ConversationReview, conversation_id)
        if review is None:
            session.add(ConversationReview(conversation_id=conversation_id, reviewer=reviewer, verdict=verdict))
        else:
            review.reviewer, review.verdict, review.reviewed_at = reviewer, verdict, dt.datetime.now(dt.UTC)


def tag_conversation(store: Store, brief: Brief, conversation_id: str, tag: str, reviewer: str, note: str = "",
                     turn_id: int | None = None) -> int:
    """Tag a conversation (or one of its turns) with a note; this also marks it reviewed with issues."""
    brief.review.tag(tag)  # unknown tags are refused with the list of configured ones
    conversation_id = resolve_conversation_id(store, conversation_id)
    with store.session() as session, session.begin():
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFoundError(f"No conversation '{conversation_id}'.", "check the conversation id.")
        if turn_id is not None and session.get(Turn, turn_id) not in conversation.turns:
            raise NotFoundError(f"Turn {turn_id} is not part of conversation '{conversation_id}'.",
                                "tag a turn of this conversation, or the whole conversation.")
        row = ConversationTag(conversation_id=conversation_id, turn_id=turn_id, tag=tag, reviewer=reviewer,
                              note=redact(note.strip())[0])  # notes often quote the customer
        session.add(row)
        session.flush()
        tag_id = row.id
    mark_reviewed(store, conversation_id, reviewer, "issues")
    return tag_id


def remove_tag(store: Store, tag_id: int) -> None:
    with store.session() as session, session.begin():
        row = session.get(ConversationTag, tag_id)
        if row is None:
            raise NotFoundError(f"No tag {tag_id}.", "refresh the conversation to see its current tags.")
        session.delete(row)

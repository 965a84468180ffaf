"""Handoffs: a conversation the bot passed to a person, from the queue to a reply and back.

A handoff is queued when a turn escalates, claimed by one person (an UPDATE that only succeeds on a
queued row, so two people clicking "claim" at once cannot both win), answered with human turns in
the same thread, and ended by handing it back to the bot (released) or closing it. While one is
queued or claimed the bot stays silent on that thread (agents/service.py asks :func:`active_handoff`).
Time to the first human reply is the gap between ``created_at`` and ``first_reply_at``.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from supportgraph.errors import HandoffError, NotFoundError
from supportgraph.store.models import Base, Conversation, Turn, UTCDateTime, utcnow
from supportgraph.store.repository import Store

OPEN = ("queued", "claimed")


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    turn_id: Mapped[int | None] = mapped_column(Integer)  # the turn that escalated
    reason: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")   # the bot's handoff summary
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # what the customer told the bot (slots)
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)  # queued|claimed|released|closed
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_reply_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(64))


class HandoffInfo(BaseModel):
    id: int
    thread_id: str
    status: str
    reason: str
    note: str
    details: dict
    created_at: dt.datetime
    claimed_by: str | None = None
    claimed_at: dt.datetime | None = None
    first_reply_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    ended_by: str | None = None

    @property
    def first_reply_s(self) -> float | None:
        """Seconds from the handoff to the first human reply (None until there is one)."""
        return None if self.first_reply_at is None else (self.first_reply_at - self.created_at).total_seconds()

    @classmethod
    def of(cls, row: Handoff) -> HandoffInfo:
        return cls(thread_id=row.conversation_id, **{k: getattr(row, k) for k in (
            "id", "status", "reason", "note", "details", "created_at", "claimed_by", "claimed_at",
            "first_reply_at", "ended_at", "ended_by")})


def open_handoff(store: Store, thread_id: str, turn_id: int | None, reason: str, note: str,
                 details: dict | None = None) -> HandoffInfo:
    """Queue the conversation for a person; the open handoff it already has, if any."""
    with store.session() as session, session.begin():
        row = session.scalar(select(Handoff).where(Handoff.conversation_id == thread_id, Handoff.status.in_(OPEN)))
        if row is None:
            row = Handoff(conversation_id=thread_id, turn_id=turn_id, reason=reason, note=note,
                          details=details or {}, status="queued", created_at=utcnow())
            session.add(row)
            session.flush()
        return HandoffInfo.of(row)


def active_handoff(store: Store, thread_id: str) -> HandoffInfo | None:
    """The conversation's queued or claimed handoff: while there is one, the bot does not answer."""
    with store.session() as session:
        row = session.scalar(select(Handoff).where(Handoff.conversation_id == thread_id, Handoff.status.in_(OPEN)))
        return None if row is None else HandoffInfo.of(row)


def latest_handoff(store: Store, thread_id: str) -> HandoffInfo | None:
    with store.session() as session:
        row = session.scalar(select(Handoff).where(Handoff.conversation_id == thread_id)
                             .order_by(Handoff.id.desc()).limit(1))
        return None if row is None else HandoffInfo.of(row)


def handoff_queue(store: Store, include_claimed: bool = True) -> list[HandoffInfo]:
    """Open handoffs, oldest first (the order people should take them in)."""
    statuses = OPEN if include_claimed else ("queued",)
    with store.session() as session:
        rows = session.scalars(select(Handoff).where(Handoff.status.in_(statuses))
                               .order_by(Handoff.created_at, Handoff.id))
        return [HandoffInfo.of(r) for r in rows]


def answered_handoffs(store: Store, since: dt.datetime) -> list[HandoffInfo]:
    """Handoffs created since ``since`` that got a human reply: the time-to-first-reply figures."""
    with store.session() as session:
        rows = session.scalars(select(Handoff).where(Handoff.created_at >= since, Handoff.first_reply_at.is_not(None))
                               .order_by(Handoff.created_at))
        return [HandoffInfo.of(r) for r in rows]


def get_handoff(store: Store, handoff_id: int) -> HandoffInfo:
    with store.session() as session:
        row = session.get(Handoff, handoff_id)
        if row is None:
            raise NotFoundError(f"No handoff {handoff_id}.", "list the open ones with `supportgraph handoff list`.")
        return HandoffInfo.of(row)


def claim_handoff(store: Store, handoff_id: int, username: str) -> HandoffInfo:
    """Take a queued handoff; only one person wins a race (the UPDATE matches a queued row only)."""
    with store.session() as session, session.begin():
        taken = session.execute(update(Handoff).where(Handoff.id == handoff_id, Handoff.status == "queued")
                                .values(status="claimed", claimed_by=username, claimed_at=utcnow()))
    current = get_handoff(store, handoff_id)
    if taken.rowcount != 1 and current.claimed_by != username:
        who = f" by {current.claimed_by}" if current.status == "claimed" else ""
        raise HandoffError(f"Handoff {handoff_id} is {current.status}{who}.", "take the next queued one.")
    return current


def _owned(session, handoff_id: int, username: str) -> Handoff:
    row = session.get(Handoff, handoff_id)
    if row is None:
        raise NotFoundError(f"No handoff {handoff_id}.", "list the open ones with `supportgraph handoff list`.")
    if row.status != "claimed" or row.claimed_by != username:
        state = f"claimed by {row.claimed_by}" if row.status == "claimed" else row.status
        raise HandoffError(f"Handoff {handoff_id} is {state}, not claimed by {username}.",
                           "claim it first (`supportgraph handoff claim`).")
    return row


def record_human_reply(store: Store, handoff_id: int, username: str, text: str, flags: list[str]) -> int:
    """Store a person's reply (already redacted and guarded) as a turn of the thread; its id."""
    with store.session() as session, session.begin():
        row = _owned(session, handoff_id, username)
        previous = session.scalar(select(Turn).where(Turn.conversation_id == row.conversation_id)
                                  .order_by(Turn.id.desc()).limit(1))
        turn = Turn(conversation_id=row.conversation_id, customer_message="", reply=text, outcome="human",
                    author=username, flags=flags, trace={"author": username, "handoff_id": handoff_id},
                    # memory is untouched by a person's turn: it still ends on the bot's last checkpoint
                    checkpoint_id=previous.checkpoint_id if previous else None)
        session.add(turn)
        if row.first_reply_at is None:
            row.first_reply_at = utcnow()
        session.flush()
        return turn.id


def end_handoff(store: Store, handoff_id: int, username: str, close: bool) -> HandoffInfo:
    """Hand the thread back to the bot (``close`` False: the conversation is open again) or close it (resolved)."""
    with store.session() as session, session.begin():
        row = _owned(session, handoff_id, username)
        row.status, row.ended_at, row.ended_by = ("closed" if close else "released"), utcnow(), username
        conversation = session.get(Conversation, row.conversation_id)
        conversation.status = "resolved" if close else "open"
        session.flush()
        return HandoffInfo.of(row)

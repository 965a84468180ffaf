"""Tables. Customer text is redacted before it reaches them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out on every backend: SQLite hands back naive values,
    PostgreSQL values in the session's time zone. Naive values going in are taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        return None if value is None else self.process_bind_param(value, dialect)


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the LangGraph thread id
    channel: Mapped[str] = mapped_column(String(16), default="chat")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved | escalated (until a person ends it)
    handoff_summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    turns: Mapped[list[Turn]] = relationship(back_populates="conversation", order_by="Turn.id")


class Turn(Base):
    __tablename__ = "turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    customer_message: Mapped[str] = mapped_column(Text)
    reply: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    retrieved: Mapped[list] = mapped_column(JSON, default=list)   # [{id, score}]
    citations: Mapped[list] = mapped_column(JSON, default=list)   # [{id, title}]
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    kb_version: Mapped[str] = mapped_column(String(32), default="")
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    flags: Mapped[list] = mapped_column(JSON, default=list)
    trace: Mapped[dict | None] = mapped_column(JSON, default=dict)  # model, llm calls (prompt identities, fallbacks)
    checkpoint_id: Mapped[str | None] = mapped_column(String(64))  # the memory checkpoint this turn ended on
    author: Mapped[str | None] = mapped_column(String(64))  # the staff user who wrote the reply; None: the bot
    conversation: Mapped[Conversation] = relationship(back_populates="turns")
    feedback: Mapped[Feedback | None] = relationship(back_populates="turn", uselist=False)


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("stars IS NULL OR (stars BETWEEN 1 AND 5)", name="stars_1_to_5"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id"), unique=True)
    thumb: Mapped[str | None] = mapped_column(String(4))  # up | down
    stars: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    turn: Mapped[Turn] = relationship(back_populates="feedback")


class StaffUser(Base):
    """Staff who may open the review, knowledge and dashboard pages. Passwords are bcrypt hashes."""

    __tablename__ = "staff_users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))  # agent | reviewer | editor | admin
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationReview(Base):
    """A reviewer looked at a conversation: it leaves the review queue."""

    __tablename__ = "conversation_reviews"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16))  # ok | issues
    reviewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ConversationTag(Base):
    """A reviewer's tag on a conversation (optionally one turn of it), with a note: the raw material of the backlog."""

    __tablename__ = "conversation_tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turns.id"))
    tag: Mapped[str] = mapped_column(String(32), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

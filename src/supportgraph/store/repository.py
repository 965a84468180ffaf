"""The store's API. Pydantic models at the boundary, SQLAlchemy inside."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import create_engine, event, make_url, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from supportgraph.errors import NotFoundError, StoreError
from supportgraph.privacy import redact
from supportgraph.store.models import Base, Conversation, Feedback, Turn

# "waiting": the customer wrote while a person has the thread (store/handoffs.py); it stays escalated.
STATUS_BY_OUTCOME = {"resolved": "resolved", "escalated": "escalated", "waiting": "escalated"}


class TurnRecord(BaseModel):
    customer_message: str
    reply: str
    summary: str = ""
    outcome: str
    retrieved: list[dict] = Field(default_factory=list)
    citations: list[dict] = Field(default_factory=list)
    confidence: float = 0.0
    kb_version: str = ""
    latency_ms: float = 0.0
    flags: list[str] = Field(default_factory=list)
    handoff: str | None = None
    trace: dict = Field(default_factory=dict)
    checkpoint_id: str | None = None  # memory (LangGraph checkpoint) this turn ended on: see agents/memory.py
    author: str | None = None  # a person's reply (store/handoffs.py); None for the bot


class FeedbackIn(BaseModel):
    turn_id: int
    thumb: Literal["up", "down"] | None = None
    stars: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = Field(default=None, max_length=4000)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")      # readers never block the writer
        cursor.execute("PRAGMA synchronous=FULL")      # confirmed feedback survives a crash
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


UNAVAILABLE_FIX = "check SUPPORTGRAPH_DATABASE_URL and that the database server is running."
URL_FIX = ("set SUPPORTGRAPH_DATABASE_URL to sqlite:///path/to/supportgraph.db "
           "or postgresql+psycopg://user:password@host:5432/dbname.")


def _operational_errors_as_store_error(engine: Engine, shown_url: str) -> None:
    """A server that is down or goes away (or a locked, unreadable SQLite file) raises StoreError
    saying what to fix, at opening and on every later call, instead of a driver traceback."""
    @event.listens_for(engine, "handle_error")
    def _on_error(context) -> None:
        if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, OperationalError):
            return  # pool_pre_ping reconnects by itself; other errors keep their type
        reason = str(context.original_exception).strip().splitlines()[0]
        raise StoreError(f"Cannot use the conversation store at {shown_url}: {reason}", UNAVAILABLE_FIX)


def _add_missing_columns(engine: Engine) -> None:
    """Columns added since a database was created (all nullable): add them in place, keep every row."""
    from sqlalchemy import inspect, text

    inspector = inspect(engine)
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present and column.nullable:
                    kind = column.type.compile(dialect=engine.dialect)
                    connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            shown = make_url(url).render_as_string(hide_password=True)
        except ArgumentError:
            raise StoreError(f"'{url}' is not a database URL.", URL_FIX) from None
        try:
            self.engine = create_engine(url, pool_pre_ping=True)
        except (ArgumentError, ImportError) as error:  # unknown dialect, driver not installed
            raise StoreError(f"No database driver for {shown} ({error}).", URL_FIX) from None
        _operational_errors_as_store_error(self.engine, shown)
        try:
            if self.engine.dialect.name == "sqlite":
                _sqlite_pragmas(self.engine)
            Base.metadata.create_all(self.engine)
            _add_missing_columns(self.engine)
        except SQLAlchemyError as error:
            raise StoreError(f"Cannot open the conversation store at {shown}: {error.__class__.__name__}.",
                             UNAVAILABLE_FIX) from None
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._session()

    def record_turn(self, thread_id: str, record: TurnRecord, channel: str = "chat") -> int:
        with self.session() as session, session.begin():
            conversation = session.get(Conversation, thread_id)
            if conversation is None:
                conversation = Conversation(id=thread_id, channel=channel)
                session.add(conversation)
            conversation.status = STATUS_BY_OUTCOME.get(record.outcome, "open")
            if record.handoff:
                conversation.handoff_summary = record.handoff
            turn = Turn(conversation=conversation, **record.model_dump(exclude={"handoff"}))
            session.add(turn)
            session.flush()
            return turn.id

    def save_feedback(self, feedback: FeedbackIn) -> Feedback:
        """Create or update the feedback of a turn; fields left as None keep their stored value."""
        with self.session() as session, session.begin():
            if session.get(Turn, feedback.turn_id) is None:
                raise NotFoundError(f"Turn {feedback.turn_id} does not exist.", "rate a turn that was answered.")
            row = session.scalar(select(Feedback).where(Feedback.turn_id == feedback.turn_id))
            if row is None:
                row = Feedback(turn_id=feedback.turn_id)
                session.add(row)
            if feedback.thumb is not None:
                row.thumb = feedback.thumb
            if feedback.stars is not None:
                row.stars = feedback.stars
            if feedback.comment is not None:
                row.comment = redact(feedback.comment)[0]
            session.flush()
            return row

    def feedback_for(self, turn_id: int) -> Feedback | None:
        with self.session() as session:
            return session.scalar(select(Feedback).where(Feedback.turn_id == turn_id))

    def conversation(self, thread_id: str) -> Conversation | None:
        with self.session() as session:
            return session.scalar(select(Conversation).where(Conversation.id == thread_id)
                                  .options(selectinload(Conversation.turns).selectinload(Turn.feedback)))

    def resolved_conversations(self, since: dt.datetime) -> list[Conversation]:
        """Conversations resolved since ``since`` that got positive feedback (thumb up or 4+ stars)."""
        positive = or_(Feedback.thumb == "up", Feedback.stars >= 4)
        with self.session() as session:
            query = (select(Conversation).where(Conversation.status == "resolved", Conversation.updated_at >= since)
                     .where(Conversation.turns.any(Turn.feedback.has(positive)))
                     .options(selectinload(Conversation.turns)))
            return list(session.scalars(query))

    def recent_turns(self, limit: int = 50) -> list[Turn]:
        with self.session() as session:
            return list(session.scalars(select(Turn).order_by(Turn.id.desc()).limit(limit)
                                        .options(selectinload(Turn.feedback))))

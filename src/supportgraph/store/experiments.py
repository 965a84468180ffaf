"""Experiment tables: which variant each conversation was assigned (once, at its first turn), and
experiment stops (guardrail or by hand). Facts only; results are derived at read time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import JSON, Integer, String, Text, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from supportgraph.store.models import Base, Feedback, Turn, UTCDateTime, utcnow
from supportgraph.store.repository import Store


class ExperimentAssignment(Base):
    """A conversation's place in an experiment; ``variant`` None: outside the coverage (served
    production, not counted). One row per conversation: it is in one experiment at most."""

    __tablename__ = "experiment_assignments"

    conversation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    experiment: Mapped[str] = mapped_column(String(64), index=True)
    variant: Mapped[str | None] = mapped_column(String(64))
    bucket: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))  # conversation | end_user (the id itself is not kept)
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExperimentStop(Base):
    __tablename__ = "experiment_stops"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    experiment: Mapped[str] = mapped_column(String(64), index=True)
    salt: Mapped[str] = mapped_column(String(128))  # a restarted experiment (new salt) is not stopped
    reason: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    by: Mapped[str] = mapped_column(String(64))  # guardrail | a person
    stopped_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


def assignment_of(store: Store, conversation_id: str) -> ExperimentAssignment | None:
    with store.session() as session:
        return session.get(ExperimentAssignment, conversation_id)


def record_assignment(store: Store, row: ExperimentAssignment) -> bool:
    """Store the first turn's assignment; False when the conversation already has one."""
    try:
        with store.session() as session, session.begin():
            session.add(row)
        return True
    except IntegrityError:
        return False


def count_assigned(store: Store, experiment: str) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(ExperimentAssignment)
                              .where(ExperimentAssignment.experiment == experiment,
                                     ExperimentAssignment.variant.is_not(None))) or 0


def has_turns(store: Store, conversation_id: str) -> bool:
    with store.session() as session:
        return session.scalar(select(Turn.id).where(Turn.conversation_id == conversation_id).limit(1)) is not None


def stop_of(store: Store, experiment: str, salt: str) -> ExperimentStop | None:
    with store.session() as session:
        return session.scalar(select(ExperimentStop).where(ExperimentStop.experiment == experiment,
                                                           ExperimentStop.salt == salt)
                              .order_by(ExperimentStop.id).limit(1))


def record_stop(store: Store, experiment: str, salt: str, reason: str, figures: dict, by: str) -> ExperimentStop:
    with store.session() as session, session.begin():
        row = ExperimentStop(experiment=experiment, salt=salt, reason=reason, figures=figures, by=by)
        session.add(row)
        return row


@dataclass
class ConversationFacts:
    """What an assigned conversation did, as stored: the raw material of the live results."""

    variant: str
    outcomes: list[str] = field(default_factory=list)
    flags: list[list[str]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    thumbs: list[str] = field(default_factory=list)   # in turn order
    stars: list[int] = field(default_factory=list)


def conversation_facts(store: Store, experiment: str) -> list[ConversationFacts]:
    """One entry per conversation assigned to a variant of ``experiment`` (turns in order)."""
    with store.session() as session:
        assigned = {cid: ConversationFacts(variant) for cid, variant in session.execute(
            select(ExperimentAssignment.conversation_id, ExperimentAssignment.variant)
            .where(ExperimentAssignment.experiment == experiment, ExperimentAssignment.variant.is_not(None)))}
        rows = session.execute(
            select(Turn.conversation_id, Turn.outcome, Turn.flags, Turn.latency_ms, Feedback.thumb, Feedback.stars)
            .join(ExperimentAssignment, ExperimentAssignment.conversation_id == Turn.conversation_id)
            .outerjoin(Feedback, Feedback.turn_id == Turn.id)
            .where(ExperimentAssignment.experiment == experiment, ExperimentAssignment.variant.is_not(None))
            .order_by(Turn.id))
        for cid, outcome, flags, latency, thumb, stars in rows:
            facts = assigned[cid]
            facts.outcomes.append(outcome)
            facts.flags.append(list(flags or []))
            facts.latencies.append(latency)
            if thumb:
                facts.thumbs.append(thumb)
            if stars:
                facts.stars.append(stars)
    return list(assigned.values())

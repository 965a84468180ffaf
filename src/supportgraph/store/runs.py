"""Background runs as rows: accepted, claimed by one worker of any replica (with a lease), finished.

A worker takes the oldest run whose thread has no earlier unfinished run, so the runs of one thread
run in the order they were accepted while other threads' runs go on beside them. Taking a run is a
conditional UPDATE (only if its status and owner are still what was read), so two replicas cannot
both win; on PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED`` so they do not queue
behind each other's rows. A ``running`` run whose lease ran out, or whose process is gone on this
host, is taken over: its worker died.
"""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import aliased

from supportgraph.store.api_models import ApiRun
from supportgraph.store.models import Turn, utcnow
from supportgraph.store.repository import Store
from supportgraph.store.threads import owner_gone

UNFINISHED = ("pending", "running")
FINISHED = ("success", "error", "interrupted")


class RunInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    run_id: str
    thread_id: str
    tenant: str
    end_user: str | None
    assistant_id: str
    status: str
    message: str
    input_flags: list[str]
    meta: dict
    multitask_strategy: str
    owner: str | None
    attempts: int
    started_at: dt.datetime | None
    turn_id: int | None
    output: dict | None
    error: dict | None
    created_at: dt.datetime
    updated_at: dt.datetime


def add_run(store: Store, thread_id: str, *, tenant: str, end_user: str | None, assistant_id: str, message: str,
            input_flags: list[str], metadata: dict, multitask_strategy: str) -> RunInfo:
    now = utcnow()
    row = ApiRun(run_id=uuid.uuid4().hex, thread_id=thread_id, tenant=tenant, end_user=end_user,
                 assistant_id=assistant_id, status="pending", message=message, input_flags=input_flags,
                 meta=metadata, multitask_strategy=multitask_strategy, attempts=0, created_at=now, updated_at=now)
    with store.session() as session, session.begin():
        session.add(row)
        session.flush()
        return RunInfo.model_validate(row)


def get_run(store: Store, thread_id: str, run_id: str) -> RunInfo | None:
    with store.session() as session:
        row = session.scalar(select(ApiRun).where(ApiRun.run_id == run_id, ApiRun.thread_id == thread_id))
        return RunInfo.model_validate(row) if row else None


def list_runs(store: Store, thread_id: str, limit: int = 10, offset: int = 0,
              status: str | None = None) -> list[RunInfo]:
    """The thread's runs, newest first."""
    with store.session() as session:
        query = select(ApiRun).where(ApiRun.thread_id == thread_id)
        if status:
            query = query.where(ApiRun.status == status)
        rows = session.scalars(query.order_by(ApiRun.id.desc()).offset(offset).limit(limit))
        return [RunInfo.model_validate(row) for row in rows]


def has_unfinished_run(store: Store, thread_id: str) -> bool:
    with store.session() as session:
        return session.scalar(select(exists().where(ApiRun.thread_id == thread_id,
                                                    ApiRun.status.in_(UNFINISHED)))) or False


def claim_next_run(store: Store, owner: str, lease_s: float, now: dt.datetime | None = None) -> RunInfo | None:
    """Take the next runnable run for ``owner``, leased for ``lease_s`` seconds; None when there is none.

    Runnable: the first unfinished run of its thread, and either pending (past its not-before time) or
    running with its lease run out or its process gone (a dead worker's run, started again)."""
    now = now or utcnow()
    earlier = aliased(ApiRun)
    blocked = exists().where(earlier.thread_id == ApiRun.thread_id, earlier.id < ApiRun.id,
                             earlier.status.in_(UNFINISHED))
    query = (select(ApiRun.id, ApiRun.status, ApiRun.owner, ApiRun.lease_until)
             .where(ApiRun.status.in_(UNFINISHED), ~blocked).order_by(ApiRun.id).limit(20))
    if store.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=ApiRun)
    with store.session() as session, session.begin():
        for run_id, status, held_by, lease_until in session.execute(query).all():
            free = lease_until is None or lease_until <= now
            if not free and not (status == "running" and held_by and owner_gone(held_by)):
                continue
            same_owner = ApiRun.owner.is_(None) if held_by is None else ApiRun.owner == held_by
            taken = session.execute(
                update(ApiRun).where(ApiRun.id == run_id, ApiRun.status == status, same_owner)
                .values(status="running", owner=owner, lease_until=now + dt.timedelta(seconds=lease_s),
                        attempts=ApiRun.attempts + 1, started_at=func.coalesce(ApiRun.started_at, now),
                        updated_at=now)
                .execution_options(synchronize_session=False))
            if taken.rowcount == 1:
                return RunInfo.model_validate(session.get(ApiRun, run_id))
    return None


def _owned(run_id: str, owner: str):
    return (ApiRun.run_id == run_id) & (ApiRun.owner == owner) & (ApiRun.status == "running")


def renew_run(store: Store, run_id: str, owner: str, lease_s: float) -> bool:
    with store.session() as session, session.begin():
        result = session.execute(update(ApiRun).where(_owned(run_id, owner))
                                 .values(lease_until=utcnow() + dt.timedelta(seconds=lease_s)))
        return result.rowcount == 1


def finish_run(store: Store, run_id: str, owner: str, *, status: str, turn_id: int | None = None,
               output: dict | None = None, error: dict | None = None) -> bool:
    """Record how the run ended, if ``owner`` still holds it."""
    with store.session() as session, session.begin():
        result = session.execute(update(ApiRun).where(_owned(run_id, owner)).values(
            status=status, turn_id=turn_id, output=output, error=error, owner=None, lease_until=None,
            updated_at=utcnow()))
        return result.rowcount == 1


def put_back(store: Store, run_id: str, owner: str, not_before_s: float) -> bool:
    """Give the run back (its thread is busy with a turn outside the queue): pending again, tried after a while,
    without counting the attempt."""
    with store.session() as session, session.begin():
        result = session.execute(update(ApiRun).where(_owned(run_id, owner)).values(
            status="pending", owner=None, attempts=ApiRun.attempts - 1, updated_at=utcnow(),
            lease_until=utcnow() + dt.timedelta(seconds=not_before_s)))
        return result.rowcount == 1


def cancel_run(store: Store, thread_id: str, run_id: str) -> bool:
    """Cancel a run that has not started; False when it is no longer pending."""
    with store.session() as session, session.begin():
        result = session.execute(update(ApiRun).where(ApiRun.run_id == run_id, ApiRun.thread_id == thread_id,
                                                      ApiRun.status == "pending")
                                 .values(status="interrupted", lease_until=None, updated_at=utcnow()))
        return result.rowcount == 1


def delete_run(store: Store, thread_id: str, run_id: str) -> bool:
    """Delete a finished run; False when it is still pending or running."""
    with store.session() as session, session.begin():
        result = session.execute(delete(ApiRun).where(ApiRun.run_id == run_id, ApiRun.thread_id == thread_id,
                                                      ApiRun.status.in_(FINISHED)))
        return result.rowcount == 1


def turn_recorded_since(store: Store, thread_id: str, since: dt.datetime, message: str) -> Turn | None:
    """A turn of this message recorded since ``since``: a dead worker answered it before it could say so."""
    with store.session() as session:
        return session.scalar(select(Turn).where(Turn.conversation_id == thread_id, Turn.created_at >= since,
                                                 Turn.customer_message == " ".join(message.split()))
                              .order_by(Turn.id).limit(1))

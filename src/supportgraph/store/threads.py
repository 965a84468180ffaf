"""Threads across replicas: who owns one, the claim of the turn running on it, forgetting one.

A claim is a row: the INSERT that creates it is atomic on every backend, so two replicas asked to
run a turn on the same thread at the same moment cannot both win. A crashed replica's claim ends
when its lease does (or at once, when its process is known to be gone on this host).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from supportgraph.store.api_models import ApiRun, ApiThread, ThreadClaim, WebhookDelivery
from supportgraph.store.experiments import ExperimentAssignment
from supportgraph.store.handoffs import Handoff
from supportgraph.store.models import Conversation, ConversationReview, ConversationTag, Feedback, Turn, utcnow
from supportgraph.store.repository import Store
from supportgraph.store.sessions import WebSession

HOST = socket.gethostname()


def new_owner() -> str:
    """Who holds a claim: this host and process, and a random part for the turn."""
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_gone(owner: str) -> bool:
    """The claim's process ran on this host and no longer exists (a replica killed mid-turn)."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != HOST or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_thread(store: Store, thread_id: str, owner: str, lease_s: float) -> float:
    """Claim ``thread_id`` for one turn; 0.0 when claimed, else the seconds until the holder's lease ends."""
    now = utcnow()
    expires = now + dt.timedelta(seconds=lease_s)
    try:
        with store.session() as session, session.begin():
            session.add(ThreadClaim(thread_id=thread_id, owner=owner, expires_at=expires))
        return 0.0
    except IntegrityError:
        pass
    with store.session() as session, session.begin():
        held = session.get(ThreadClaim, thread_id)
        if held is None:  # released in between: try once more from the start
            session.add(ThreadClaim(thread_id=thread_id, owner=owner, expires_at=expires))
            try:
                session.flush()
            except IntegrityError:
                return 1.0
            return 0.0
        if held.expires_at > now and not owner_gone(held.owner):
            return max((held.expires_at - now).total_seconds(), 0.1)
        # Expired: take it over, but only if nobody else did since we read it.
        taken = session.execute(update(ThreadClaim).where(ThreadClaim.thread_id == thread_id,
                                                          ThreadClaim.owner == held.owner)
                                .values(owner=owner, expires_at=expires))
        return 0.0 if taken.rowcount == 1 else 1.0


def renew_claim(store: Store, thread_id: str, owner: str, lease_s: float) -> bool:
    with store.session() as session, session.begin():
        result = session.execute(update(ThreadClaim).where(ThreadClaim.thread_id == thread_id,
                                                           ThreadClaim.owner == owner)
                                 .values(expires_at=utcnow() + dt.timedelta(seconds=lease_s)))
        return result.rowcount == 1


def release_claim(store: Store, thread_id: str, owner: str) -> None:
    with store.session() as session, session.begin():
        session.execute(delete(ThreadClaim).where(ThreadClaim.thread_id == thread_id, ThreadClaim.owner == owner))


def thread_busy(store: Store, thread_id: str) -> bool:
    with store.session() as session:
        held = session.get(ThreadClaim, thread_id)
        return held is not None and held.expires_at > utcnow() and not owner_gone(held.owner)


def last_turn(store: Store, thread_id: str) -> Turn | None:
    with store.session() as session:
        return session.scalar(select(Turn).where(Turn.conversation_id == thread_id).order_by(Turn.id.desc()).limit(1))


def thread_owner(store: Store, thread_id: str) -> ApiThread | None:
    with store.session() as session:
        return session.get(ApiThread, thread_id)


def create_thread(store: Store, thread_id: str, tenant: str, end_user: str | None, key_id: str,
                  metadata: dict | None = None) -> ApiThread | None:
    """Register a thread for its owner; None when the id is already taken."""
    try:
        with store.session() as session, session.begin():
            row = ApiThread(thread_id=thread_id, tenant=tenant, end_user=end_user, key_id=key_id,
                            meta=metadata or {})
            session.add(row)
        return row
    except IntegrityError:
        return None


def delete_transcript(store: Store, thread_id: str) -> bool:
    """Delete a conversation's turns, feedback, tags, review, deliveries, runs and ownership; True if there was any.

    One transaction; call it holding the thread's claim. Memory (checkpoints) is deleted after it by ``agents.memory``; a crash between
    the two leaves checkpoints without a transcript, which the reconciliation removes."""
    with store.session() as session, session.begin():
        turn_ids = list(session.scalars(select(Turn.id).where(Turn.conversation_id == thread_id)))
        found = bool(turn_ids) or session.get(ApiThread, thread_id) is not None \
            or session.get(Conversation, thread_id) is not None
        if turn_ids:
            session.execute(delete(Feedback).where(Feedback.turn_id.in_(turn_ids)))
        session.execute(delete(ConversationTag).where(ConversationTag.conversation_id == thread_id))
        session.execute(delete(ConversationReview).where(ConversationReview.conversation_id == thread_id))
        session.execute(delete(Handoff).where(Handoff.conversation_id == thread_id))
        session.execute(delete(WebSession).where(WebSession.kind == "customer", WebSession.subject == thread_id))
        session.execute(delete(Turn).where(Turn.conversation_id == thread_id))
        session.execute(delete(Conversation).where(Conversation.id == thread_id))
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.thread_id == thread_id))
        session.execute(delete(ApiRun).where(ApiRun.thread_id == thread_id))
        session.execute(delete(ApiThread).where(ApiThread.thread_id == thread_id))
        session.execute(delete(ExperimentAssignment).where(ExperimentAssignment.conversation_id == thread_id))
        return found


def threads_older_than(store: Store, cutoff: dt.datetime) -> list[str]:
    """Threads with no activity since ``cutoff``: their last turn is older, or they never had a turn
    and were created before it."""
    from sqlalchemy import func

    with store.session() as session:
        last = (select(Turn.conversation_id, func.max(Turn.created_at).label("last"))
                .group_by(Turn.conversation_id).subquery())
        stale = set(session.scalars(select(last.c.conversation_id).where(last.c.last < cutoff)))
        no_turns = ~select(Turn.id).where(Turn.conversation_id == Conversation.id).exists()
        stale |= set(session.scalars(select(Conversation.id).where(Conversation.created_at < cutoff, no_turns)))
        never = ~select(Conversation.id).where(Conversation.id == ApiThread.thread_id).exists()
        stale |= set(session.scalars(select(ApiThread.thread_id).where(ApiThread.created_at < cutoff, never)))
        return sorted(stale)


def recorded_threads(store: Store) -> set[str]:
    with store.session() as session:
        return set(session.scalars(select(Conversation.id)))

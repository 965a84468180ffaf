"""Threads: create, read, delete (transcript and memory), history, feedback on a turn."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from supportgraph.agents.memory import forget_thread
from supportgraph.api.auth import Principal, principal, store_of, visible_thread
from supportgraph.api.errors import ApiError, not_found
from supportgraph.api.models import (
    ErrorBody,
    FeedbackBody,
    FeedbackOut,
    HistoryItem,
    Thread,
    ThreadCreate,
    TurnValues,
)
from supportgraph.store import FeedbackIn, Store
from supportgraph.store.threads import create_thread, thread_busy, thread_owner

ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 404, 409, 422, 429)}
router = APIRouter(tags=["threads"], responses=ERRORS)


def thread_view(store: Store, thread_id: str, owner) -> Thread:
    conversation = store.conversation(thread_id)
    created = owner.created_at if owner else conversation.created_at
    updated = conversation.turns[-1].created_at if conversation and conversation.turns else created
    return Thread(thread_id=thread_id, created_at=created, updated_at=updated,
                  metadata=(owner.meta if owner else {}) or {}, end_user=owner.end_user if owner else None,
                  status="busy" if thread_busy(store, thread_id) else "idle")


def new_thread(store: Store, caller: Principal, body: ThreadCreate) -> Thread:
    thread_id = body.thread_id or uuid.uuid4().hex
    owner = create_thread(store, thread_id, caller.tenant, caller.end_user, caller.key.id, body.metadata)
    if owner is None:
        existing = thread_owner(store, thread_id)
        if body.if_exists == "do_nothing" and caller.may_see(existing, False):
            return thread_view(store, thread_id, existing)
        raise ApiError(409, "thread_exists", f"Thread {thread_id} already exists.",
                       "leave thread_id out to get a new one, or send if_exists=do_nothing to reuse your own.")
    return thread_view(store, thread_id, owner)


@router.post("/threads", response_model=Thread, summary="Create a thread")
async def create(request: Request, body: ThreadCreate | None = None, caller: Principal = Depends(principal)) -> Thread:
    return await run_in_threadpool(new_thread, store_of(request), caller, body or ThreadCreate())


@router.get("/threads/{thread_id}", response_model=Thread, summary="Get a thread")
def get(request: Request, thread_id: str, caller: Principal = Depends(principal)) -> Thread:
    store = store_of(request)
    return thread_view(store, thread_id, visible_thread(store, caller, thread_id))


@router.delete("/threads/{thread_id}", status_code=204, summary="Delete a thread: its transcript and its memory")
def delete(request: Request, thread_id: str, caller: Principal = Depends(principal)) -> Response:
    agent = request.app.state.agent
    visible_thread(agent.store, caller, thread_id)
    forget_thread(agent.memory, agent.store, thread_id, agent.settings.turn_lease_s)
    return Response(status_code=204)


@router.get("/threads/{thread_id}/history", response_model=list[HistoryItem],
            summary="The thread's turns, newest first")
def history(request: Request, thread_id: str, limit: int = Query(default=50, ge=1, le=500),
            caller: Principal = Depends(principal)) -> list[HistoryItem]:
    store = store_of(request)
    visible_thread(store, caller, thread_id)
    conversation = store.conversation(thread_id)
    turns = list(reversed(conversation.turns))[:limit] if conversation else []
    return [HistoryItem(
        values=TurnValues(message=t.customer_message, reply=t.reply, outcome=t.outcome, summary=t.summary,
                          citations=t.citations),
        metadata={"turn_id": t.id, "kb_version": t.kb_version,
                  "feedback": None if t.feedback is None else
                  {"thumb": t.feedback.thumb, "stars": t.feedback.stars, "comment": t.feedback.comment}},
        created_at=t.created_at, checkpoint={"thread_id": thread_id, "checkpoint_id": t.checkpoint_id})
        for t in turns]


@router.post("/threads/{thread_id}/turns/{turn_id}/feedback", response_model=FeedbackOut,
             summary="Rate a turn (thumb, stars, comment); fields left out keep their value")
def feedback(request: Request, thread_id: str, turn_id: int, body: FeedbackBody,
             caller: Principal = Depends(principal)) -> FeedbackOut:
    store = store_of(request)
    visible_thread(store, caller, thread_id)
    conversation = store.conversation(thread_id)
    if conversation is None or all(t.id != turn_id for t in conversation.turns):
        raise not_found(f"Turn {turn_id} of thread {thread_id}")
    row = store.save_feedback(FeedbackIn(turn_id=turn_id, **body.model_dump()))
    return FeedbackOut(turn_id=turn_id, thumb=row.thumb, stars=row.stars, comment=row.comment)

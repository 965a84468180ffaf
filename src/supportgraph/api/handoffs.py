"""Handoff endpoints for staff keys: the inbox over HTTP, for a helpdesk that lets its people answer in the
customer's thread. A staff key is a tenant's, not a person's: each action names the staff account acting
(``as``), which must have the role agent or reviewer, exactly as on the Inbox page and the CLI."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from supportgraph.agents.handoff import MAX_REPLY_CHARS, HandoffDesk
from supportgraph.api.auth import Principal, staff, visible_thread
from supportgraph.api.errors import not_found
from supportgraph.api.threads import ERRORS
from supportgraph.errors import NotFoundError
from supportgraph.store.handoffs import HandoffInfo, get_handoff, handoff_queue
from supportgraph.store.threads import thread_owner

router = APIRouter(tags=["handoffs"], responses=ERRORS | {403: ERRORS[401]})
Staffer = Field(alias="as", min_length=1, max_length=64, description="The staff account acting (role agent or reviewer).")


class HandoffOut(BaseModel):
    id: int
    thread_id: str
    status: str = Field(description="queued | claimed | released | closed")
    reason: str
    note: str
    details: dict
    created_at: dt.datetime
    claimed_by: str | None
    first_reply_at: dt.datetime | None
    first_reply_s: float | None = Field(description="Seconds from the handoff to the first human reply.")

    @classmethod
    def of(cls, handoff: HandoffInfo) -> HandoffOut:
        return cls(first_reply_s=handoff.first_reply_s, **handoff.model_dump(
            include={"id", "thread_id", "status", "reason", "note", "details", "created_at", "claimed_by",
                     "first_reply_at"}))


class ActAs(BaseModel):
    staffer: str = Staffer


class ReplyBody(ActAs):
    text: str = Field(min_length=1, max_length=MAX_REPLY_CHARS)


class ReplyOut(BaseModel):
    turn_id: int
    text: str = Field(description="As the customer sees it: redacted and checked by the output guard.")
    flags: list[str]


def _desk(request: Request) -> HandoffDesk:
    agent = request.app.state.agent
    return HandoffDesk(agent.store, agent.brief)


def _visible(request: Request, caller: Principal, handoff_id: int) -> HandoffInfo:
    """The handoff, if its thread is the caller's tenant's; else 404 (as for threads)."""
    store = request.app.state.agent.store
    try:
        handoff = get_handoff(store, handoff_id)
        visible_thread(store, caller, handoff.thread_id)
    except NotFoundError:
        raise not_found(f"Handoff {handoff_id}") from None
    return handoff


@router.get("/handoffs", response_model=list[HandoffOut], summary="Open handoffs of your tenant, oldest first")
def list_handoffs(request: Request, caller: Principal = Depends(staff)) -> list[HandoffOut]:
    store = request.app.state.agent.store
    return [HandoffOut.of(h) for h in handoff_queue(store)
            if caller.may_see(thread_owner(store, h.thread_id), True)]


@router.get("/handoffs/{handoff_id}", response_model=HandoffOut, summary="One handoff (its transcript: the "
            "thread's history)")
def show(request: Request, handoff_id: int, caller: Principal = Depends(staff)) -> HandoffOut:
    return HandoffOut.of(_visible(request, caller, handoff_id))


@router.post("/handoffs/{handoff_id}/claim", response_model=HandoffOut,
             summary="Claim a queued handoff: the bot stays silent in the thread until it is released")
def claim(request: Request, handoff_id: int, body: ActAs, caller: Principal = Depends(staff)) -> HandoffOut:
    _visible(request, caller, handoff_id)
    return HandoffOut.of(_desk(request).claim(handoff_id, body.staffer))


@router.post("/handoffs/{handoff_id}/reply", response_model=ReplyOut,
             summary="Reply in the customer's thread as the person who claimed it")
def reply(request: Request, handoff_id: int, body: ReplyBody, caller: Principal = Depends(staff)) -> ReplyOut:
    _visible(request, caller, handoff_id)
    sent = _desk(request).reply(handoff_id, body.staffer, body.text)
    return ReplyOut(turn_id=sent.turn_id, text=sent.text, flags=sent.flags)


@router.post("/handoffs/{handoff_id}/release", response_model=HandoffOut, summary="Hand the thread back to the bot")
def release(request: Request, handoff_id: int, body: ActAs, caller: Principal = Depends(staff)) -> HandoffOut:
    _visible(request, caller, handoff_id)
    return HandoffOut.of(_desk(request).release(handoff_id, body.staffer))


@router.post("/handoffs/{handoff_id}/close", response_model=HandoffOut, summary="Close the conversation (resolved)")
def close(request: Request, handoff_id: int, body: ActAs, caller: Principal = Depends(staff)) -> HandoffOut:
    _visible(request, caller, handoff_id)
    return HandoffOut.of(_desk(request).close(handoff_id, body.staffer))

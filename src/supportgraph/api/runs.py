"""Runs: one turn of a thread, waited for (``/runs/wait``) or streamed as server-sent events
(``/runs/stream``). Events: ``metadata`` (run id), ``step`` per graph step, ``reply``,
``citation`` per cited article, ``escalation`` when a person takes over, ``error``, then ``end``;
a ``: ping`` comment every SUPPORTGRAPH_SSE_PING_S keeps proxies from closing an idle stream.

A second message while a turn runs on the same thread, on any replica: ``multitask_strategy``
``reject`` (the default) answers 409 with Retry-After; ``enqueue`` waits for the running turn (up
to SUPPORTGRAPH_TURN_WAIT_S) and then runs. The claim is a row in the shared database.
"""

from __future__ import annotations

import json
import logging
import uuid

from fastapi import APIRouter, Depends, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from supportgraph.agents.service import StepEvent, TurnResult
from supportgraph.api.auth import Principal, principal, visible_thread
from supportgraph.api.errors import ApiError, from_support_error, not_found
from supportgraph.api.models import ASSISTANT_ID, RunCreate, RunOutput, ThreadCreate
from supportgraph.api.threads import ERRORS, new_thread
from supportgraph.errors import SupportGraphError

log = logging.getLogger("supportgraph.api")
router = APIRouter(tags=["runs"], responses=ERRORS)
STREAM_DOC = {200: {"content": {"text/event-stream": {}}, "description": "Server-sent events: metadata, step, "
                    "reply, citation, escalation, error, end."}}


def run_output(run_id: str, result: TurnResult) -> RunOutput:
    return RunOutput(run_id=run_id, thread_id=result.thread_id, turn_id=result.turn_id, outcome=result.outcome,
                     reply=result.answer, summary=result.summary, steps=result.steps, citations=result.citations,
                     handoff=result.handoff, kb_version=result.kb_version, latency_ms=result.latency_ms,
                     experiment=result.experiment)


def run_thread(request: Request, caller: Principal, thread_id: str | None, body: RunCreate) -> str:
    """Check the assistant and the thread (creating it when asked, or a new one for a stateless run); its id."""
    agent = request.app.state.agent
    if body.assistant_id != ASSISTANT_ID:
        raise ApiError(404, "not_found", f"Assistant '{body.assistant_id}' does not exist.",
                       f"use assistant_id '{ASSISTANT_ID}' (POST /assistants/search lists it).")
    if thread_id is None:
        thread_id = new_thread(agent.store, caller, ThreadCreate()).thread_id
    else:
        try:
            visible_thread(agent.store, caller, thread_id)
        except ApiError:
            if body.if_not_exists != "create":
                raise not_found(f"Thread {thread_id}") from None
            new_thread(agent.store, caller, ThreadCreate(thread_id=thread_id))
    return thread_id


def _prepare(request: Request, caller: Principal, thread_id: str | None, body: RunCreate):
    """Check the assistant and the thread (creating it when asked); the turn's iterator, not started."""
    agent = request.app.state.agent
    thread_id = run_thread(request, caller, thread_id, body)
    wait_s = agent.settings.turn_wait_s if body.multitask_strategy == "enqueue" else 0.0
    return agent.ask_stream(body.input.text(), thread_id, channel="api", wait_s=wait_s)


def _wait(request: Request, caller: Principal, thread_id: str | None, body: RunCreate) -> RunOutput:
    result = None
    for result in _prepare(request, caller, thread_id, body):
        pass
    return run_output(uuid.uuid4().hex, result)


@router.post("/threads/{thread_id}/runs/wait", response_model=RunOutput, summary="Run a turn and wait for the reply")
def wait(request: Request, thread_id: str, body: RunCreate, caller: Principal = Depends(principal)) -> RunOutput:
    return _wait(request, caller, thread_id, body)


@router.post("/runs/wait", response_model=RunOutput, summary="Run a turn on a new thread and wait for the reply")
def wait_stateless(request: Request, body: RunCreate, caller: Principal = Depends(principal)) -> RunOutput:
    return _wait(request, caller, None, body)


def _sse(event: str, data: dict) -> dict:
    return {"event": event, "data": json.dumps(data, ensure_ascii=False)}


def _events_of(item: StepEvent | TurnResult, run_id: str) -> list[dict]:
    if isinstance(item, StepEvent):
        return [_sse("step", {"node": item.node, "ms": item.ms})]
    output = run_output(run_id, item).model_dump(mode="json", exclude={"citations"})
    events = [_sse("reply", output)]
    events += [_sse("citation", citation.model_dump()) for citation in item.citations]
    if item.outcome == "escalated":
        events.append(_sse("escalation", {"turn_id": item.turn_id, "handoff": item.handoff}))
    return events


async def _stream(request: Request, caller: Principal, thread_id: str | None, body: RunCreate):
    run_id = uuid.uuid4().hex
    turn = await run_in_threadpool(_prepare, request, caller, thread_id, body)
    first = await run_in_threadpool(next, turn, None)  # claims the thread: busy is a 409 before streaming starts
    settings = request.app.state.agent.settings

    async def events():
        item, status = first, "success"
        try:
            yield _sse("metadata", {"run_id": run_id, "thread_id": getattr(item, "thread_id", thread_id)})
            while item is not None:
                for event in _events_of(item, run_id):
                    yield event
                if isinstance(item, TurnResult):
                    break
                item = await run_in_threadpool(next, turn, None)
        except SupportGraphError as error:
            status, api_error = "error", from_support_error(error)
            yield _sse("error", {"code": api_error.code, "message": api_error.message, "fix": api_error.fix})
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception("streamed run %s failed (reference %s)", run_id, reference)
            status = "error"
            yield _sse("error", {"code": "internal", "message": f"The run failed (reference {reference}).",
                                 "fix": "send the message again; if it keeps failing, give the operator "
                                        "this reference."})
        finally:
            turn.close()  # a client that left abandons the turn: nothing is recorded
        yield _sse("end", {"run_id": run_id, "status": status,
                           "turn_id": item.turn_id if isinstance(item, TurnResult) else None})

    return EventSourceResponse(events(), ping=settings.sse_ping_s,
                               headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/threads/{thread_id}/runs/stream", summary="Run a turn, streaming its steps as server-sent events",
             responses=STREAM_DOC)
async def stream(request: Request, thread_id: str, body: RunCreate, caller: Principal = Depends(principal)):
    return await _stream(request, caller, thread_id, body)


@router.post("/runs/stream", summary="Run a turn on a new thread, streamed", responses=STREAM_DOC)
async def stream_stateless(request: Request, body: RunCreate, caller: Principal = Depends(principal)):
    return await _stream(request, caller, None, body)

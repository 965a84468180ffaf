"""Background runs (Agent Protocol): ``POST /threads/{id}/runs`` accepts a turn and answers the Run at
once; a worker of any replica runs it (api/run_worker.py). The Run is then read, listed, joined (waited
for, answering what ``/runs/wait`` answers), cancelled while pending, deleted once finished.

The message is stored repaired and redacted, like every stored message; the same visibility rules as
threads apply (another end user's or tenant's run answers 404, whatever its id).
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from supportgraph.agents.guardrails import redact_message
from supportgraph.api.auth import Principal, principal, visible_thread
from supportgraph.api.errors import ApiError, from_support_error, not_found
from supportgraph.api.models import Run, RunCreate, RunError, RunOutput
from supportgraph.api.runs import run_thread
from supportgraph.api.threads import ERRORS
from supportgraph.errors import ThreadBusyError
from supportgraph.store.runs import (
    FINISHED,
    RunInfo,
    add_run,
    cancel_run,
    delete_run,
    get_run,
    has_unfinished_run,
    list_runs,
)
from supportgraph.store.threads import thread_busy

router = APIRouter(tags=["background runs"], responses=ERRORS)
# A join is woken the moment a run ends in this process (RunEndings); a run another replica runs is
# seen by looking at the store, soon at first and then less often, so a waiting client costs little.
JOIN_FIRST_LOOK_S, JOIN_LOOK_MAX_S = 0.1, 1.0


def run_view(run: RunInfo) -> Run:
    return Run(run_id=run.run_id, thread_id=run.thread_id, assistant_id=run.assistant_id, status=run.status,
               created_at=run.created_at, updated_at=run.updated_at, metadata=run.meta,
               multitask_strategy=run.multitask_strategy, attempts=run.attempts, turn_id=run.turn_id,
               error=RunError(**run.error) if run.error else None)


def _accept(request: Request, caller: Principal, thread_id: str, body: RunCreate) -> Run:
    agent = request.app.state.agent
    thread_id = run_thread(request, caller, thread_id, body)
    if body.multitask_strategy == "reject" and (has_unfinished_run(agent.store, thread_id)
                                                or thread_busy(agent.store, thread_id)):
        raise from_support_error(ThreadBusyError(thread_id, 1.0))
    text, flags = redact_message(body.input.text(), agent.brief.limits.max_message_chars)
    run = add_run(agent.store, thread_id, tenant=caller.tenant, end_user=caller.end_user,
                  assistant_id=body.assistant_id, message=text, input_flags=flags, metadata=body.metadata,
                  multitask_strategy=body.multitask_strategy)
    worker = getattr(request.app.state, "run_worker", None)
    if worker is not None:
        worker.wake()
    return run_view(run)


def _visible_run(request: Request, caller: Principal, thread_id: str, run_id: str) -> RunInfo:
    store = request.app.state.agent.store
    visible_thread(store, caller, thread_id)
    run = get_run(store, thread_id, run_id)
    if run is None:
        raise not_found(f"Run {run_id} of thread {thread_id}")
    return run


@router.post("/threads/{thread_id}/runs", response_model=Run,
             summary="Accept a turn to run in the background; answers the pending Run at once")
def create(request: Request, thread_id: str, body: RunCreate, caller: Principal = Depends(principal)) -> Run:
    return _accept(request, caller, thread_id, body)


@router.get("/threads/{thread_id}/runs", response_model=list[Run], summary="The thread's runs, newest first")
def runs(request: Request, thread_id: str, limit: int = Query(default=10, ge=1, le=100),
         offset: int = Query(default=0, ge=0),
         status: Literal["pending", "running", "success", "error", "interrupted"] | None = None,
         caller: Principal = Depends(principal)) -> list[Run]:
    store = request.app.state.agent.store
    visible_thread(store, caller, thread_id)
    return [run_view(run) for run in list_runs(store, thread_id, limit, offset, status)]


@router.get("/threads/{thread_id}/runs/{run_id}", response_model=Run, summary="A run and its status")
def get(request: Request, thread_id: str, run_id: str, caller: Principal = Depends(principal)) -> Run:
    return run_view(_visible_run(request, caller, thread_id, run_id))


@router.get("/threads/{thread_id}/runs/{run_id}/join", response_model=RunOutput,
            summary="Wait for the run to end (up to SUPPORTGRAPH_RUN_JOIN_S) and answer what /runs/wait answers")
async def join(request: Request, thread_id: str, run_id: str, caller: Principal = Depends(principal)) -> RunOutput:
    endings = request.app.state.run_endings
    ended = endings.watch(run_id)  # before the first read: an ending in between is not missed
    try:
        run = await _wait_for_end(request, caller, thread_id, run_id, ended)
    finally:
        endings.forget(run_id, ended)
    if run.status == "success":
        return RunOutput(**run.output)
    if run.status == "error":
        error = run.error
        raise ApiError(error["status"], error["code"], error["message"], error["fix"])
    if run.status == "interrupted":
        raise ApiError(409, "run_cancelled", f"Run {run_id} was cancelled before it started.",
                       "send the message again as a new run.")
    raise ApiError(409, "run_not_finished", f"Run {run_id} is still {run.status}.",
                   "join it again (Retry-After), or poll GET .../runs/{run_id}.", {"Retry-After": "1"})


async def _wait_for_end(request: Request, caller: Principal, thread_id: str, run_id: str,
                        ended: asyncio.Event) -> RunInfo:
    """The run once it ended, or as it is at the join's deadline. No thread is held while waiting."""
    run = await run_in_threadpool(_visible_run, request, caller, thread_id, run_id)
    store = request.app.state.agent.store
    deadline = time.monotonic() + request.app.state.agent.settings.run_join_s
    look = JOIN_FIRST_LOOK_S
    while run.status not in FINISHED and (left := deadline - time.monotonic()) > 0:
        try:
            await asyncio.wait_for(ended.wait(), timeout=min(look, left))
        except TimeoutError:
            look = min(2 * look, JOIN_LOOK_MAX_S)
        ended.clear()
        run = await run_in_threadpool(get_run, store, thread_id, run_id) or run
    return run


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", response_model=Run,
             summary="Cancel a run that has not started (it ends `interrupted`)")
def cancel(request: Request, thread_id: str, run_id: str, caller: Principal = Depends(principal)) -> Run:
    run = _visible_run(request, caller, thread_id, run_id)
    store = request.app.state.agent.store
    if not cancel_run(store, thread_id, run_id):
        now = get_run(store, thread_id, run_id) or run
        raise ApiError(409, "run_not_pending", f"Run {run_id} is {now.status}: only a pending run can be cancelled.",
                       "join it for its reply; a running turn is not interrupted.")
    request.app.state.run_endings.ended(run_id)
    return run_view(get_run(store, thread_id, run_id))


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204, summary="Delete a finished run")
def delete(request: Request, thread_id: str, run_id: str, caller: Principal = Depends(principal)) -> Response:
    run = _visible_run(request, caller, thread_id, run_id)
    if not delete_run(request.app.state.agent.store, thread_id, run_id):
        raise ApiError(409, "run_not_finished", f"Run {run_id} is {run.status}: only a finished run can be deleted.",
                       "cancel it first if it is pending, or join it and delete it once it ended.")
    return Response(status_code=204)

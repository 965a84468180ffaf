"""The worker that executes background runs: ``run_workers`` threads per serving process, each taking the
next runnable run of any replica from the store (store/runs.py) and running it through the agent exactly
as ``/runs/wait`` does: the same ``ask_stream`` (guardrails, the thread's claim, transcript, memory).

How a run ends: ``success`` with the same output ``/runs/wait`` answers (a guardrail refusal is a
successful turn whose reply is the refusal); ``error`` with the code, message and fix ``/runs/wait``
would have answered, never a traceback. A thread busy with a turn from outside the queue gives the run
back for a moment. A run whose worker died is started again by the next worker that looks; one that
was started ``run_max_attempts`` times is given up as an error.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid

from supportgraph.agents.service import Citation, StepEvent, TurnResult
from supportgraph.api.errors import from_support_error
from supportgraph.api.models import RunOutput
from supportgraph.api.runs import run_output
from supportgraph.errors import SupportGraphError, ThreadBusyError
from supportgraph.store.models import Turn
from supportgraph.store.runs import (
    FINISHED,
    RunInfo,
    claim_next_run,
    finish_run,
    put_back,
    renew_run,
    turn_recorded_since,
)
from supportgraph.store.threads import new_owner

log = logging.getLogger("supportgraph.api")
BUSY_RETRY_S = 1.0  # a thread busy with a /runs/wait turn: look again this soon


def _error(status: int, code: str, message: str, fix: str) -> dict:
    return {"status": status, "code": code, "message": message, "fix": fix}


def _output_of_turn(run: RunInfo, turn: Turn) -> dict:
    """What a dead worker's recorded turn answered, from the transcript (which keeps no steps and no
    citation types): the run is not answered a second time."""
    citations = [Citation(id=c["id"], title=c.get("title", ""), type="") for c in turn.citations or []]
    return RunOutput(run_id=run.run_id, thread_id=run.thread_id, turn_id=turn.id, outcome=turn.outcome,
                     reply=turn.reply, summary=turn.summary, steps=[], citations=citations,
                     kb_version=turn.kb_version, latency_ms=turn.latency_ms).model_dump(mode="json")


def execute(agent, run: RunInfo, owner: str) -> str:
    """Run one claimed run to its end; the status it ended with ("pending" when given back)."""
    store, settings = agent.store, agent.settings
    if run.attempts > 1:  # its last worker died: was the turn recorded before it did?
        # Since its first start: the thread's earlier runs had all ended by then, so a turn of this
        # message after it is this run's (the same words sent earlier, by an earlier run, are not).
        turn = turn_recorded_since(store, run.thread_id, run.started_at, run.message)
        if turn is not None:
            finish_run(store, run.run_id, owner, status="success", turn_id=turn.id, output=_output_of_turn(run, turn))
            return "success"
        if run.attempts > settings.run_max_attempts:
            finish_run(store, run.run_id, owner, status="error", error=_error(
                500, "run_abandoned", f"The run was started {run.attempts - 1} times and its server stopped "
                f"each time.", "send the message again; if it keeps failing, the operator should read the "
                "servers' logs for this run id."))
            return "error"
    turn = agent.ask_stream(run.message, run.thread_id, channel="api", input_flags=run.input_flags)
    result: TurnResult | None = None
    try:
        for item in turn:
            if isinstance(item, StepEvent):
                if not renew_run(store, run.run_id, owner, settings.turn_lease_s):
                    log.warning("background run %s: its lease was lost; abandoning this attempt", run.run_id)
                    return "running"  # closing the turn records nothing; the new holder runs it
            else:
                result = item
    except ThreadBusyError:
        put_back(store, run.run_id, owner, BUSY_RETRY_S)
        return "pending"
    except SupportGraphError as failure:
        api_error = from_support_error(failure)
        finish_run(store, run.run_id, owner, status="error",
                   error=_error(api_error.status, api_error.code, api_error.message, api_error.fix))
        return "error"
    except Exception:
        reference = uuid.uuid4().hex[:12]
        log.exception("background run %s failed (reference %s)", run.run_id, reference)
        finish_run(store, run.run_id, owner, status="error", error=_error(
            500, "internal", f"The run failed (reference {reference}).",
            "send the message again; if it keeps failing, give the operator this reference."))
        return "error"
    finally:
        turn.close()
    output = run_output(run.run_id, result).model_dump(mode="json")
    finish_run(store, run.run_id, owner, status="success", turn_id=result.turn_id, output=output)
    return "success"


class RunEndings:
    """Wakes the joins waiting in this process as soon as a run ends here (its worker finished it, or it
    was cancelled). A run ended by another replica is seen at the join's next look at the store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def watch(self, run_id: str) -> asyncio.Event:
        """An event set when ``run_id`` ends; call from the waiting coroutine, ``forget`` it afterwards."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(run_id, set()).add(waiter)
        return waiter[1]

    def forget(self, run_id: str, event: asyncio.Event) -> None:
        with self._lock:
            waiters = self._waiters.get(run_id, set())
            waiters -= {w for w in waiters if w[1] is event}
            if not waiters:
                self._waiters.pop(run_id, None)

    def watching(self, run_id: str) -> int:
        """How many joins wait for ``run_id``."""
        with self._lock:
            return len(self._waiters.get(run_id, ()))

    def ended(self, run_id: str) -> None:
        """Called from any thread."""
        with self._lock:
            waiters = list(self._waiters.get(run_id, ()))
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)


class RunWorker:
    """``count`` threads that execute background runs until stopped. ``wake()`` makes an idle one look now
    (a run was just accepted here) instead of at its next poll; ``endings`` hears of every run it ends."""

    def __init__(self, agent, count: int, poll_s: float, endings: RunEndings | None = None) -> None:
        self.agent, self.count, self.poll_s = agent, count, poll_s
        self.endings = endings or RunEndings()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def run_once(self) -> str | None:
        """Take one runnable run and execute it; how it ended, or None when nothing was runnable."""
        owner = new_owner()
        run = claim_next_run(self.agent.store, owner, self.agent.settings.turn_lease_s)
        if run is None:
            return None
        status = execute(self.agent, run, owner)
        if status in FINISHED:
            self.endings.ended(run.run_id)
        return status

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.run_once() is not None:
                    continue
            except Exception:  # a database blip must not end the worker
                log.exception("background runs: one round failed; trying again")
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        for number in range(self.count):
            thread = threading.Thread(target=self._loop, name=f"supportgraph-runs-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop taking runs; a run still going after ``timeout_s`` is left to its lease (another worker redoes it)."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=timeout_s)

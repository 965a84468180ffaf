"""Staff endpoints for online experiments: the live results (which also run the guardrail check),
and start, stop, conclude (experiments/control.py decides; this only translates)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from supportgraph.api.auth import Principal, staff
from supportgraph.api.models import ConcludeBody, StopBody
from supportgraph.api.threads import ERRORS
from supportgraph.evals.experiments import ExperimentRecord
from supportgraph.experiments.control import conclude_experiment, start_experiment, stop_experiment
from supportgraph.experiments.live import LiveStatus, live_status, project_experiment_status

router = APIRouter(responses=ERRORS, tags=["experiments"])


def _by(caller: Principal) -> str:
    """Who stopped it, as the stop record names them: the staff key (its name and id, never its secret)."""
    return f"api key {caller.key.id} ({caller.key.name})"


@router.get("/experiments/{name}", response_model=LiveStatus,
            summary="Live results per variant, significance, sample-ratio check; stops a variant failing a guardrail")
async def experiment_status(request: Request, name: str, caller: Principal = Depends(staff)) -> LiveStatus:
    agent = request.app.state.agent
    return await run_in_threadpool(project_experiment_status, agent.settings.project_dir, agent.store, name)


@router.post("/experiments/{name}/start", response_model=LiveStatus,
             summary="Start serving the experiment to new conversations (edits experiments/NAME.yaml: commit it)")
async def start(request: Request, name: str, caller: Principal = Depends(staff)) -> LiveStatus:
    agent = request.app.state.agent

    def run() -> LiveStatus:
        return live_status(agent.store, start_experiment(agent.settings.project_dir, agent.store, name))

    return await run_in_threadpool(run)


@router.post("/experiments/{name}/stop", response_model=LiveStatus,
             summary="Stop the experiment: everyone returns to production; the stop is recorded with the key")
async def stop(request: Request, name: str, body: StopBody, caller: Principal = Depends(staff)) -> LiveStatus:
    agent = request.app.state.agent
    return await run_in_threadpool(stop_experiment, agent.settings.project_dir, agent.store, name, body.reason,
                                   _by(caller))


@router.post("/experiments/{name}/conclude", response_model=ExperimentRecord,
             summary="Promote the winner, archive the loser, log the learning; 409 without significance unless forced")
async def conclude(request: Request, name: str, body: ConcludeBody, caller: Principal = Depends(staff)) \
        -> ExperimentRecord:
    agent = request.app.state.agent
    return await run_in_threadpool(conclude_experiment, agent.settings.project_dir, agent.store, name, body.learning,
                                   body.winner, body.force)

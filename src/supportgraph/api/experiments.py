"""Staff endpoints for online experiments: the live results (which also run the guardrail check)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from supportgraph.api.auth import Principal, staff
from supportgraph.api.threads import ERRORS
from supportgraph.experiments.live import LiveStatus, project_experiment_status

router = APIRouter(responses=ERRORS)


@router.get("/experiments/{name}", response_model=LiveStatus, tags=["experiments"],
            summary="Live results per variant, significance, sample-ratio check; stops a variant failing a guardrail")
async def experiment_status(request: Request, name: str, caller: Principal = Depends(staff)) -> LiveStatus:
    agent = request.app.state.agent
    return await run_in_threadpool(project_experiment_status, agent.settings.project_dir, agent.store, name)

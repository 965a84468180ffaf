"""The FastAPI application: routers, error handlers, the web chat page, and the lifespan that warms
the agent up once and runs the webhook sender and the background-run workers."""

from __future__ import annotations

import contextlib
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from supportgraph.api import background, errors, experiments, handoffs, runs, staff, threads
from supportgraph.config import Settings

STATIC = Path(__file__).with_name("static")
# The chat page loads nothing from elsewhere and may be framed by any site (it is the embed).
WIDGET_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
              "base-uri 'none'; form-action 'none'")
DESCRIPTION = """Customer-support agent over HTTP. Threads and runs follow LangGraph's Agent Protocol where it fits.

Authenticate with `X-Api-Key: sgk_...` (`supportgraph keys create`). A **chat** key speaks for one end user per
request (`X-End-User`) and sees only that end user's threads; a **staff** key sees its tenant's threads and edits
the knowledge base. Errors are `{"error": {"code", "message", "fix"}}`. Over a limit: 429 with `Retry-After`.
The embeddable chat page is at `/widget/?key=<chat key>`."""


class SecurityHeaders:
    """nosniff on every response; the chat page's content security policy. Pure ASGI, so streamed
    runs pass through untouched (no buffering)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        widget = scope["path"].startswith("/widget")

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                if widget:
                    headers += [(b"content-security-policy", WIDGET_CSP.encode()), (b"referrer-policy", b"no-referrer")]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(settings: Settings | None = None, agent=None, *, send_webhooks: bool = True) -> FastAPI:
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        from supportgraph.agents.service import SupportAgent

        running = agent or SupportAgent(settings)
        await run_in_threadpool(running.warm_up)
        app.state.agent = running
        sender = None
        if send_webhooks:
            from supportgraph.api.webhooks import WebhookSender

            sender = WebhookSender(settings, running.store)
            sender.start()
        from supportgraph.api.run_worker import RunEndings, RunWorker

        endings = app.state.run_endings = RunEndings()
        worker = None
        if settings.run_workers:
            worker = app.state.run_worker = RunWorker(running, settings.run_workers, settings.run_poll_s, endings)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await run_in_threadpool(worker.stop)
            if sender is not None:
                await run_in_threadpool(sender.stop)
            if agent is None:
                running.close()

    app = FastAPI(title="supportgraph", version="1", description=DESCRIPTION, lifespan=lifespan,
                  docs_url="/docs", redoc_url=None, openapi_url="/openapi.json")
    errors.install(app)
    app.include_router(threads.router)
    app.include_router(runs.router)
    app.include_router(background.router)
    app.include_router(staff.router)
    app.include_router(experiments.router)
    app.include_router(handoffs.router)

    @app.get("/ok", tags=["health"], summary="Health: the agent is loaded and the store answers")
    def ok(request: Request) -> dict:
        agent_ = request.app.state.agent
        return {"ok": True, "kb_version": agent_.retriever.kb_version}

    app.add_middleware(SecurityHeaders)
    app.mount("/widget", StaticFiles(directory=STATIC, html=True), name="widget")
    return app


def app_from_env() -> FastAPI:
    """The factory `supportgraph serve` hands uvicorn: settings from SUPPORTGRAPH_* variables."""
    return create_app(Settings())

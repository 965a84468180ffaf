"""Errors at the edge: one JSON shape, ``{"error": {"code", "message", "fix"}}``, never a traceback."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from supportgraph.errors import (
    ConfigError,
    ExperimentStateError,
    HandoffError,
    IndexBusyError,
    IndexConflictError,
    IndexNotBuiltError,
    KnowledgeError,
    NotFoundError,
    ReplyRejectedError,
    StoreError,
    SupportGraphError,
    ThreadBusyError,
)

log = logging.getLogger("supportgraph.api")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fix: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fix, self.headers = status, code, message, fix, headers or {}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} was not found.",
                    "check the id; a chat key only sees the threads of the end user it names (X-End-User).")


def body(code: str, message: str, fix: str) -> dict:
    return {"error": {"code": code, "message": message, "fix": fix}}


# SupportGraphError kinds -> (HTTP status, code).
STATUS = [(ThreadBusyError, 409, "thread_busy"), (IndexBusyError, 409, "index_busy"),
          (IndexConflictError, 409, "index_conflict"),
          (NotFoundError, 404, "not_found"), (KnowledgeError, 422, "invalid_article"),
          (IndexNotBuiltError, 503, "index_not_built"), (StoreError, 503, "store_unavailable"),
          (ExperimentStateError, 409, "experiment_conflict"), (ConfigError, 400, "invalid_request"), (HandoffError, 409, "handoff_conflict"),
          (ReplyRejectedError, 422, "reply_rejected")]


def from_support_error(error: SupportGraphError) -> ApiError:
    status, code = next(((s, c) for kind, s, c in STATUS if isinstance(error, kind)), (500, "error"))
    headers = {}
    if isinstance(error, ThreadBusyError):
        headers["Retry-After"] = str(max(1, round(error.retry_after_s)))
    return ApiError(status, code, error.message, error.fix or "", headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(body(error.code, error.message, error.fix), status_code=error.status,
                            headers=error.headers)

    @app.exception_handler(SupportGraphError)
    async def _support_error(request: Request, error: SupportGraphError) -> JSONResponse:
        return await _api_error(request, from_support_error(error))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        return JSONResponse(body("invalid_request", "The request is not valid: " + "; ".join(problems) + ".",
                                 "fix the fields named above; the schemas are at /docs."), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        fixes = {404: "see /docs for the endpoints.", 405: "see /docs for the methods each endpoint takes."}
        return JSONResponse(body("http_error", str(error.detail), fixes.get(error.status_code, "see /docs.")),
                            status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        reference = uuid.uuid4().hex[:12]
        log.exception("unexpected error %s on %s %s", reference, request.method, request.url.path)
        return JSONResponse(body("internal", f"The server failed to answer (reference {reference}).",
                                 "retry; if it keeps failing, give the operator this reference "
                                 "(it is in the server log)."), status_code=500)

"""Who is calling: an API key (X-Api-Key, or Authorization: Bearer), the end user it speaks for
(X-End-User), and the rate limits of both, counted in the shared database.

A chat key acts for one end user per request and sees only that end user's threads; a staff key
sees every thread of its tenant. Threads of another tenant, or of another end user, answer 404
(not 403), so their existence is not revealed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from supportgraph.api.errors import ApiError, not_found
from supportgraph.store import Store
from supportgraph.store.api_models import ApiThread
from supportgraph.store.keys import KeyInfo, authenticate_key
from supportgraph.store.ratelimit import hit
from supportgraph.store.threads import thread_owner
from supportgraph.store.webhooks import DEFAULT_TENANT

END_USER = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
api_key_header = APIKeyHeader(name="X-Api-Key", auto_error=False, description="sgk_... (`supportgraph keys create`)")
bearer = HTTPBearer(auto_error=False, description="The same key as a bearer token.")
end_user_header = APIKeyHeader(name="X-End-User", auto_error=False, scheme_name="EndUser",
                               description="Who the customer is, for chat keys: your user id, or the random id "
                                           "the web chat keeps in the browser.")


@dataclass(frozen=True)
class Principal:
    key: KeyInfo
    end_user: str | None

    @property
    def tenant(self) -> str:
        return self.key.tenant

    @property
    def staff(self) -> bool:
        return self.key.scope == "staff"

    def may_see(self, owner: ApiThread | None, recorded: bool) -> bool:
        """Whether this caller may read or continue a thread (owner None: started outside the API)."""
        if owner is None:
            return self.staff and recorded and self.tenant == DEFAULT_TENANT
        return owner.tenant == self.tenant and (self.staff or owner.end_user == self.end_user)


def store_of(request: Request) -> Store:
    return request.app.state.agent.store


def _limited(what: str, retry_after: int, limit: int) -> ApiError:
    return ApiError(429, "rate_limited", f"Too many requests for {what} ({limit} a minute).",
                    f"wait {retry_after} s (Retry-After) and send it again.",
                    {"Retry-After": str(retry_after), "RateLimit-Limit": str(limit), "RateLimit-Remaining": "0"})


def _authenticate(store: Store, presented: str | None, end_user: str | None) -> Principal:
    if not presented:
        raise ApiError(401, "unauthenticated", "No API key was sent.",
                       "send your key in the X-Api-Key header (create one with `supportgraph keys create`).",
                       {"WWW-Authenticate": "Bearer"})
    key = authenticate_key(store, presented)
    if key is None:
        raise ApiError(401, "unauthenticated", "The API key is not valid (unknown or revoked).",
                       "check the key; the operator lists live keys with `supportgraph keys list`.",
                       {"WWW-Authenticate": "Bearer"})
    if end_user is not None and not END_USER.match(end_user):
        raise ApiError(400, "invalid_end_user", "X-End-User is not a valid end-user id.",
                       "send 1 to 128 characters of A-Z a-z 0-9 . _ : @ -.")
    if key.scope == "chat" and end_user is None:
        raise ApiError(400, "end_user_required", "A chat key speaks for one end user, and none was named.",
                       "send the customer's id in the X-End-User header.")
    left, reset = hit(store, f"key:{key.id}", key.rate_per_minute)
    if left < 0:
        raise _limited("this API key", reset, key.rate_per_minute)
    if end_user is not None:
        left, reset = hit(store, f"user:{key.id}:{end_user}", key.end_user_rate_per_minute)
        if left < 0:
            raise _limited("this end user", reset, key.end_user_rate_per_minute)
    return Principal(key, end_user)


async def principal(request: Request, api_key: str | None = Security(api_key_header),
                    credentials: HTTPAuthorizationCredentials | None = Security(bearer),
                    end_user: str | None = Security(end_user_header)) -> Principal:
    presented = api_key or (credentials.credentials if credentials else None)
    return await run_in_threadpool(_authenticate, store_of(request), presented, end_user)


async def staff(caller: Principal = Depends(principal)) -> Principal:
    if not caller.staff:
        raise ApiError(403, "forbidden", "This endpoint needs a staff key.",
                       "use a key created with `supportgraph keys create --scope staff`.")
    return caller


def visible_thread(store: Store, caller: Principal, thread_id: str) -> ApiThread | None:
    """The thread's owner row (None for a thread started outside the API) when the caller may see it; else 404."""
    from supportgraph.store.models import Conversation

    owner = thread_owner(store, thread_id)
    with store.session() as session:
        recorded = session.get(Conversation, thread_id) is not None
    if owner is None and not recorded:
        raise not_found(f"Thread {thread_id}")
    if not caller.may_see(owner, recorded):
        raise not_found(f"Thread {thread_id}")
    return owner

"""API keys: one per tenant's app, scoped, stored as a SHA-256 of the secret, shown once.

A key reads ``sgk_<id>_<secret>``: the id finds the row, the secret is compared by hash in
constant time. The secret is 256 random bits, so a fast hash is enough (bcrypt is for passwords
people choose); looking a key up costs one primary-key read on every replica, and a revoked key
stops working everywhere at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from supportgraph.errors import ConfigError, NotFoundError
from supportgraph.store.api_models import ApiKey
from supportgraph.store.models import utcnow
from supportgraph.store.repository import Store

Scope = Literal["chat", "staff"]
SCOPES: tuple[str, ...] = ("chat", "staff")
PREFIX = "sgk"


class KeyInfo(BaseModel):
    """What a key may do; never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant: str
    name: str
    scope: Scope
    rate_per_minute: int
    end_user_rate_per_minute: int
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(store: Store, tenant: str, name: str, scope: str, rate_per_minute: int,
               end_user_rate_per_minute: int) -> tuple[str, KeyInfo]:
    """A new key: (the full key, to show once; what is stored about it)."""
    if scope not in SCOPES:
        raise ConfigError(f"Unknown scope '{scope}'.", f"use one of: {', '.join(SCOPES)}.")
    if not tenant.strip() or len(tenant) > 64:
        raise ConfigError("A tenant name is 1 to 64 characters.", "pass --tenant with your organisation's short name.")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    row = ApiKey(id=key_id, tenant=tenant, name=name[:64], scope=scope, secret_hash=_digest(secret),
                 rate_per_minute=rate_per_minute, end_user_rate_per_minute=end_user_rate_per_minute)
    with store.session() as session, session.begin():
        session.add(row)
    return f"{PREFIX}_{key_id}_{secret}", KeyInfo.model_validate(row)


def authenticate_key(store: Store, presented: str) -> KeyInfo | None:
    """The key's info when ``presented`` is a live key, else None (the same for unknown, wrong and revoked)."""
    prefix, _, rest = presented.strip().partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        return None
    with store.session() as session:
        row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
        return None
    return KeyInfo.model_validate(row)


def list_keys(store: Store, tenant: str | None = None) -> list[KeyInfo]:
    with store.session() as session:
        query = select(ApiKey).order_by(ApiKey.tenant, ApiKey.created_at)
        if tenant:
            query = query.where(ApiKey.tenant == tenant)
        return [KeyInfo.model_validate(row) for row in session.scalars(query)]


def revoke_key(store: Store, key_id: str) -> KeyInfo:
    with store.session() as session, session.begin():
        row = session.get(ApiKey, key_id)
        if row is None:
            raise NotFoundError(f"No API key with id '{key_id}'.", "list the keys with `supportgraph keys list`.")
        row.revoked_at = row.revoked_at or utcnow()
        session.flush()
        return KeyInfo.model_validate(row)

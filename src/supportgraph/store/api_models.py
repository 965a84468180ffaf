"""Tables of the HTTP API and of running several replicas: API keys, who owns a thread, the claim a
running turn holds on its thread, rate-limit windows, webhook endpoints and their deliveries, background runs.

Everything a replica must agree on with the others lives here, in the shared database, never in a
process: a claim row (not a lock object), a counter row (not an in-memory bucket).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from supportgraph.store.models import Base, UTCDateTime, utcnow


class ApiKey(Base):
    """A key of one tenant's app. Only the SHA-256 of its secret is kept; the key is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the public part: sgk_<id>_<secret>
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(8))  # chat | staff
    secret_hash: Mapped[str] = mapped_column(String(64))
    rate_per_minute: Mapped[int] = mapped_column(Integer)
    end_user_rate_per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ApiThread(Base):
    """Who a thread belongs to: a tenant and, for chat keys, one end user. The conversation row itself
    appears with the first turn; a thread created through the API exists before that."""

    __tablename__ = "api_threads"

    thread_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    end_user: Mapped[str | None] = mapped_column(String(128), index=True)
    key_id: Mapped[str] = mapped_column(String(32))
    meta: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ThreadClaim(Base):
    """A turn running on a thread, on some replica. Taken with an INSERT (the primary key decides who
    wins), renewed at every step, taken over only once it expired or its process is gone."""

    __tablename__ = "thread_claims"

    thread_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))  # host:pid:random
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RateWindow(Base):
    """A fixed one-minute window of one rate-limit bucket (a key, or an end user of a key)."""

    __tablename__ = "rate_windows"

    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # epoch seconds
    count: Mapped[int] = mapped_column(Integer, default=0)


class WebhookEndpoint(Base):
    """Where a tenant's helpdesk wants events, and the secret their signatures are made with."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(80))  # whsec_<base64>; needed in clear to sign
    events: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event for one endpoint, and how delivering it went. Derived from the facts it reports (an
    escalated turn), once per endpoint: the unique key makes a second replica's copy a no-op."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id", name="one_delivery_per_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(48))
    thread_id: Mapped[str] = mapped_column(String(64), index=True)
    turn_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ApiRun(Base):
    """A background run (``POST /threads/{id}/runs``): the turn as accepted, then who runs it and how it
    ended. Accepted runs are rows, so one survives its replica: a ``running`` run whose lease ran out (or
    whose process is gone on this host) and a ``pending`` one are taken by any replica's worker. The
    integer id orders the runs of a thread; ``run_id`` is the public id."""

    __tablename__ = "api_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(32), unique=True)
    thread_id: Mapped[str] = mapped_column(String(64), index=True)
    tenant: Mapped[str] = mapped_column(String(64))
    end_user: Mapped[str | None] = mapped_column(String(128))
    assistant_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), index=True)  # pending | running | success | error | interrupted
    message: Mapped[str] = mapped_column(Text)  # repaired and redacted (guardrails.redact_message)
    input_flags: Mapped[list] = mapped_column(JSON, default=list)
    meta: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    multitask_strategy: Mapped[str] = mapped_column(String(12))
    owner: Mapped[str | None] = mapped_column(String(128))  # host:pid:random of the worker running it
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # running: lease; pending: not before
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # its first start, kept on a takeover
    turn_id: Mapped[int | None] = mapped_column(Integer)
    output: Mapped[dict | None] = mapped_column(JSON)  # success: what /runs/wait answers
    error: Mapped[dict | None] = mapped_column(JSON)  # error: {"status", "code", "message", "fix"}
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

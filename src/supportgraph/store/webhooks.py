"""Webhook endpoints and deliveries: which tenant wants which events where, and how sending went.

Events are derived from stored facts, not queued beside them: an escalated turn *is* the
``conversation.escalated`` event, so there is no window in which a turn is stored and its event
lost. ``materialize`` turns new facts into one delivery row per endpoint; the unique key
(endpoint, event id) makes a second replica doing the same a no-op. Deliveries are claimed with
a conditional UPDATE, so one replica sends each attempt.

Event types and the facts they are: ``conversation.escalated`` (a turn that handed over),
``handoff.person_joined`` (a person claimed the handoff: once per handoff) and
``handoff.person_replied`` (a person's reply, stored as a turn with its author).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from supportgraph.errors import ConfigError, NotFoundError
from supportgraph.store.api_models import ApiThread, WebhookDelivery, WebhookEndpoint
from supportgraph.store.handoffs import Handoff
from supportgraph.store.models import Conversation, Turn, utcnow
from supportgraph.store.repository import Store

EVENT_TYPES: tuple[str, ...] = ("conversation.escalated", "handoff.person_joined", "handoff.person_replied")
LIVE_EVENT_TYPES = EVENT_TYPES  # what a new endpoint gets unless it names fewer
DEFAULT_TENANT = "default"  # conversations started outside the API (the chat page, the CLI)
LOOK_BACK = dt.timedelta(days=1)  # facts older than this are not sent (all replicas down for a day)


class EndpointInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant: str
    url: str
    events: list[str]
    created_at: dt.datetime
    disabled_at: dt.datetime | None = None


class DeliveryInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    endpoint_id: int
    event_id: str
    event_type: str
    thread_id: str
    turn_id: int | None
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_status: int | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


def add_endpoint(store: Store, tenant: str, url: str, events: list[str] | None = None) -> tuple[EndpointInfo, str]:
    """A new endpoint: (its info, its signing secret, shown once)."""
    events = list(events or LIVE_EVENT_TYPES)
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ConfigError(f"Unknown event type(s): {', '.join(unknown)}.", f"use any of: {', '.join(EVENT_TYPES)}.")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"'{url}' is not an http(s) URL.", "pass the helpdesk's full URL, e.g. https://host/hooks.")
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    row = WebhookEndpoint(tenant=tenant, url=url, secret=secret, events=events)
    with store.session() as session, session.begin():
        session.add(row)
        session.flush()
        return EndpointInfo.model_validate(row), secret


def list_endpoints(store: Store, tenant: str | None = None) -> list[EndpointInfo]:
    with store.session() as session:
        query = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
        if tenant:
            query = query.where(WebhookEndpoint.tenant == tenant)
        return [EndpointInfo.model_validate(row) for row in session.scalars(query)]


def disable_endpoint(store: Store, endpoint_id: int) -> EndpointInfo:
    with store.session() as session, session.begin():
        row = session.get(WebhookEndpoint, endpoint_id)
        if row is None:
            raise NotFoundError(f"No webhook endpoint {endpoint_id}.", "list them with `supportgraph webhooks list`.")
        row.disabled_at = row.disabled_at or utcnow()
        session.flush()
        return EndpointInfo.model_validate(row)


def endpoint_secret(store: Store, endpoint_id: int) -> tuple[str, str]:
    with store.session() as session:
        row = session.get(WebhookEndpoint, endpoint_id)
        return row.url, row.secret


def _event(event_id: str, kind: str, created_at: dt.datetime, tenant: str, data: dict) -> dict:
    return {"id": event_id, "type": kind, "created_at": created_at.isoformat(), "tenant": tenant,
            "data": data | {"history": f"/threads/{data['thread_id']}/history"}}


def _turn_facts(session, endpoint: WebhookEndpoint, since: dt.datetime, kind: str, which) -> list:
    """Turns of the endpoint's tenant matching ``which`` that have no ``kind`` delivery for it yet."""
    delivered = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                 WebhookDelivery.event_type == kind, WebhookDelivery.turn_id == Turn.id)
    return session.execute(
        select(Turn, Conversation.handoff_summary, ApiThread.end_user)
        .join(Conversation, Conversation.id == Turn.conversation_id)
        .outerjoin(ApiThread, ApiThread.thread_id == Turn.conversation_id)
        .where(which, Turn.created_at >= since, ~delivered.exists(),
               func.coalesce(ApiThread.tenant, DEFAULT_TENANT) == endpoint.tenant)
        .order_by(Turn.id).limit(200)).all()


def _facts(session, endpoint: WebhookEndpoint, since: dt.datetime) -> list[tuple[dict, str, int | None]]:
    """(event, thread id, turn id) of each fact the endpoint asked for since ``since``."""
    facts, tenant = [], endpoint.tenant
    if "conversation.escalated" in endpoint.events:
        for turn, handoff, end_user in _turn_facts(session, endpoint, since, "conversation.escalated",
                                                   Turn.outcome == "escalated"):
            facts.append((_event(f"evt_turn{turn.id}_escalated", "conversation.escalated", turn.created_at, tenant, {
                "thread_id": turn.conversation_id, "turn_id": turn.id, "end_user": end_user, "summary": turn.summary,
                "handoff": handoff, "customer_message": turn.customer_message, "reply": turn.reply,
                "kb_version": turn.kb_version, "flags": turn.flags}), turn.conversation_id, turn.id))
    if "handoff.person_replied" in endpoint.events:
        for turn, _, end_user in _turn_facts(session, endpoint, since, "handoff.person_replied",
                                             Turn.author.is_not(None)):
            facts.append((_event(f"evt_turn{turn.id}_person_replied", "handoff.person_replied", turn.created_at,
                                 tenant, {"thread_id": turn.conversation_id, "turn_id": turn.id, "end_user": end_user,
                                          "person": turn.author, "reply": turn.reply,
                                          "handoff_id": (turn.trace or {}).get("handoff_id")}),
                          turn.conversation_id, turn.id))
    if "handoff.person_joined" in endpoint.events:
        # Claims are few: one already delivered is skipped by the unique key, not by a query.
        claims = session.execute(
            select(Handoff, ApiThread.end_user)
            .outerjoin(ApiThread, ApiThread.thread_id == Handoff.conversation_id)
            .where(Handoff.claimed_at >= since, func.coalesce(ApiThread.tenant, DEFAULT_TENANT) == tenant)
            .order_by(Handoff.id).limit(200)).all()
        for handoff, end_user in claims:
            facts.append((_event(f"evt_handoff{handoff.id}_joined", "handoff.person_joined", handoff.claimed_at, tenant, {
                "thread_id": handoff.conversation_id, "handoff_id": handoff.id, "end_user": end_user,
                "person": handoff.claimed_by, "escalated_turn_id": handoff.turn_id}), handoff.conversation_id, None))
    return facts


def materialize(store: Store, now: dt.datetime | None = None) -> int:
    """Create the deliveries of facts no endpoint has a delivery for yet; how many were new."""
    now = now or utcnow()
    created = 0
    insert = postgres_insert if store.engine.dialect.name == "postgresql" else sqlite_insert
    with store.session() as session, session.begin():
        endpoints = list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.disabled_at.is_(None))))
        for endpoint in endpoints:
            for event, thread_id, turn_id in _facts(session, endpoint, max(endpoint.created_at, now - LOOK_BACK)):
                result = session.execute(
                    insert(WebhookDelivery).values(
                        endpoint_id=endpoint.id, event_id=event["id"], event_type=event["type"],
                        thread_id=thread_id, turn_id=turn_id, payload=event, status="pending",
                        attempts=0, next_attempt_at=now, created_at=now)
                    .on_conflict_do_nothing(index_elements=[WebhookDelivery.endpoint_id, WebhookDelivery.event_id]))
                created += result.rowcount or 0
    return created


def claim_due(store: Store, hold_s: float, limit: int = 20, now: dt.datetime | None = None) -> list[DeliveryInfo]:
    """Deliveries due now that no other replica is sending, claimed for ``hold_s`` seconds."""
    now = now or utcnow()
    free = (WebhookDelivery.claimed_until.is_(None)) | (WebhookDelivery.claimed_until < now)
    claimed: list[DeliveryInfo] = []
    with store.session() as session, session.begin():
        due = list(session.scalars(select(WebhookDelivery.id).where(
            WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now, free)
            .order_by(WebhookDelivery.next_attempt_at).limit(limit)))
    for delivery_id in due:
        with store.session() as session, session.begin():
            taken = session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, free)
                                    .values(claimed_until=now + dt.timedelta(seconds=hold_s)))
            if taken.rowcount == 1:
                claimed.append(DeliveryInfo.model_validate(session.get(WebhookDelivery, delivery_id)))
    return claimed


def delivery_payload(store: Store, delivery_id: int) -> dict:
    with store.session() as session:
        return session.get(WebhookDelivery, delivery_id).payload


def record_attempt(store: Store, delivery_id: int, *, status: int | None, error: str | None,
                   retry_at: dt.datetime | None) -> DeliveryInfo:
    """One attempt's result: delivered (2xx), pending again at ``retry_at``, or failed for good (no retry_at)."""
    with store.session() as session, session.begin():
        row = session.get(WebhookDelivery, delivery_id)
        row.attempts += 1
        row.last_status, row.last_error, row.claimed_until = status, error, None
        if status is not None and 200 <= status < 300:
            row.status, row.delivered_at = "delivered", utcnow()
        elif retry_at is None:
            row.status = "failed"
        else:
            row.next_attempt_at = retry_at
        session.flush()
        return DeliveryInfo.model_validate(row)


def list_deliveries(store: Store, tenant: str | None = None, thread_id: str | None = None,
                    limit: int = 100) -> list[DeliveryInfo]:
    with store.session() as session:
        query = (select(WebhookDelivery).join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                 .order_by(WebhookDelivery.id.desc()).limit(limit))
        if tenant:
            query = query.where(WebhookEndpoint.tenant == tenant)
        if thread_id:
            query = query.where(WebhookDelivery.thread_id == thread_id)
        return [DeliveryInfo.model_validate(row) for row in session.scalars(query)]

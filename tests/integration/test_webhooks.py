"""An escalation, and then a person joining and replying, reach a helpdesk: a real HTTP receiver on loopback gets a signed POST (Standard Webhooks:
HMAC-SHA256 over id.timestamp.body), retried with growing delays until it answers 2xx, each attempt recorded;
an endpoint that keeps failing is marked failed after the last attempt; another tenant's endpoint gets nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from supportgraph.agents.handoff import HandoffDesk
from supportgraph.api.webhooks import WebhookSender
from supportgraph.store.handoffs import latest_handoff
from supportgraph.store.staff import add_staff
from supportgraph.store.webhooks import add_endpoint, list_deliveries, materialize

pytestmark = pytest.mark.integration


class Receiver:
    """A helpdesk's webhook endpoint: answers the scripted statuses in turn (the last one from then on)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.requests = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append((time.monotonic(), dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try later")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/supportgraph"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """What a receiver does, written from the Standard Webhooks spec rather than from our signer."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, part.split(",", 1)[1]) for part in headers["webhook-signature"].split())


def test_an_escalation_is_posted_signed_and_retried_with_backoff_until_accepted(real_agent):
    flaky, down, elsewhere = Receiver([500, 503, 200]), Receiver([500]), Receiver([200])
    store = real_agent.store
    try:
        flaky_endpoint, secret = add_endpoint(store, "default", flaky.url)
        down_endpoint, _ = add_endpoint(store, "default", down.url)
        add_endpoint(store, "another-tenant", elsewhere.url)
        escalated = real_agent.ask("I want to talk to a human, not a bot")
        assert escalated.outcome == "escalated"
        real_agent.ask("I was charged twice this month")  # answered: no event

        settings = real_agent.settings.model_copy(update={"webhook_retry_base_s": 0.4, "webhook_max_attempts": 3,
                                                          "webhook_poll_s": 0.05})
        sender = WebhookSender(settings, store)
        sender.start()
        deadline = time.monotonic() + 30
        while (len(flaky.requests) < 3 or len(down.requests) < 3) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # nothing more should come
        sender.stop()

        assert len(flaky.requests) == 3 and len(down.requests) == 3 and elsewhere.requests == []
        (t1, first, body), (t2, _, _), (t3, last, last_body) = flaky.requests
        assert 0.4 * 0.9 <= t2 - t1 and 0.8 * 0.9 <= t3 - t2  # exponential backoff
        assert first["webhook-id"] == last["webhook-id"] == f"evt_turn{escalated.turn_id}_escalated"
        assert verify(secret, last, last_body) and not verify(secret, last, last_body + b" ")
        assert not verify("whsec_" + base64.b64encode(b"x" * 32).decode(), last, last_body)
        assert abs(int(last["webhook-timestamp"]) - time.time()) < 60
        event = json.loads(last_body)
        assert event["type"] == "conversation.escalated" and event["tenant"] == "default"
        assert event["data"]["thread_id"] == escalated.thread_id and event["data"]["turn_id"] == escalated.turn_id
        assert event["data"]["handoff"] == escalated.handoff and event["data"]["handoff"]

        by_endpoint = {d.endpoint_id: d for d in list_deliveries(store)}
        delivered, failed = by_endpoint[flaky_endpoint.id], by_endpoint[down_endpoint.id]
        assert (delivered.status, delivered.attempts, delivered.last_status) == ("delivered", 3, 200)
        assert delivered.delivered_at is not None
        assert (failed.status, failed.attempts, failed.last_status) == ("failed", 3, 500)
        assert "HTTP 500" in failed.last_error
        assert materialize(store) == 0 and len(list_deliveries(store)) == 2  # once per endpoint, ever
    finally:
        for receiver in (flaky, down, elsewhere):
            receiver.close()


def test_a_person_joining_and_replying_reach_the_helpdesk_as_signed_events(real_agent):
    helpdesk, elsewhere = Receiver([200]), Receiver([200])
    store = real_agent.store
    try:
        endpoint, secret = add_endpoint(store, "default", helpdesk.url)
        add_endpoint(store, "another-tenant", elsewhere.url)
        escalated = real_agent.ask("I want to talk to a human, not a bot", thread_id="t-desk")
        add_staff(store, "alex", "correct horse battery", "agent")
        desk = HandoffDesk(store, real_agent.brief)
        handoff = latest_handoff(store, "t-desk")
        desk.claim(handoff.id, "alex")
        reply = desk.reply(handoff.id, "alex", "Hi, this is Alex from support. I can see both charges.")
        desk.claim(handoff.id, "alex")  # claiming again what one holds is no new event

        settings = real_agent.settings.model_copy(update={"webhook_poll_s": 0.05})
        sender = WebhookSender(settings, store)
        sender.start()
        deadline = time.monotonic() + 30
        while len(helpdesk.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        sender.stop()

        events = [json.loads(body) for _, _, body in helpdesk.requests]
        assert sorted(e["type"] for e in events) == ["conversation.escalated", "handoff.person_joined",
                                                     "handoff.person_replied"]
        assert all(verify(secret, headers, body) for _, headers, body in helpdesk.requests)
        assert {e["data"]["thread_id"] for e in events} == {"t-desk"} and elsewhere.requests == []
        joined = next(e for e in events if e["type"] == "handoff.person_joined")
        assert joined["id"] == f"evt_handoff{handoff.id}_joined" and joined["data"]["person"] == "alex"
        assert joined["data"]["escalated_turn_id"] == escalated.turn_id
        replied = next(e for e in events if e["type"] == "handoff.person_replied")
        assert replied["data"]["turn_id"] == reply.turn_id and replied["data"]["reply"] == reply.text
        assert replied["data"]["handoff_id"] == handoff.id and replied["data"]["person"] == "alex"
        assert materialize(store) == 0  # each fact once per endpoint
        assert {d.event_type for d in list_deliveries(store) if d.endpoint_id == endpoint.id} == set(
            e["type"] for e in events)
    finally:
        helpdesk.close()
        elsewhere.close()

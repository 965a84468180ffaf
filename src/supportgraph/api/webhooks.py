"""Sending webhook deliveries: signed (Standard Webhooks: HMAC-SHA256 over id.timestamp.body),
retried with exponential backoff, each attempt recorded. Every replica runs one sender thread; the
store's claims make sure one of them sends each attempt.

Headers: ``webhook-id`` (the event id, the same on every retry: deduplicate on it),
``webhook-timestamp`` (Unix seconds: refuse old ones), ``webhook-signature`` (``v1,<base64>``).
A receiver checks ``base64(hmac_sha256(base64decode(secret minus 'whsec_'), f"{id}.{timestamp}.{body}"))``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import threading
import time

import httpx

from supportgraph.config import Settings
from supportgraph.store import Store
from supportgraph.store.ratelimit import forget_old_windows
from supportgraph.store.webhooks import (
    DeliveryInfo,
    claim_due,
    delivery_payload,
    endpoint_secret,
    materialize,
    record_attempt,
)

log = logging.getLogger("supportgraph.webhooks")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def retry_delay(attempts: int, base_s: float) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: base * 2^(n-1), +-10% jitter."""
    return base_s * 2 ** (attempts - 1) * random.uniform(0.9, 1.1)


class WebhookSender:
    def __init__(self, settings: Settings, store: Store, client: httpx.Client | None = None) -> None:
        self.settings = settings
        self.store = store
        self.client = client or httpx.Client(timeout=settings.webhook_timeout_s, follow_redirects=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, delivery: DeliveryInfo) -> DeliveryInfo:
        url, secret = endpoint_secret(self.store, delivery.endpoint_id)
        body = json.dumps(delivery_payload(self.store, delivery.id), separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {"content-type": "application/json", "user-agent": "supportgraph-webhooks/1",
                   "webhook-id": delivery.event_id, "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(secret, delivery.event_id, timestamp, body)}
        status, error = None, None
        try:
            response = self.client.post(url, content=body, headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}: {response.text[:200]}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:500]
        attempts = delivery.attempts + 1
        retry_at = None
        if error and attempts < self.settings.webhook_max_attempts:
            retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(
                seconds=retry_delay(attempts, self.settings.webhook_retry_base_s))
        done = record_attempt(self.store, delivery.id, status=status, error=error, retry_at=retry_at)
        if error:
            log.warning("webhook %s to %s: attempt %d failed (%s)", delivery.event_id, url, attempts, error)
        return done

    def run_once(self) -> int:
        """Create deliveries for new events and send those that are due; how many attempts were made."""
        materialize(self.store)
        due = claim_due(self.store, hold_s=self.settings.webhook_timeout_s * 3)
        for delivery in due:
            self.send(delivery)
        return len(due)

    def _loop(self) -> None:
        last_cleanup = 0.0
        while not self._stop.is_set():
            try:
                self.run_once()
                if time.monotonic() - last_cleanup > 60:
                    forget_old_windows(self.store)
                    last_cleanup = time.monotonic()
            except Exception:  # a database blip must not end the sender
                log.exception("webhook sender: one round failed; trying again")
            self._stop.wait(self.settings.webhook_poll_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="supportgraph-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.webhook_timeout_s + 5)
        self.client.close()

"""The human side of a handoff: what the customer is told while a person has (or should have) the
thread, and what a person does with it. The inbox page, the CLI and the API all call :class:`HandoffDesk`.

A person's reply is held to the same rules as the bot's: personal data redacted (privacy.py) and the
whole text through the output guard (agents/output_guard.py); a blocked reply is not sent, and the
person is told why. Notices to the customer never name the person or show staff notes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from supportgraph import privacy
from supportgraph.agents.brief import Brief
from supportgraph.agents.output_guard import guard_reply
from supportgraph.errors import HandoffError, ReplyRejectedError
from supportgraph.store import Store
from supportgraph.store.handoffs import (
    HandoffInfo,
    active_handoff,
    claim_handoff,
    end_handoff,
    get_handoff,
    record_human_reply,
)
from supportgraph.store.models import utcnow
from supportgraph.store.staff import HANDOFF_ROLES, can_open, staff_role

MAX_REPLY_CHARS = 4000


@dataclass(frozen=True)
class Notice:
    """Where the customer's handoff stands, in words for the customer."""

    state: str  # with_person | waiting | unavailable | overdue
    text: str


@dataclass(frozen=True)
class HumanReply:
    turn_id: int
    text: str          # as stored and shown (redacted, guarded)
    flags: list[str]


class HandoffDesk:
    def __init__(self, store: Store, brief: Brief) -> None:
        self.store = store
        self.brief = brief

    def notice(self, handoff: HandoffInfo | None, now: dt.datetime | None = None) -> Notice | None:
        """The honest status line of an open handoff: a person has it, one will, or nobody is there now."""
        if handoff is None:
            return None
        now = now or utcnow()
        policy = self.brief.handoff
        if handoff.status == "claimed":
            return Notice("with_person", "A person from our support team has your conversation and will reply here.")
        if not policy.hours.open_at(now):
            return Notice("unavailable", "Nobody from our support team is available right now: people answer "
                          f"{policy.hours.describe()}. Your conversation is in the queue, and a person will "
                          "reply here when the team is back.")
        waited = (now - handoff.created_at).total_seconds() / 60
        if waited >= policy.max_wait_minutes:
            return Notice("overdue", f"Sorry, nobody has picked up your conversation yet (you have waited "
                          f"{int(waited)} minutes). It stays first in line, and a person will reply here.")
        return Notice("waiting", "Your conversation is waiting for the next person on our support team, "
                      "who will reply here.")

    def customer_notice(self, thread_id: str, now: dt.datetime | None = None) -> Notice | None:
        return self.notice(active_handoff(self.store, thread_id), now)

    def _check_role(self, username: str) -> None:
        if not can_open(staff_role(self.store, username), HANDOFF_ROLES):
            raise HandoffError(f"'{username}' may not take over conversations.",
                               "use a staff account with role agent or reviewer (`supportgraph staff add`).")

    def claim(self, handoff_id: int, username: str) -> HandoffInfo:
        self._check_role(username)
        return claim_handoff(self.store, handoff_id, username)

    def reply(self, handoff_id: int, username: str, text: str) -> HumanReply:
        """Redact, guard and store a person's reply in the customer's thread."""
        self._check_role(username)
        text = (text or "").strip()
        if not text:
            raise ReplyRejectedError("The reply is empty.", "write what the customer should read.")
        if len(text) > MAX_REPLY_CHARS:
            raise ReplyRejectedError(f"The reply is longer than {MAX_REPLY_CHARS:,} characters.", "shorten it.")
        get_handoff(self.store, handoff_id)  # a clear "no such handoff" before any work
        redacted, kinds = privacy.redact(text, own_names=re.split(r"[._\-\s]+", username))  # "Hi, I'm Alex"
        guarded = guard_reply(redacted, self.brief)
        if guarded.blocked:
            raise ReplyRejectedError("The reply was not sent: the output guard blocked it "
                               f"({', '.join(guarded.reasons)}).",
                               "rephrase it without what the brief forbids (brief.yaml, guardrails) and send again.")
        flags = ["human"] + guarded.flags + [f"redacted:{kind}" for kind in kinds]
        turn_id = record_human_reply(self.store, handoff_id, username, guarded.text, flags)
        return HumanReply(turn_id, guarded.text, flags)

    def release(self, handoff_id: int, username: str) -> HandoffInfo:
        """Hand the conversation back to the bot."""
        return end_handoff(self.store, handoff_id, username, close=False)

    def close(self, handoff_id: int, username: str) -> HandoffInfo:
        return end_handoff(self.store, handoff_id, username, close=True)

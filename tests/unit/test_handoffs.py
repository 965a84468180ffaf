"""The handoff round trip without a browser: queue, claim, reply, wait, hand back, close."""

import datetime as dt

import pytest

from supportgraph.agents.handoff import HandoffDesk
from supportgraph.errors import HandoffError, NotFoundError, ReplyRejectedError
from supportgraph.store.handoffs import active_handoff, handoff_queue, latest_handoff
from supportgraph.store.staff import add_staff
from supportgraph.store.threads import delete_transcript

pytestmark = pytest.mark.unit
PASSWORD = "correct horse battery staple"
TUESDAY_NOON = dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.UTC)   # 12:00 in Berlin
SUNDAY = dt.datetime(2026, 11, 29, 11, 0, tzinfo=dt.UTC)


@pytest.fixture
def desk(unit_agent):
    store = unit_agent.store
    add_staff(store, "alex", PASSWORD, "agent")
    add_staff(store, "rick", PASSWORD, "reviewer")
    add_staff(store, "erin", PASSWORD, "editor")
    return HandoffDesk(store, unit_agent.brief)


def _escalate(agent, thread="t1"):
    result = agent.ask("can I speak to a real person please", thread_id=thread)
    assert result.outcome == "escalated"
    return active_handoff(agent.store, thread)


def test_an_escalation_is_queued_oldest_first_with_its_note_and_reason(unit_agent, desk):
    first = _escalate(unit_agent, "first")
    second = _escalate(unit_agent, "second")
    assert [h.id for h in handoff_queue(unit_agent.store)] == [first.id, second.id]
    assert first.status == "queued" and first.reason == "You asked to talk to a person."
    assert "Reason: You asked to talk to a person." in first.note


def test_while_a_handoff_is_open_the_bot_is_silent_and_the_message_waits(unit_agent, desk):
    handoff = _escalate(unit_agent)
    waiting = unit_agent.ask("I was charged twice, my email is jo@example.com", thread_id="t1")
    assert waiting.outcome == "waiting" and not waiting.steps and not waiting.citations
    assert "support team" in waiting.answer
    conversation = unit_agent.store.conversation("t1")
    assert conversation.status == "escalated"  # no longer quietly back to open
    assert "jo@example.com" not in conversation.turns[-1].customer_message
    desk.claim(handoff.id, "alex")
    claimed = unit_agent.ask("hello?", thread_id="t1")
    assert claimed.outcome == "waiting" and "has your conversation" in claimed.answer


def test_one_person_claims_and_replies_through_the_guard(unit_agent, desk):
    handoff = _escalate(unit_agent)
    with pytest.raises(HandoffError, match="may not take over"):
        desk.claim(handoff.id, "erin")  # an editor
    desk.claim(handoff.id, "alex")
    with pytest.raises(HandoffError, match="claimed by alex"):
        desk.claim(handoff.id, "rick")
    with pytest.raises(HandoffError, match="not claimed by rick"):
        desk.reply(handoff.id, "rick", "Hi there")
    with pytest.raises(ReplyRejectedError, match="output guard blocked"):
        desk.reply(handoff.id, "alex", "Don't worry, we will refund you today.")
    with pytest.raises(ReplyRejectedError, match="empty"):
        desk.reply(handoff.id, "alex", "   ")
    reply = desk.reply(handoff.id, "alex", "Hi, I'm looking at it. Write to me at alex.h@kitebase-mail.com")
    turn = unit_agent.store.conversation("t1").turns[-1]
    assert (turn.id, turn.outcome, turn.author, turn.customer_message) == (reply.turn_id, "human", "alex", "")
    assert "alex.h@kitebase-mail.com" not in turn.reply and "human" in turn.flags
    answered = latest_handoff(unit_agent.store, "t1")
    assert answered.first_reply_s is not None and answered.first_reply_s >= 0
    first = answered.first_reply_at
    desk.reply(handoff.id, "alex", "Still here.")
    assert latest_handoff(unit_agent.store, "t1").first_reply_at == first  # the first reply's time is kept
    # The person's own name is theirs to give; anyone else's is still redacted.
    desk.reply(handoff.id, "alex", "Hi, I'm Alex from billing. My name is Maria Gonzalez, said your colleague.")
    shown = unit_agent.store.conversation("t1").turns[-1].reply
    assert "I'm Alex" in shown and "Maria Gonzalez" not in shown and "[PERSON]" in shown


def test_handing_back_lets_the_bot_answer_and_closing_resolves(unit_agent, desk):
    handoff = _escalate(unit_agent)
    desk.claim(handoff.id, "alex")
    desk.release(handoff.id, "alex")
    assert active_handoff(unit_agent.store, "t1") is None
    assert unit_agent.store.conversation("t1").status == "open"
    assert unit_agent.ask("I was charged twice", thread_id="t1").outcome != "waiting"
    again = _escalate(unit_agent)
    desk.claim(again.id, "rick")
    with pytest.raises(HandoffError):
        desk.close(again.id, "alex")
    desk.close(again.id, "rick")
    assert unit_agent.store.conversation("t1").status == "resolved"
    with pytest.raises(NotFoundError):
        desk.claim(999, "alex")


def test_the_customer_is_told_honestly_when_nobody_is_there(unit_agent, desk):
    handoff = _escalate(unit_agent)
    assert desk.notice(handoff, SUNDAY).state == "unavailable"
    assert "Monday to Friday, 08:00-20:00" in desk.notice(handoff, SUNDAY).text
    fresh = handoff.model_copy(update={"created_at": TUESDAY_NOON - dt.timedelta(minutes=2)})
    assert desk.notice(fresh, TUESDAY_NOON).state == "waiting"
    stale = handoff.model_copy(update={"created_at": TUESDAY_NOON - dt.timedelta(minutes=40)})
    overdue = desk.notice(stale, TUESDAY_NOON)
    assert overdue.state == "overdue" and "40 minutes" in overdue.text
    desk.claim(handoff.id, "alex")
    assert desk.customer_notice("t1", SUNDAY).state == "with_person"


def test_deleting_a_conversation_deletes_its_handoffs(unit_agent, desk):
    _escalate(unit_agent)
    assert delete_transcript(unit_agent.store, "t1")
    assert latest_handoff(unit_agent.store, "t1") is None


def test_the_cli_lists_claims_replies_and_hands_back(unit_agent, desk, monkeypatch):
    from typer.testing import CliRunner

    from supportgraph.cli import app
    from tests.conftest import REPO

    monkeypatch.setenv("SUPPORTGRAPH_PROJECT_DIR", str(REPO))
    monkeypatch.setenv("SUPPORTGRAPH_DATABASE_URL", unit_agent.settings.database_url)
    handoff = _escalate(unit_agent)
    cli = CliRunner()
    listed = cli.invoke(app, ["handoff", "list"])
    assert listed.exit_code == 0 and "You asked to talk" in listed.output
    assert cli.invoke(app, ["handoff", "claim", str(handoff.id), "--as", "alex"]).exit_code == 0
    refused = cli.invoke(app, ["handoff", "reply", str(handoff.id), "I'll refund you today", "--as", "alex"])
    assert refused.exit_code == 1 and "output guard blocked" in refused.output and "Traceback" not in refused.output
    sent = cli.invoke(app, ["handoff", "reply", str(handoff.id), "Checking your invoices now.", "--as", "alex"])
    assert sent.exit_code == 0, sent.output
    shown = cli.invoke(app, ["handoff", "show", str(handoff.id)])
    assert "alex (person)> Checking your invoices now." in shown.output and "First human reply" in shown.output
    assert cli.invoke(app, ["handoff", "release", str(handoff.id), "--as", "alex"]).exit_code == 0
    assert "No conversation is waiting" in cli.invoke(app, ["handoff", "list"]).output
    missing = cli.invoke(app, ["handoff", "show", "999"])
    assert missing.exit_code == 1 and "No handoff 999" in missing.output


def test_staff_keys_work_the_inbox_over_http_and_chat_keys_cannot(unit_agent, desk):
    from fastapi.testclient import TestClient

    from supportgraph.api import create_app
    from supportgraph.store.keys import create_key

    staff_key = create_key(unit_agent.store, "default", "desk", "staff", 600, 600)[0]
    chat_key = create_key(unit_agent.store, "default", "web", "chat", 600, 600)[0]
    handoff = _escalate(unit_agent)
    with TestClient(create_app(unit_agent.settings, agent=unit_agent, send_webhooks=False),
                    raise_server_exceptions=False) as api:
        staff_headers = {"X-Api-Key": staff_key}
        assert api.get("/handoffs", headers={"X-Api-Key": chat_key, "X-End-User": "bob"}).status_code == 403
        listed = api.get("/handoffs", headers=staff_headers).json()
        assert [h["id"] for h in listed] == [handoff.id] and listed[0]["reason"] == "You asked to talk to a person."
        path = f"/handoffs/{handoff.id}"
        assert api.post(f"{path}/claim", headers=staff_headers, json={"as": "erin"}).status_code == 409  # an editor
        assert api.post(f"{path}/claim", headers=staff_headers, json={"as": "alex"}).json()["status"] == "claimed"
        blocked = api.post(f"{path}/reply", headers=staff_headers, json={"as": "alex", "text": "We will refund you."})
        assert blocked.status_code == 422 and blocked.json()["error"]["code"] == "reply_rejected"
        assert api.post(f"{path}/reply", headers=staff_headers, json={"as": "alex", "text": ""}).status_code == 422
        sent = api.post(f"{path}/reply", headers=staff_headers, json={"as": "alex", "text": "On it."})
        assert sent.status_code == 200 and sent.json()["text"] == "On it."
        assert api.get(path, headers=staff_headers).json()["first_reply_s"] is not None
        assert api.post(f"{path}/close", headers=staff_headers, json={"as": "alex"}).json()["status"] == "closed"
        assert api.get("/handoffs/999", headers=staff_headers).status_code == 404


def test_web_sessions_open_only_their_own_subject_until_they_expire(unit_agent, desk):
    from supportgraph.store.sessions import STAFF_SESSION, end_session, new_session, open_session
    from supportgraph.store.staff import remove_staff

    store = unit_agent.store
    customer = new_session(store, "customer", "thread-a")
    assert open_session(store, "customer", customer) == "thread-a"
    assert open_session(store, "staff", customer) is None  # a customer's token never signs anyone in
    assert open_session(store, "customer", customer[:-1] + ("A" if customer[-1] != "A" else "B")) is None
    assert open_session(store, "customer", None) is None and open_session(store, "customer", "x" * 500) is None
    assert new_session(store, "customer", "thread-a") != customer  # unguessable: a fresh random token each time

    staff = new_session(store, "staff", "alex", STAFF_SESSION)
    assert open_session(store, "staff", staff) == "alex"
    expired = new_session(store, "staff", "alex", dt.timedelta(seconds=-1))
    assert open_session(store, "staff", expired) is None
    end_session(store, staff)
    assert open_session(store, "staff", staff) is None
    removed = new_session(store, "staff", "rick", STAFF_SESSION)
    remove_staff(store, "rick")
    assert open_session(store, "staff", removed) is None

    unit_agent.ask("hello", thread_id="thread-a")
    delete_transcript(store, "thread-a")
    assert open_session(store, "customer", customer) is None  # a deleted conversation cannot be reopened

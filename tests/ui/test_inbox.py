"""The handoff inbox page (AppTest): only agents and reviewers open it; a person claims, replies, hands back.
The browser round trip with a customer on the other side is in test_handoff_browser.py."""

import pytest

from supportgraph.agents.handoff import HandoffDesk
from supportgraph.config import Settings
from supportgraph.store import Store, TurnRecord
from supportgraph.store.handoffs import active_handoff, latest_handoff, open_handoff
from supportgraph.store.staff import add_staff
from tests.ui.conftest import PASSWORD, app, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _escalated(thread="t-inbox") -> Store:
    store = Store(Settings().database_url)
    turn = store.record_turn(thread, TurnRecord(customer_message="I want a person, I was charged twice",
                                                reply="I'm passing this to our support team.", outcome="escalated"))
    open_handoff(store, thread, turn, "You asked to talk to a person.", "Issue: charged twice.", {"device": "ios"})
    return store


def test_an_editor_cannot_open_the_inbox(workspace):
    at = sign_in(app(), "erin", PASSWORD)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/inbox.py").run()


def test_an_agent_claims_replies_and_hands_back(workspace):
    store = _escalated()
    add_staff(store, "alex", PASSWORD, "agent")
    at = sign_in(app(), "alex", PASSWORD)
    at.switch_page("views/inbox.py").run()
    assert not at.exception and not at.error
    page = " ".join(m.value for m in at.markdown)
    assert "You asked to talk to a person" in page and "device = ios" in page and "charged twice" in page
    at.button(key="inbox_claim").click().run()
    assert any("You have handoff" in s.value for s in at.success)

    at.text_area(key="inbox_reply_text").input("We will refund you today.")  # a form: sent with the submit
    at.button(key="inbox_send").click().run()
    assert any("output guard blocked" in e.value for e in at.error)  # not sent, and the person is told why
    at.text_area(key="inbox_reply_text").input("Hi, this is the billing team. I can see the second charge.")  # a form: sent with the submit
    at.button(key="inbox_send").click().run()
    assert any("Reply sent" in s.value for s in at.success)
    last = store.conversation("t-inbox").turns[-1]
    assert (last.outcome, last.author, last.reply) == ("human", "alex", "Hi, this is the billing team. I can see the second charge.")
    assert "I can see the second charge" in " ".join(m.value for m in at.markdown)

    at.button(key="inbox_release").click().run()
    assert active_handoff(store, "t-inbox") is None and latest_handoff(store, "t-inbox").status == "released"
    assert any("No conversation is waiting" in i.value for i in at.info)


def test_a_reviewer_sees_who_claimed_and_cannot_answer_for_them(workspace):
    store = _escalated()
    add_staff(store, "alex", PASSWORD, "agent")
    HandoffDesk(store, None).claim(latest_handoff(store, "t-inbox").id, "alex")
    at = sign_in(app(), "rick", PASSWORD)
    at.switch_page("views/inbox.py").run()
    assert any("alex is answering" in i.value for i in at.info)
    assert all(b.key not in ("inbox_claim", "inbox_send", "inbox_release") for b in at.button)

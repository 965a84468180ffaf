"""The handoff round trip in a real headless Chromium: a customer asks for a person, a signed-in agent
claims the conversation on the Inbox page and replies, and the customer sees the reply without reloading;
after a reload both still have it (the customer's resume token, the agent's staff session)."""

from __future__ import annotations

import pytest

from supportgraph.store import Store
from supportgraph.store.handoffs import latest_handoff
from supportgraph.store.staff import add_staff
from tests.ui.conftest import PASSWORD
from tests.ui.test_browser import CHROMIUM_ARGS, chromium, running_app  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
REPLY = "This is the billing team: I can see the second charge and I am looking into it now."


def test_a_person_takes_over_and_the_customer_sees_the_reply_live(chromium, running_app, real_settings,  # noqa: F811
                                                                   tmp_path):
    from playwright.sync_api import expect, sync_playwright

    store = Store(real_settings.database_url)
    add_staff(store, "alex", PASSWORD, "agent")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        customer = browser.new_context().new_page()
        agent = browser.new_context().new_page()  # another browser session: the person at the support desk
        try:
            customer.goto(running_app)
            box = customer.get_by_placeholder("Describe your problem")
            box.wait_for(timeout=120_000)
            box.fill("I was charged twice, I want to talk to a real person")
            box.press("Enter")
            expect(customer.get_by_text("a person will follow up here")).to_be_visible(timeout=120_000)

            agent.goto(running_app + "/staff")
            agent.get_by_role("textbox", name="Username").fill("alex")
            agent.get_by_role("textbox", name="Password").fill(PASSWORD)
            agent.get_by_role("button", name="Sign in").click()
            agent.get_by_role("link", name="Inbox").click()
            expect(agent.get_by_text("Handoff #1")).to_be_visible(timeout=60_000)
            expect(agent.get_by_text("You asked to talk to a person.").first).to_be_visible()
            agent.get_by_role("button", name="Claim").click()
            expect(agent.get_by_text("You have handoff #1")).to_be_visible(timeout=30_000)
            agent.get_by_role("textbox", name="Reply to the customer").fill(REPLY)
            agent.get_by_role("button", name="Send reply").click()
            expect(agent.get_by_text("Reply sent.")).to_be_visible(timeout=30_000)

            # The customer did nothing: the chat polls the store and shows the person's reply.
            expect(customer.get_by_text(REPLY)).to_be_visible(timeout=30_000)
            expect(customer.get_by_text("has your conversation and will reply here")).to_be_visible()
            expect(customer.get_by_text("alex")).to_have_count(0)  # the person's account name is never shown
            customer.screenshot(path=str(tmp_path / "customer.png"), full_page=True)

            # While the person has the thread the bot stays silent, and the person sees the new message.
            box.fill("Thanks! How long will it take?")
            box.press("Enter")
            expect(customer.get_by_text("has your conversation and will reply here").first).to_be_visible()
            expect(agent.get_by_text("How long will it take?")).to_be_visible(timeout=30_000)
            agent.screenshot(path=str(tmp_path / "inbox.png"), full_page=True)

            # A reload keeps both: the customer's conversation (the token in the URL) and the agent's sign-in.
            assert "c=" in customer.url and "s=" in agent.url
            customer.reload()
            expect(customer.get_by_text(REPLY)).to_be_visible(timeout=60_000)
            expect(customer.get_by_text("Thanks! How long will it take?")).to_be_visible()
            agent.reload()
            expect(agent.get_by_text("Handoff #1")).to_be_visible(timeout=60_000)
            agent.get_by_role("button", name="Hand back to the bot").click()
            expect(agent.get_by_text("handed back")).to_be_visible(timeout=30_000)

            # A made-up token opens nothing: a fresh, empty conversation.
            stranger = browser.new_context().new_page()
            stranger.goto(running_app + "/?c=" + "A" * 43)
            expect(stranger.get_by_placeholder("Describe your problem")).to_be_visible(timeout=60_000)
            expect(stranger.get_by_text(REPLY)).to_have_count(0)
            # and a new browser without the token does not see it either
            stranger.goto(running_app)
            expect(stranger.get_by_placeholder("Describe your problem")).to_be_visible(timeout=60_000)
            expect(stranger.get_by_text(REPLY)).to_have_count(0)
        finally:
            browser.close()

    turns = store.conversation(latest_handoff(store, store.recent_turns(1)[0].conversation_id).thread_id).turns
    assert [t.outcome for t in turns] == ["escalated", "human", "waiting"]
    assert turns[1].author == "alex" and turns[1].reply == REPLY
    handoff = latest_handoff(store, turns[0].conversation_id)
    assert handoff.status == "released" and handoff.first_reply_s is not None

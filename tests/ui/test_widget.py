"""The embeddable chat page in a real headless Chromium (Debian's package) against a real `supportgraph serve`:
a customer asks, watches the reply stream in with its citation, and rates it; the turn and the rating are stored
under the random end-user id the page keeps in the browser."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from supportgraph.store import Store
from supportgraph.store.api_models import ApiThread
from supportgraph.store.keys import create_key
from tests.conftest import REPO
from tests.servers import free_port, running
from tests.ui.test_browser import CHROMIUM_ARGS, chromium  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BIN = Path(sys.executable).parent


@pytest.fixture
def served(indexed_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(indexed_home, home)
    url = f"sqlite:///{tmp_path / 'widget.db'}"
    key, _ = create_key(Store(url), "acme", "website", "chat", 600, 60)
    port = free_port()
    env = dict(os.environ, SUPPORTGRAPH_HOME=str(home), SUPPORTGRAPH_DATABASE_URL=url,
               SUPPORTGRAPH_PROJECT_DIR=str(REPO))
    with running([BIN / "supportgraph", "serve", "--port", port], f"http://127.0.0.1:{port}/ok", env=env,
                 stdout=open(tmp_path / "serve.log", "w")):
        yield f"http://127.0.0.1:{port}", key, url


def test_a_customer_chats_through_the_embeddable_page(chromium, served, tmp_path):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    base, key, url = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page()
        blocked = []
        page.on("console", lambda message: blocked.append(message.text) if message.type == "error" else None)
        try:
            page.goto(f"{base}/widget/?key={key}")
            box = page.get_by_placeholder("Describe your problem")
            box.fill("I was charged twice this month")
            box.press("Enter")
            expect(page.get_by_text("Did that resolve your issue?")).to_be_visible(timeout=60_000)
            expect(page.locator(".citations li").first).to_contain_text("ts-duplicate-charge")
            expect(page.locator(".log .agent").first).to_contain_text("Summary: You were charged twice")
            page.get_by_role("button", name="Thumbs up").click()
            expect(page.get_by_text("Thanks, your feedback was saved.")).to_be_visible(timeout=30_000)
            end_user = page.evaluate("localStorage.getItem('supportgraph.end_user')")
            thread_id = page.evaluate("sessionStorage.getItem('supportgraph.thread_id')")
            page.screenshot(path=str(tmp_path / "widget.png"), full_page=True)
        finally:
            browser.close()
    assert blocked == []  # nothing refused by the page's content security policy, no script error

    store = Store(url)
    with store.session() as session:
        owner = session.get(ApiThread, thread_id)
    assert owner.end_user == end_user and len(end_user) == 32 and owner.tenant == "acme"
    conversation = store.conversation(thread_id)
    assert conversation.channel == "api" and [t.customer_message for t in conversation.turns] == \
        ["I was charged twice this month"]
    assert store.feedback_for(conversation.turns[0].id).thumb == "up"

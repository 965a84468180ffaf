"""End to end in a real headless Chromium (Debian's package) against `make run`'s app."""

from __future__ import annotations

import os
import re
import time

import pytest

from supportgraph.store import Store
from supportgraph.store.staff import add_staff
from tests.conftest import REPO, require_part
from tests.servers import free_port, running
from tests.ui.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def running_app(real_settings):
    port = free_port()
    env = dict(os.environ, SUPPORTGRAPH_HOME=str(real_settings.home),
               SUPPORTGRAPH_DATABASE_URL=real_settings.database_url)
    with running(["make", "--no-print-directory", "run", f"PORT={port}"], f"http://localhost:{port}/_stcore/health",
                 cwd=REPO, env=env):
        yield f"http://localhost:{port}"


@pytest.fixture(scope="session")  # set up before the index and the app, so a missing browser fails fast
def chromium() -> str:
    require_part("browser", os.path.exists(CHROMIUM),
                 f"Chromium is not at {CHROMIUM}: `make browser` (or `apt-get install chromium`) installs it")
    return CHROMIUM


def test_customer_asks_sees_a_cited_answer_and_rates_it(chromium, running_app, real_settings, tmp_path):
    """A customer asks and rates; then a reviewer signs in and finds that conversation in the transcripts."""
    from playwright.sync_api import expect, sync_playwright

    add_staff(Store(real_settings.database_url), "rick", PASSWORD, "reviewer")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page()
        try:
            page.goto(running_app)
            box = page.get_by_placeholder("Describe your problem")
            box.wait_for(timeout=120_000)
            box.fill("I was charged twice this month")
            box.press("Enter")
            expect(page.get_by_text("Did that resolve your issue?")).to_be_visible(timeout=120_000)
            citation = page.get_by_text("📄 I was charged twice").first
            expect(citation).to_be_visible()
            expect(page.get_by_text("ts-duplicate-charge")).to_have_count(0)  # article ids are internal
            citation.click()
            expect(page.get_by_text("Report a billing problem").first).to_be_visible()
            page.get_by_role("radio", name="Thumbs up").click()
            expect(page.get_by_text("feedback was saved")).to_be_visible(timeout=30_000)
            page.get_by_role("radio", name="4 out of 5 stars").click()
            page.screenshot(path=str(tmp_path / "answer.png"), full_page=True)

            page.goto(running_app + "/knowledge")  # a staff page, by URL, without signing in
            expect(page.get_by_placeholder("Describe your problem")).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Knowledge base", exact=True)).to_have_count(0)
            expect(page.get_by_text("File (front matter + markdown)")).to_have_count(0)
            page.goto(running_app + "/transcripts")
            expect(page.get_by_placeholder("Describe your problem")).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Not reviewed yet")).to_have_count(0)

            page.goto(running_app + "/staff")
            page.get_by_role("textbox", name="Username").fill("rick")
            page.get_by_role("textbox", name="Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Transcripts").click()  # a click keeps the signed-in session
            expect(page.get_by_text("1 conversations match.")).to_be_visible(timeout=60_000)
            # The cited article among the retrieved ones, by title (its id is inside the collapsed expander).
            expect(page.get_by_text(re.compile(r"I was charged twice · [0-9.]+ · cited")).first).to_be_visible()
            page.screenshot(path=str(tmp_path / "transcripts.png"), full_page=True)
        finally:
            browser.close()

    store = Store(real_settings.database_url)
    deadline = time.monotonic() + 10
    turn_id = store.recent_turns(1)[0].id
    while ((feedback := store.feedback_for(turn_id)) is None or feedback.stars is None) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (feedback.thumb, feedback.stars) == ("up", 4)

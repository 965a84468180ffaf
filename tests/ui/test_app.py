"""Streamlit AppTest drives a conversation and a rating; the rating lands in the database."""

import pytest
from streamlit.testing.v1 import AppTest

from supportgraph.store import Store
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def app(real_settings, monkeypatch):
    monkeypatch.setenv("SUPPORTGRAPH_PROJECT_DIR", str(REPO))
    monkeypatch.setenv("SUPPORTGRAPH_HOME", str(real_settings.home))
    monkeypatch.setenv("SUPPORTGRAPH_DATABASE_URL", real_settings.database_url)
    at = AppTest.from_file(str(REPO / "ui" / "app.py"), default_timeout=120)
    at.run()
    yield at
    at.get_cache_resource = None


def test_conversation_and_rating_are_stored(app, real_settings):
    assert not app.exception
    app.chat_input[0].set_value("I was charged twice this month").run()
    assert not app.exception
    reply = app.chat_message[1].markdown[0].value
    assert "**Summary:** You were charged twice this month." in reply and "1. " in reply
    assert any(e.label == "📄 I was charged twice" for e in app.expander)
    # Customers never see internal article ids or the knowledge base's hash.
    shown = " ".join([*(e.label for e in app.expander), *(m.value for m in app.markdown), *(c.value for c in app.caption)])
    assert "ts-duplicate-charge" not in shown
    kb_version = Store(real_settings.database_url).recent_turns(1)[0].kb_version
    assert kb_version and kb_version not in shown

    app.feedback[0].set_value(1).run()   # thumbs up
    app.feedback[1].set_value(4).run()   # five stars
    app.text_input[0].set_value("clear steps").run()
    assert "feedback was saved" in " ".join(c.value for c in app.caption)

    store = Store(real_settings.database_url)
    turn = store.recent_turns(1)[0]
    assert turn.outcome == "answered"
    assert (turn.feedback.thumb, turn.feedback.stars, turn.feedback.comment) == ("up", 5, "clear steps")


def test_follow_up_in_the_same_session_keeps_the_thread(app, real_settings):
    app.chat_input[0].set_value("the app crashes when I open it").run()
    app.chat_input[0].set_value("windows").run()
    assert len(app.chat_message) == 4
    assert "Steps" in app.chat_message[3].markdown[0].value or "1. " in app.chat_message[3].markdown[0].value
    store = Store(real_settings.database_url)
    threads = {t.conversation_id for t in store.recent_turns(2)}
    assert len(threads) == 1

"""No customer page shows a traceback: unexpected errors in a turn or a feedback callback become a clear
message (the detail goes to the server log), and Streamlit's own error details are off."""

import tomllib

import pytest
from streamlit.testing.v1 import AppTest

from supportgraph.agents.service import SupportAgent
from supportgraph.store import Store
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SECRET_PATH = "/srv/internal/supportgraph/agents/secret_module.py"


def _boom(*_args, **_kwargs):
    raise RuntimeError(f"KeyError in {SECRET_PATH} line 42")


def _page_text(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in (at.error, at.warning, at.markdown, at.caption, at.info) for e in kind)


@pytest.mark.unit
def test_streamlit_error_details_are_off_for_customers():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] is False


def test_a_failing_turn_and_a_failing_feedback_show_a_clear_message(real_settings, monkeypatch, caplog):
    for name, value in {"PROJECT_DIR": REPO, "HOME": real_settings.home,
                        "DATABASE_URL": real_settings.database_url}.items():
        monkeypatch.setenv(f"SUPPORTGRAPH_{name}", str(value))
    at = AppTest.from_file(str(REPO / "ui" / "app.py"), default_timeout=120).run()
    with monkeypatch.context() as patched:
        patched.setattr(SupportAgent, "ask", _boom)
        at.chat_input[0].set_value("I was charged twice").run()
    assert not at.exception
    assert any("something went wrong on our side" in e.value for e in at.error)
    assert SECRET_PATH not in _page_text(at) and "RuntimeError" not in _page_text(at)
    assert SECRET_PATH in caplog.text  # logged for the operator

    at.chat_input[0].set_value("I was charged twice this month").run()
    assert not at.exception and at.feedback
    with monkeypatch.context() as patched:
        patched.setattr(Store, "save_feedback", _boom)
        at.feedback[0].set_value(1).run()
    assert not at.exception
    assert any("could not be saved" in w.value for w in at.warning)
    assert SECRET_PATH not in _page_text(at)

"""Fixtures for the Streamlit page tests: a private workspace, staff accounts, sign-in."""

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from supportgraph.store import Store
from supportgraph.store.staff import add_staff
from tests.conftest import REPO

PASSWORD = "correct horse battery staple"


@pytest.fixture
def workspace(indexed_home, tmp_path, monkeypatch):
    """A private copy of the knowledge base and its index, so edits touch nothing shared."""
    knowledge, home = tmp_path / "knowledge", tmp_path / "home"
    shutil.copytree(REPO / "knowledge", knowledge)
    shutil.copytree(indexed_home, home)
    database_url = f"sqlite:///{tmp_path / 'staff.db'}"
    golden = tmp_path / "golden.jsonl"
    shutil.copy(REPO / "evals" / "datasets" / "golden.jsonl", golden)
    for name, value in {"PROJECT_DIR": REPO, "HOME": home, "KNOWLEDGE_DIR": knowledge,
                        "DATABASE_URL": database_url, "GOLDEN_PATH": golden}.items():
        monkeypatch.setenv(f"SUPPORTGRAPH_{name}", str(value))
    store = Store(database_url)
    add_staff(store, "erin", PASSWORD, "editor")
    add_staff(store, "rick", PASSWORD, "reviewer")
    add_staff(store, "ada", PASSWORD, "admin")
    return knowledge


def app() -> AppTest:
    at = AppTest.from_file(str(REPO / "ui" / "app.py"), default_timeout=120)
    return at.run()


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.switch_page("views/staff.py").run()
    at.text_input(key="staff_username").input(username)
    at.text_input(key="staff_password").input(password)
    return at.button(key="staff_sign_in").click().run()

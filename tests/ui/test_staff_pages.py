"""Staff pages: unreachable for customers, reachable after sign-in with the right role,
and an edit saved there re-indexes the article (a bad edit changes nothing)."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import PASSWORD, app, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _refused(at: AppTest) -> bool:
    """The page is not in a customer's navigation (see test_browser for the URL); if its script
    runs anyway, its own role check stops it before any article is shown."""
    try:
        at.switch_page("views/knowledge.py").run()
    except ValueError as error:
        return "Could not find a navigation page" in str(error)
    return any("for staff editors" in e.value for e in at.error) and not at.text_area and not at.selectbox


def test_customers_cannot_open_the_knowledge_page(workspace):
    assert _refused(app())


def test_wrong_password_and_wrong_role_are_refused(workspace):
    at = sign_in(app(), "erin", "not the password at all")
    assert any("Wrong username or password" in e.value for e in at.error)
    assert _refused(at)
    at = sign_in(app(), "rick", PASSWORD)  # a reviewer is not an editor
    assert "Signed in as **rick**" in " ".join(m.value for m in at.markdown)
    assert _refused(at)


def test_editor_saves_an_article_and_it_is_re_indexed(workspace):
    at = sign_in(app(), "erin", PASSWORD)
    at.switch_page("views/knowledge.py").run()
    assert not at.error
    captions = " ".join(c.value for c in at.caption)
    assert "since `None`" not in captions and "is the first indexed version" in captions
    at.selectbox[0].select("ts-duplicate-charge").run()
    path = workspace / "troubleshooting" / "ts-duplicate-charge.md"
    original = path.read_text()

    at.text_area[0].input("---\nid: [broken\n---\n").run()
    at.button(key="save_article").click().run()
    assert any("not saved" in e.value for e in at.error)
    assert path.read_text() == original

    edited = original.replace("## If that didn't help", "Kitebase never charges for the lighthouse plan.\n\n"
                                                        "## If that didn't help")
    at.text_area[0].input(edited).run()
    at.button(key="save_article").click().run()
    saved = next(s.value for s in at.success if "KB version is now" in s.value)
    new_version = saved.split("`")[1]
    assert {m.label: m.value for m in at.metric}["KB version (indexed)"] == new_version  # not the old one
    assert "since `None`" not in " ".join(c.value for c in at.caption)
    assert "lighthouse plan" in path.read_text()
    hits = _app_agent_search("lighthouse plan")
    assert hits[0] == "ts-duplicate-charge"


def _app_agent_search(query: str) -> list[str]:
    from supportgraph.config import Settings
    from supportgraph.knowledge.embedding import SentenceTransformerEmbedder
    from supportgraph.knowledge.retrieval import Retriever

    return [h.article.id for h in Retriever(Settings(), SentenceTransformerEmbedder()).search(query, k=3,
                                                                                              mode="lexical")]


def test_any_staff_role_reads_the_brief_and_customers_do_not(workspace):
    at = sign_in(app(), "rick", PASSWORD)
    at.switch_page("views/brief.py").run()
    assert not at.error
    assert "Business goal" in " ".join(m.value for m in at.markdown)
    customer = app()
    try:
        customer.switch_page("views/brief.py").run()
    except ValueError:
        return  # not in a customer's navigation at all
    assert any("for staff" in e.value for e in customer.error) and not any(
        "Business goal" in m.value for m in customer.markdown)

"""Staff pages: unreachable for customers, reachable after sign-in with the right role,
and an edit saved there re-indexes the article (a bad edit changes nothing), is kept in the
history with its author and reason, shows its diff, and can be reverted."""

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


ARTICLE = "ts-duplicate-charge"
LIGHTHOUSE = "Kitebase never charges for the lighthouse plan."


def _fill(at: AppTest, body: str | None = None, reason: str | None = None, **fields: str) -> AppTest:
    """Type into the Knowledge page's edit form (nothing runs until a form button is clicked)."""
    if body is not None:
        at.text_area(key=f"kb_body:{ARTICLE}").input(body)
    if reason is not None:
        at.text_input(key=f"kb_reason:{ARTICLE}").input(reason)
    for name, value in fields.items():
        at.text_input(key=f"kb_{name}:{ARTICLE}").input(value)
    return at


def _open_article(workspace) -> AppTest:
    at = sign_in(app(), "erin", PASSWORD)
    at.switch_page("views/knowledge.py").run()
    assert not at.error
    captions = " ".join(c.value for c in at.caption)
    assert "since `None`" not in captions and "is the first indexed version" in captions
    return at.selectbox[0].select(ARTICLE).run()


def test_editor_saves_an_article_and_it_is_re_indexed(workspace):
    at = _open_article(workspace)
    path = workspace / "troubleshooting" / f"{ARTICLE}.md"
    original = path.read_text()
    body = at.text_area(key=f"kb_body:{ARTICLE}").value
    assert body.startswith("#") and "---" not in body.splitlines()[0]  # the body alone; front matter is fields
    assert at.text_input(key=f"kb_title:{ARTICLE}").value and at.text_input(key=f"kb_id:{ARTICLE}").disabled

    _fill(at, body="   ", reason="empty it").button(key="save_article").click().run()
    assert any("not saved" in e.value and "no text" in e.value for e in at.error)
    _fill(at, body=body.replace("## If that didn't help", f"{LIGHTHOUSE}\n\n## If that didn't help"), reason="")
    at.button(key="save_article").click().run()
    assert any("needs a reason" in e.value for e in at.error)
    assert path.read_text() == original

    edited_body = body.replace("## If that didn't help", f"{LIGHTHOUSE}\n\n## If that didn't help")
    _fill(at, body=edited_body, reason="lighthouse customers asked").button(key=f"kb_preview:{ARTICLE}").click().run()
    assert path.read_text() == original  # a preview writes nothing
    assert any(LIGHTHOUSE in m.value for m in at.markdown)
    assert any(f"+{LIGHTHOUSE}" in c.value for c in at.code)

    at.button(key="save_article").click().run()
    saved = next(s.value for s in at.success if "KB version is now" in s.value)
    new_version = saved.split("`")[1]
    assert {m.label: m.value for m in at.metric}["KB version (indexed)"] == new_version  # not the old one
    assert "since `None`" not in " ".join(c.value for c in at.caption)
    assert path.read_text() == original.replace("## If that didn't help", f"{LIGHTHOUSE}\n\n## If that didn't help")
    hits = _app_agent_search("lighthouse plan")
    assert hits[0] == ARTICLE


def test_a_form_save_shows_in_the_history_with_its_diff_and_a_revert_restores_the_index(workspace):
    from supportgraph.config import Settings
    from supportgraph.knowledge.index import read_manifest

    at = _open_article(workspace)
    path = workspace / "troubleshooting" / f"{ARTICLE}.md"
    original, first_version = path.read_text(), read_manifest(Settings().index_dir)["kb_version"]
    assert any("No saved edits yet" in c.value for c in at.caption)
    body = at.text_area(key=f"kb_body:{ARTICLE}").value
    _fill(at, body=body.replace("## If that didn't help", f"{LIGHTHOUSE}\n\n## If that didn't help"),
          reason="lighthouse customers asked", tags="billing, lighthouse")
    at.button(key="save_article").click().run()
    assert not at.error
    edited_version = read_manifest(Settings().index_dir)["kb_version"]
    assert edited_version != first_version and "lighthouse" in path.read_text()

    history = at.dataframe[0].value
    assert list(history["author"]) == ["erin"] and list(history["reason"]) == ["lighthouse customers asked"]
    assert list(history["article"]) == [ARTICLE] and list(history["change"]) == ["edited"]
    diff = at.code[0].value
    assert f"+{LIGHTHOUSE}" in diff.splitlines() and any(line.startswith("+tags:") for line in diff.splitlines())
    assert any(line.startswith("-") and not line.startswith("---") for line in diff.splitlines())  # the old tags

    at.text_input(key=f"kb_revert_note:{ARTICLE}").input("not announced yet")
    at.button(key=f"kb_revert:{ARTICLE}").click().run()
    assert not at.error
    assert path.read_text() == original
    assert read_manifest(Settings().index_dir)["kb_version"] == first_version  # the agent's index is back too
    assert {m.label: m.value for m in at.metric}["KB version (indexed)"] == first_version
    history = at.dataframe[0].value
    assert list(history["reason"])[0].startswith("revert #") and "not announced yet" in list(history["reason"])[0]
    assert list(history["author"]) == ["erin", "erin"]
    assert f"-{LIGHTHOUSE}" in at.code[0].value.splitlines()  # the revert's own diff, newest first
    assert at.text_area(key=f"kb_body:{ARTICLE}").value == body  # the form shows the restored text, not the draft
    assert not at.text_input(key=f"kb_reason:{ARTICLE}").value  # a reason is for one save
    assert ARTICLE not in _app_agent_search("lighthouse plan")[:1]


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

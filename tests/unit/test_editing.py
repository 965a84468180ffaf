"""Editors' operations on files: validated before writing, nothing lost on a bad edit."""

import json

import pytest

from supportgraph.errors import KnowledgeError
from supportgraph.knowledge.articles import load_articles, numbered_items
from supportgraph.knowledge.editing import (
    find_article,
    new_article,
    remove_article,
    save_article_text,
)
from supportgraph.knowledge.importers import import_path
from tests.unit.conftest import write_kb

pytestmark = pytest.mark.unit


def test_new_article_lands_in_its_type_folder_and_loads_back(tmp_path):
    article = new_article(tmp_path, id="billing-vat", title="Adding a VAT number", type="faq",
                          body="## Steps\n1. Open Settings > Billing.\n2. Enter the VAT ID.", tags=["vat"])
    assert article.path == "faqs/billing-vat.md"
    loaded = find_article(tmp_path, "billing-vat")
    assert loaded.title == "Adding a VAT number" and loaded.tags == ["vat"]
    assert numbered_items(loaded.section("Steps").text) == ["Open Settings > Billing.", "Enter the VAT ID."]


def test_a_bad_edit_is_refused_and_the_file_is_untouched(tmp_path):
    write_kb(tmp_path)
    path = tmp_path / "policies" / "refunds.md"
    before = path.read_text()
    with pytest.raises(KnowledgeError, match="not saved") as error:
        save_article_text(tmp_path, "---\ntitle: [broken\n---\nbody", "policies/refunds.md")
    assert "front matter is not valid YAML" in error.value.message and "two `---` lines" in error.value.fix
    assert path.read_text() == before


def test_an_id_used_by_another_file_is_refused(tmp_path):
    write_kb(tmp_path)
    with pytest.raises(KnowledgeError, match="already used"):
        new_article(tmp_path, id="policy-refunds", title="Copy", type="policy", body="text")


def test_remove_deletes_the_file(tmp_path):
    write_kb(tmp_path)
    remove_article(tmp_path, "policy-refunds")
    assert "policy-refunds" not in [a.id for a in load_articles(tmp_path).articles]


def test_import_zendesk_style_csv_and_report_bad_rows(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text('Title,Body,Tags\n"How do I reset my password?","<p>Click <b>Forgot password</b>.</p>",login\n'
                      '"No answer here",,\n')
    report = import_path(export, tmp_path / "kb", type="faq", product_area="account")
    assert report.created == ["how-do-i-reset-my-password"]
    assert len(report.problems) == 1 and "export.csv:2" in str(report.problems[0])
    article = find_article(tmp_path / "kb", "how-do-i-reset-my-password")
    assert "**Forgot password**" in article.body and article.tags == ["login"] and article.product_area == "account"


def test_import_intercom_style_jsonl(tmp_path):
    export = tmp_path / "faq.jsonl"
    export.write_text(json.dumps({"question": "Can I pay by invoice?", "answer": "Yes, on Business annual."}) + "\n")
    assert import_path(export, tmp_path / "kb").created == ["can-i-pay-by-invoice"]


def test_import_a_folder_of_html_and_text(tmp_path):
    source = tmp_path / "export"
    source.mkdir()
    (source / "refunds.html").write_text("<html><body><h1>Refunds</h1><p>Within 14 days.</p></body></html>")
    (source / "notes.txt").write_text("# Notes\n\nPlain text works too.")
    report = import_path(source, tmp_path / "kb", type="policy")
    assert sorted(report.created) == ["policies/notes", "policies/refunds"]
    assert find_article(tmp_path / "kb", "policies/refunds").title == "Refunds"


# Versioned saves: who, when, why, before and after, in the store; diff and revert; `changes --since`.

@pytest.fixture
def edits_store(tmp_path):
    from supportgraph.store import Store

    return Store(f"sqlite:///{tmp_path / 'edits.db'}")


def _edited(tmp_path, old: str, new: str) -> str:
    return (tmp_path / "policies" / "refunds.md").read_text().replace(old, new)


def test_a_save_records_author_reason_and_both_texts(tmp_path, edits_store):
    from supportgraph.knowledge.versions import list_edits, versioned_save

    write_kb(tmp_path)
    path = tmp_path / "policies" / "refunds.md"
    before = path.read_text()
    assert "14 days" in before
    saved = versioned_save(tmp_path, edits_store, _edited(tmp_path, "14 days", "30 days"), author="erin",
                           reason="  refund window is now\n30 days ", relative_path="policies/refunds.md")
    assert "30 days" in path.read_text()
    edit = saved.edit
    assert (edit.author, edit.reason, edit.article_id, edit.kind) == ("erin", "refund window is now 30 days",
                                                                      "policy-refunds", "edited")
    assert edit.before == before and edit.after == path.read_text() and edit.created_at.tzinfo is not None
    assert [e.id for e in list_edits(edits_store, "policy-refunds")] == [edit.id]
    assert list_edits(edits_store, "some-other-article") == []


def test_a_save_without_a_reason_or_that_does_not_validate_writes_and_records_nothing(tmp_path, edits_store):
    from supportgraph.knowledge.versions import list_edits, versioned_save

    write_kb(tmp_path)
    path = tmp_path / "policies" / "refunds.md"
    before = path.read_text()
    with pytest.raises(KnowledgeError, match="needs a reason"):
        versioned_save(tmp_path, edits_store, _edited(tmp_path, "14", "30"), author="erin", reason=" ",
                       relative_path="policies/refunds.md")
    with pytest.raises(KnowledgeError, match="not saved"):
        versioned_save(tmp_path, edits_store, "---\ntitle: [broken\n---\nbody", author="erin", reason="typo",
                       relative_path="policies/refunds.md")
    unchanged = versioned_save(tmp_path, edits_store, before, author="erin", reason="no-op",
                               relative_path="policies/refunds.md")
    assert unchanged.edit is None and path.read_text() == before and list_edits(edits_store) == []


def test_the_diff_shows_the_changed_line_and_revert_restores_the_earlier_text(tmp_path, edits_store):
    from supportgraph.knowledge.versions import edit_diff, list_edits, revert_edit, versioned_save, versions_diff

    write_kb(tmp_path)
    path = tmp_path / "policies" / "refunds.md"
    original = path.read_text()
    first = versioned_save(tmp_path, edits_store, _edited(tmp_path, "14 days", "30 days"), author="erin",
                           reason="longer window", relative_path="policies/refunds.md").edit
    second = versioned_save(tmp_path, edits_store, _edited(tmp_path, "30 days", "60 days"), author="ada",
                            reason="even longer", relative_path="policies/refunds.md").edit
    diff = edit_diff(second)
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert len(changed) == 2 and "30 days" in changed[0] and changed[0][0] == "-"
    assert "60 days" in changed[1] and changed[1][0] == "+"
    assert "14 days" not in versions_diff(edits_store, first.id, second.id)  # version #1 against #2

    reverted = revert_edit(tmp_path, edits_store, first.id, author="rick", note="legal said no")
    assert path.read_text() == original  # back to before #1, undoing #2 as well
    assert reverted.edit.reverts == first.id and reverted.edit.author == "rick"
    assert reverted.edit.reason == f"revert #{first.id} (longer window): legal said no"
    assert reverted.edit.before == second.after  # nothing is lost: what the revert replaced is recorded
    assert [e.id for e in list_edits(edits_store, "policy-refunds")] == [reverted.edit.id, second.id, first.id]
    with pytest.raises(KnowledgeError, match="already reads"):
        revert_edit(tmp_path, edits_store, first.id, author="rick")


def test_reverting_a_creation_removes_the_article_and_reverting_that_brings_it_back(tmp_path, edits_store):
    from supportgraph.knowledge.editing import new_article_text
    from supportgraph.knowledge.versions import revert_edit, versioned_save

    write_kb(tmp_path)
    created = versioned_save(tmp_path, edits_store, new_article_text(id="faq-vat", title="VAT", type="faq",
                                                                     body="Add it under Billing."),
                             author="erin", reason="new article").edit
    assert created.kind == "created" and created.path == "faqs/faq-vat.md"
    removal = revert_edit(tmp_path, edits_store, created.id, author="erin").edit
    assert removal.kind == "removed" and not (tmp_path / "faqs" / "faq-vat.md").exists()
    revert_edit(tmp_path, edits_store, removal.id, author="erin")
    assert find_article(tmp_path, "faq-vat").title == "VAT"


def test_the_form_keeps_untouched_front_matter_byte_for_byte(tmp_path):
    from supportgraph.knowledge.editing import article_fields, check_article_text, compose_article_text

    write_kb(tmp_path)
    text = (tmp_path / "policies" / "refunds.md").read_text()
    article = find_article(tmp_path, "policy-refunds")
    fields = article_fields(article)
    body_only = compose_article_text(text, article, fields, article.body.replace("14 days", "30 days"))
    assert body_only == text.replace("14 days", "30 days")
    retitled = compose_article_text(text, article, fields | {"title": "Refunds, revised", "tags": ["money"]},
                                    article.body)
    saved = check_article_text(tmp_path, retitled, article.path)
    assert saved.title == "Refunds, revised" and saved.tags == ["money"] and saved.body == article.body
    assert saved.audience == article.audience


def test_changes_since_lists_the_saved_edits_beside_git(tmp_path, edits_store):
    import subprocess

    from supportgraph.changes import changes_since, render_markdown
    from supportgraph.knowledge.versions import versioned_save

    write_kb(tmp_path)
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "kb"]):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    versioned_save(tmp_path, edits_store, _edited(tmp_path, "14 days", "30 days"), author="erin",
                   reason="refund window is now 30 days", relative_path="policies/refunds.md")
    changes = changes_since(tmp_path, "7d", edits_store)
    assert [(e.author, e.article_id) for e in changes.edits] == [("erin", "policy-refunds")]
    markdown = render_markdown(changes)
    assert "## Knowledge edits (1" in markdown
    assert "erin edited `policy-refunds`: refund window is now 30 days" in markdown
    assert changes_since(tmp_path, "last monday", edits_store).edits is not None  # a git date works too
    assert changes_since(tmp_path, "7d").edits is None and "Knowledge edits" not in render_markdown(
        changes_since(tmp_path, "7d"))


def test_an_api_save_needs_a_reason_is_recorded_under_the_key_name_and_can_be_reverted(unit_agent):
    from fastapi.testclient import TestClient

    from supportgraph.api import create_app
    from supportgraph.store.keys import create_key

    staff = {"X-Api-Key": create_key(unit_agent.store, "acme", "helpdesk-sync", "staff", 600, 600)[0]}
    path = unit_agent.settings.knowledge_dir / "policies" / "refunds.md"
    original = path.read_text()
    edited = original.replace("14 days", "30 days")
    with TestClient(create_app(unit_agent.settings, agent=unit_agent, send_webhooks=False),
                    raise_server_exceptions=False) as api:
        assert api.put("/knowledge/articles/policy-refunds", headers=staff, json={"text": edited}).status_code == 422
        mismatch = api.put("/knowledge/articles/other-id", headers=staff, json={"text": edited, "reason": "x"})
        assert mismatch.status_code == 422 and path.read_text() == original  # refused before anything is written
        saved = api.put("/knowledge/articles/policy-refunds", headers=staff,
                        json={"text": edited, "reason": "refund window is now 30 days"})
        assert saved.status_code == 200, saved.text
        history = api.get("/knowledge/edits", headers=staff, params={"article_id": "policy-refunds"}).json()
        assert [(e["id"], e["author"], e["reason"], e["kind"]) for e in history] == [
            (saved.json()["edit_id"], "helpdesk-sync", "refund window is now 30 days", "edited")]
        diff = api.get(f"/knowledge/edits/{history[0]['id']}", headers=staff).json()["diff"]
        assert "-Duplicate charges are always refunded in full. Monthly plans: 14 days." in diff
        reverted = api.post(f"/knowledge/edits/{history[0]['id']}/revert", headers=staff, json={"reason": "oops"})
        assert reverted.status_code == 200 and reverted.json()["kb_version"] != saved.json()["kb_version"]
        assert path.read_text() == original

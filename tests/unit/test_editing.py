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

"""The editors' CLI on a copy of the knowledge base: add, edit, import, remove, stats, history, search."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supportgraph.cli import app
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def kb(tmp_path, indexed_home, monkeypatch):
    knowledge, home = tmp_path / "knowledge", tmp_path / "home"
    shutil.copytree(REPO / "knowledge", knowledge)
    shutil.copytree(indexed_home, home)
    monkeypatch.setenv("SUPPORTGRAPH_KNOWLEDGE_DIR", str(knowledge))
    monkeypatch.setenv("SUPPORTGRAPH_HOME", str(home))
    monkeypatch.setenv("SUPPORTGRAPH_DATABASE_URL", f"sqlite:///{tmp_path / 'kb.db'}")
    return knowledge


def invoke(*args: str):
    return CliRunner().invoke(app, [*args, "--project", str(REPO)])


def test_editor_workflow_end_to_end(kb, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("Kitebase is carbon neutral since 2025.\n\n## Steps\n1. Open Settings > Workspace > Sustainability.\n")
    added = invoke("kb", "add", "--id", "faq-carbon", "--title", "Is Kitebase carbon neutral?",
                   "--area", "workspace", "--body-file", str(body))
    assert added.exit_code == 0, added.output
    assert (kb / "faqs" / "faq-carbon.md").exists() and "1 added" in added.output

    found = invoke("kb", "search", "carbon neutral sustainability", "--json")
    best = json.loads(found.stdout)["hits"][0]
    assert best["id"] == "faq-carbon"
    assert best["phrase"] > best["lexical"] > 0  # "carbon neutral" is also a phrase of the new article

    broken = tmp_path / "broken.md"
    broken.write_text("---\nid: faq-carbon\ntype: blogpost\n---\nText\n")
    refused = invoke("kb", "edit", "faq-carbon", "--from-file", str(broken), "--reason", "typo", "--no-index")
    assert refused.exit_code == 1 and "not saved" in refused.output and "Fix:" in refused.output
    assert "carbon neutral since 2025" in (kb / "faqs" / "faq-carbon.md").read_text()

    fixed = tmp_path / "fixed.md"
    fixed.write_text((kb / "faqs" / "faq-carbon.md").read_text().replace("since 2025", "since 2024"))
    edited = invoke("kb", "edit", "faq-carbon", "--from-file", str(fixed), "--reason", "the year was wrong",
                    "--as", "erin", "--no-index")
    assert edited.exit_code == 0 and "edit #2 by erin" in edited.output, edited.output
    edits = " ".join(invoke("kb", "edits", "faq-carbon").output.split())
    assert "#2" in edits and "erin edited faq-carbon: the year was wrong" in edits and "created faq-carbon" in edits
    diff = invoke("kb", "diff", "2").output
    assert "-Kitebase is carbon neutral since 2025." in diff and "+Kitebase is carbon neutral since 2024." in diff
    reverted = invoke("kb", "revert", "2", "--as", "ada", "--no-index")
    assert reverted.exit_code == 0 and "revert #2 (the year was wrong)" in reverted.output, reverted.output
    assert "carbon neutral since 2025" in (kb / "faqs" / "faq-carbon.md").read_text()
    assert "ada edited `faq-carbon`: revert #2" in invoke("changes", "--since", "1d").output

    export = tmp_path / "intercom.jsonl"
    export.write_text(json.dumps({"title": "Do you offer a nonprofit discount?", "body": "Yes, 50% for charities."}) + "\n")
    imported = invoke("kb", "import", str(export), "--no-index")
    assert imported.exit_code == 0 and "Imported 1 articles" in imported.output

    removed = invoke("kb", "remove", "faq-carbon", "--reason", "not a support topic")
    assert removed.exit_code == 0 and not (kb / "faqs" / "faq-carbon.md").exists()

    stats = " ".join(invoke("kb", "stats").output.split())
    assert "69 articles" in stats and "up to date" in stats  # remove re-indexed, the import included
    history = " ".join(invoke("kb", "history").output.split())
    assert "added faq-carbon" in history and "removed faq-carbon" in history


def test_validate_names_each_bad_file(kb):
    (kb / "faqs" / "bad.md").write_text("---\nid: Bad Id!\n---\nText\n")
    result = invoke("kb", "validate")
    assert result.exit_code == 1 and "faqs/bad.md" in result.output and "Fix:" in result.output


def test_kb_calibrate_fits_on_the_knowledge_base_itself_or_on_labelled_questions(kb):
    home = Path(os.environ["SUPPORTGRAPH_HOME"])
    manifest = home / "index" / "manifest.json"
    before = json.loads(manifest.read_text())["calibration"]
    own = invoke("kb", "calibrate")
    assert own.exit_code == 0, own.output
    assert re.search(r"Fitted on \d+ questions from this knowledge base's titles and headings", own.output)
    after = json.loads(manifest.read_text())["calibration"]
    assert after["source"] == "self" and after["questions"] >= 20
    assert after["intercept"] == pytest.approx(before["intercept"], abs=1e-6)  # same articles, same fit

    labelled = invoke("kb", "calibrate", "--dataset", "evals/datasets/golden.jsonl", "--dry-run")
    assert labelled.exit_code == 0, labelled.output
    accuracy = float(re.search(r"Fitted on 210 labelled questions, accuracy at p=0.5: ([\d.]+)", labelled.output)[1])
    assert accuracy > 0.7
    assert "Saved" not in labelled.output  # --dry-run leaves params.yaml alone

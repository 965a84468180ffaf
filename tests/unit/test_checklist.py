"""The stand-up checklist: each track reads the project's real state and says why a box is empty."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from supportgraph.checklist import checklist
from supportgraph.cli import app
from supportgraph.knowledge.index import build_index
from supportgraph.review.transcripts import tag_conversation
from supportgraph.store import FeedbackIn, Store, TurnRecord

pytestmark = pytest.mark.unit


@pytest.fixture
def store(kb_settings):
    return Store(kb_settings.database_url)


def _tracks(settings, store) -> dict:
    return {track.name: track for track in checklist(settings, store)}


def test_an_unbuilt_index_and_a_silent_week_leave_boxes_empty(kb_settings, store):
    tracks = _tracks(kb_settings, store)
    assert list(tracks) == ["Process", "Experimentation", "Context layer", "Versioning", "Feedback"]
    assert tracks["Process"].ok  # the sample brief has goal, owner, thresholds, guardrails
    assert not tracks["Context layer"].ok and "supportgraph index" in tracks["Context layer"].reason
    assert not tracks["Feedback"].ok and tracks["Feedback"].reason.startswith("no ratings in the last 7 days")


def test_the_boxes_fill_as_the_work_happens(kb_settings, store, hash_embedder, unit_brief):
    build_index(kb_settings, hash_embedder)
    turn = store.record_turn("c1", TurnRecord(customer_message="hi", reply="hello", outcome="escalated"))
    store.save_feedback(FeedbackIn(turn_id=turn, thumb="down"))
    tag_conversation(store, unit_brief, "c1", "missing_article", "rita")
    tracks = _tracks(kb_settings, store)
    assert tracks["Context layer"].ok, tracks["Context layer"].reason
    assert tracks["Feedback"].ok, tracks["Feedback"].reason
    assert tracks["Versioning"].ok, tracks["Versioning"].reason  # prompts locked, CI present, last eval passes

    article = kb_settings.knowledge_dir / "troubleshooting" / "sync.md"
    article.write_text(article.read_text() + "\nOne more line.\n")
    stale = _tracks(kb_settings, store)["Context layer"]
    assert not stale.ok and "changed since the index was built" in stale.reason


def test_a_broken_brief_empties_the_process_box(kb_settings, store, tmp_path):
    broken = tmp_path / "brief.yaml"
    broken.write_text("name: support\ntitle: x\n")
    settings = kb_settings.model_copy(update={"brief_path": broken})
    process = _tracks(settings, store)["Process"]
    assert not process.ok and "brief.yaml" in process.reason


def test_experimentation_needs_a_concluded_experiment_in_the_log(kb_settings, store, tmp_path):
    assert _tracks(kb_settings, store)["Experimentation"].ok  # the repo's log holds one (evals/experiments.jsonl)
    elsewhere = kb_settings.model_copy(update={"project_dir": tmp_path})
    empty = _tracks(elsewhere, store)["Experimentation"]
    assert not empty.ok and "no experiment concluded yet" in empty.reason
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "experiments.jsonl").write_text('{"date": "yesterday"}\n')
    broken = _tracks(elsewhere, store)["Experimentation"]
    assert not broken.ok and "unreadable" in broken.reason


def test_checklist_cli_prints_json(kb_settings, monkeypatch):
    for name in ("home", "knowledge_dir", "database_url"):
        monkeypatch.setenv(f"SUPPORTGRAPH_{name.upper()}", str(getattr(kb_settings, name)))
    result = CliRunner().invoke(app, ["checklist", "--json"])
    assert result.exit_code == 0, result.output
    tracks = json.loads(result.stdout)
    assert [t["track"] for t in tracks][0] == "Process" and all(t["reason"] for t in tracks)
    table = CliRunner().invoke(app, ["checklist"])
    assert "that's your next sprint" in table.output

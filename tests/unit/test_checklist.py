"""The stand-up checklist: each track reads the project's real state and says why a box is empty."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from supportgraph.checklist import checklist
from supportgraph.cli import app
from supportgraph.knowledge.index import build_index
from supportgraph.review.transcripts import tag_conversation
from supportgraph.store import FeedbackIn, Store, TurnRecord
from tests.conftest import EVALUATED_METRICS, REPO, write_evaluated_project

pytestmark = pytest.mark.unit


@pytest.fixture
def store(kb_settings):
    return Store(kb_settings.database_url)


@pytest.fixture
def project(tmp_path):
    """The repository's prompts with an evaluation state (CI, metrics, experiments log) of the test's own."""
    root = write_evaluated_project(tmp_path / "project")
    shutil.copytree(REPO / "prompts", root / "prompts")
    return root


@pytest.fixture
def project_settings(kb_settings, project):
    return kb_settings.model_copy(update={"project_dir": project})


def _tracks(settings, store) -> dict:
    return {track.name: track for track in checklist(settings, store)}


def test_an_unbuilt_index_and_a_silent_week_leave_boxes_empty(project_settings, store):
    tracks = _tracks(project_settings, store)
    assert list(tracks) == ["Process", "Experimentation", "Context layer", "Versioning", "Feedback"]
    assert tracks["Process"].ok  # the sample brief has goal, owner, thresholds, guardrails
    assert not tracks["Context layer"].ok and "supportgraph index" in tracks["Context layer"].reason
    assert not tracks["Feedback"].ok and tracks["Feedback"].reason.startswith("no ratings in the last 7 days")


def test_the_boxes_fill_as_the_work_happens(project_settings, store, hash_embedder, unit_brief):
    build_index(project_settings, hash_embedder)
    turn = store.record_turn("c1", TurnRecord(customer_message="hi", reply="hello", outcome="escalated"))
    store.save_feedback(FeedbackIn(turn_id=turn, thumb="down"))
    tag_conversation(store, unit_brief, "c1", "missing_article", "rita")
    tracks = _tracks(project_settings, store)
    assert tracks["Context layer"].ok, tracks["Context layer"].reason
    assert tracks["Feedback"].ok, tracks["Feedback"].reason
    assert tracks["Versioning"].ok, tracks["Versioning"].reason  # prompts locked, CI present, last eval passes

    article = project_settings.knowledge_dir / "troubleshooting" / "sync.md"
    article.write_text(article.read_text() + "\nOne more line.\n")
    stale = _tracks(project_settings, store)["Context layer"]
    assert not stale.ok and "changed since the index was built" in stale.reason


def test_a_broken_brief_empties_the_process_box(kb_settings, store, tmp_path):
    broken = tmp_path / "brief.yaml"
    broken.write_text("name: support\ntitle: x\n")
    settings = kb_settings.model_copy(update={"brief_path": broken})
    process = _tracks(settings, store)["Process"]
    assert not process.ok and "brief.yaml" in process.reason


def test_the_versioning_box_empties_without_ci_or_a_passing_evaluation(project_settings, project, store):
    (project / ".ci" / "run").unlink()
    versioning = _tracks(project_settings, store)["Versioning"]
    assert not versioning.ok and versioning.reason.startswith("no .ci/run")
    write_evaluated_project(project, metrics={**EVALUATED_METRICS, "outcome": {"answerable_answered": 0.5}})
    versioning = _tracks(project_settings, store)["Versioning"]
    assert not versioning.ok and versioning.reason == "last evaluation fails the gate on outcome.answerable_answered"
    (project / "evals" / "results" / "metrics.json").unlink()
    assert _tracks(project_settings, store)["Versioning"].reason.startswith("no evaluation results")


def test_experimentation_needs_a_concluded_experiment_in_the_log(kb_settings, project_settings, store, tmp_path):
    concluded = _tracks(project_settings, store)["Experimentation"]
    assert concluded.ok and concluded.reason == ("1 experiment with metrics logged; "
                                                 "last 2026-11-25: production kept over dense-only")
    elsewhere = kb_settings.model_copy(update={"project_dir": tmp_path})
    empty = _tracks(elsewhere, store)["Experimentation"]
    assert not empty.ok and "no experiment concluded yet" in empty.reason
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "experiments.jsonl").write_text('{"date": "yesterday"}\n')
    broken = _tracks(elsewhere, store)["Experimentation"]
    assert not broken.ok and "unreadable" in broken.reason


def test_checklist_cli_prints_json(project_settings, store, monkeypatch):
    for name in ("project_dir", "home", "knowledge_dir", "database_url", "brief_path"):
        monkeypatch.setenv(f"SUPPORTGRAPH_{name.upper()}", str(getattr(project_settings, name)))
    result = CliRunner().invoke(app, ["checklist", "--json"])
    assert result.exit_code == 0, result.output
    tracks = json.loads(result.stdout)
    assert [(t["track"], t["ok"]) for t in tracks] == [("Process", True), ("Experimentation", True),
                                                      ("Context layer", False), ("Versioning", True),
                                                      ("Feedback", False)]
    assert [t["reason"] for t in tracks] == [t.reason for t in checklist(project_settings, store)]
    table = CliRunner().invoke(app, ["checklist"])
    assert "that's your next sprint" in table.output

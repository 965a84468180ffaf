"""One evaluation orchestration: the one-shot `supportgraph eval` and the three DVC stages write
the same files from the same articles, history included (tiny KB, hash embedder, real Chroma)."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from supportgraph.cli import app
from supportgraph.config import Settings
from supportgraph.evals.judge import build_judge
from supportgraph.evals.pipeline import answer_stage, evaluate_all, report_stage, score_stage
from tests.conftest import REPO
from tests.unit.conftest import write_kb

pytestmark = pytest.mark.unit

CASES = [{"id": "q1", "question": "I was charged twice this month", "reference_answer": "Check for a pending charge.",
          "sources": ["ts-charged-twice"]},
         {"id": "q2", "question": "can you book me a table for two in Berlin", "reference_answer": "Hand over.",
          "answerable": False}]
FILES = ("answers.jsonl", "results.jsonl", "metrics.json", "per_category.csv", "report.md", "history.csv")


def without_latency(out):
    metrics = json.loads((out / "metrics.json").read_text())
    metrics.pop("latency")
    return metrics


@pytest.fixture
def project(tmp_path):
    """A project with the tiny knowledge base, and a two-question dataset."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "agents", root / "agents")
    shutil.copytree(REPO / "prompts", root / "prompts")
    write_kb(root / "knowledge")
    dataset = tmp_path / "golden.jsonl"
    dataset.write_text("".join(json.dumps(c) + "\n" for c in CASES))
    return root, dataset


def test_the_one_shot_and_the_stages_are_one_path(project, tmp_path, hash_embedder):
    root, dataset = project
    settings = Settings(project_dir=root, home=root / ".home")

    one_shot = tmp_path / "one-shot"
    failures = evaluate_all(settings, dataset, one_shot, hash_embedder, build_judge(settings))
    staged = tmp_path / "staged"
    answer_stage(settings, dataset, staged / "answers.jsonl", hash_embedder)
    score_stage(settings, staged / "answers.jsonl", staged, hash_embedder, None)
    assert report_stage(settings, staged) == failures
    for name in FILES:
        assert (one_shot / name).exists() and (staged / name).exists(), name
    assert without_latency(one_shot) == without_latency(staged)
    assert [json.loads(line)["outcome"] for line in (one_shot / "results.jsonl").read_text().splitlines()] == \
        [json.loads(line)["outcome"] for line in (staged / "results.jsonl").read_text().splitlines()]


def test_the_cli_one_shot_writes_answers_and_history_too(project, tmp_path, hash_embedder, monkeypatch):
    root, dataset = project
    monkeypatch.setattr("supportgraph.cli.evals._embedder", lambda settings: hash_embedder)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["eval", "--dataset", str(dataset), "--out", str(out), "--project", str(root)])
    assert result.exit_code == 0, result.output
    assert all((out / name).exists() for name in FILES)
    assert json.loads((out / "metrics.json").read_text())["count"]["questions"] == 2

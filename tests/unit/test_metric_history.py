"""Metric history for `dvc plots show`: one row per evaluated commit, then the current run."""

import json
import subprocess

import pytest

from supportgraph.changes import metric_history

pytestmark = pytest.mark.unit


def _commit(repo, recall: float, message: str) -> None:
    path = repo / "evals" / "results" / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"retrieval": {"recall_at_5": recall}, "latency": {"p95_ms": 80.0}}))
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message],
                   cwd=repo, check=True)


def test_history_lists_evaluated_commits_then_the_current_run(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    _commit(tmp_path, 0.80, "first evaluation")
    _commit(tmp_path, 0.90, "better prompt")
    current = {"retrieval": {"recall_at_5": 0.95}, "latency": {"p95_ms": 80.0}}
    rows = metric_history(tmp_path, current)
    assert [(r["step"], r["retrieval.recall_at_5"]) for r in rows] == [(1, 0.80), (2, 0.90), (3, 0.95)]
    assert rows[-1]["commit"] == "current" and rows[0]["date"]

    # Committing the current run does not add a row: the file stays the same, so DVC sees no change.
    same = {"retrieval": {"recall_at_5": 0.90}, "latency": {"p95_ms": 80.0}}
    assert [r["retrieval.recall_at_5"] for r in metric_history(tmp_path, same)] == [0.80, 0.90]
    assert metric_history(tmp_path, same)[-1]["commit"] == "current"

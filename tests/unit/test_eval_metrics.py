import datetime as dt
import json
import os
import subprocess

import pytest

from supportgraph.changes import changes_since, git_date, render_markdown
from supportgraph.evals.metrics import evaluate, nest
from supportgraph.evals.report import check_gate, failing
from supportgraph.evals.runner import EvalRecord

pytestmark = pytest.mark.unit


def record(id, outcome, answerable=True, cited=(), retrieved=(), sources=("a",), answer=None, summary="S."):
    answer = answer or {"answered": "**Summary:** S.\n\n1. Do it.\n\nDid that resolve your issue?",
                        "clarify": "Which device?", "escalated": "A person will follow up here."}[outcome]
    return EvalRecord(id=id, question="q", reference_answer="r", sources=list(sources) if answerable else [],
                      answerable=answerable, outcome=outcome, first_outcome=outcome, answer=answer, summary=summary,
                      steps=["Do it."], cited=list(cited), retrieved=list(retrieved), retrieved_contexts=[],
                      confidence=0.9, latency_ms=10.0, turns=1, flags=[])


def test_metrics_score_what_a_reviewer_would_check():
    records = [record("1", "answered", cited=["a"], retrieved=["a", "b"]),
               record("2", "answered", cited=["b"], retrieved=["b", "a"]),
               record("3", "escalated", retrieved=["c"]),
               record("4", "escalated", answerable=False),
               record("5", "answered", answerable=False, cited=["x"])]
    flat, per_case = evaluate(records)
    assert flat["retrieval.recall_at_1"] == pytest.approx(1 / 3, abs=1e-3)
    assert flat["retrieval.mrr_at_10"] == pytest.approx((1 + 0.5 + 0) / 3, abs=1e-3)
    assert flat["answer.citation_accuracy"] == 0.5
    assert flat["outcome.answerable_answered"] == pytest.approx(2 / 3, abs=1e-3)
    assert flat["outcome.unanswerable_abstained"] == 0.5
    assert per_case["5"]["outcome.accuracy"] == 0.0
    assert [r.id for r in failing(records, per_case)][:2] == ["3", "5"]


def test_scaffold_compliance_fails_a_reply_without_numbered_steps():
    _, per_case = evaluate([record("1", "answered", answer="Just do it."), record("2", "clarify", answer="Which? Or?")])
    assert per_case["1"]["answer.scaffold_compliance"] == 0.0
    assert per_case["2"]["answer.scaffold_compliance"] == 0.0


def test_gate_reports_each_threshold_missed():
    metrics = nest({"retrieval.recall_at_5": 0.9, "outcome.answerable_answered": 0.7})
    failures = check_gate(metrics, {"retrieval.recall_at_5": 0.85, "outcome.answerable_answered": 0.8,
                                    "outcome.missing": 0.1})
    assert [(f.metric, f.value) for f in failures] == [("outcome.answerable_answered", 0.7), ("outcome.missing", None)]


def test_git_date_short_forms():
    assert git_date("7d") == "7 days ago" and git_date("2w") == "2 weeks ago" and git_date("last monday") == "last monday"


def _commit(repo, message, days_ago):
    date = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)).isoformat(timespec="seconds")
    env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@x",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@x")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", message], cwd=repo, check=True, env=env)


def test_changes_lists_articles_prompts_and_metric_deltas(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "evals/results").mkdir(parents=True)
    (tmp_path / "knowledge/old.md").write_text("# Old\n\nText.\n")
    (tmp_path / "knowledge/edited.md").write_text("# Edited\n\nV1.\n")
    (tmp_path / "evals/results/metrics.json").write_text(json.dumps({"retrieval": {"recall_at_5": 0.8}}))
    _commit(tmp_path, "baseline", 20)
    (tmp_path / "knowledge/old.md").unlink()
    (tmp_path / "knowledge/edited.md").write_text("# Edited\n\nV2.\n")
    (tmp_path / "knowledge/new.md").write_text("# New\n\nText.\n")
    (tmp_path / "prompts/answer").mkdir(parents=True)
    (tmp_path / "prompts/answer/CHANGELOG.md").write_text("## 1.1.0\n- Shorter steps, fewer hedges.\n")
    (tmp_path / "evals/results/metrics.json").write_text(json.dumps({"retrieval": {"recall_at_5": 0.9}}))
    _commit(tmp_path, "edit articles", 2)

    changes = changes_since(tmp_path, "7d")
    assert set(changes.articles) == {("removed", "knowledge/old.md"), ("edited", "knowledge/edited.md"),
                                     ("added", "knowledge/new.md")}
    assert "- Shorter steps, fewer hedges." in changes.changelog_lines
    assert changes.metric_deltas == [("retrieval.recall_at_5", 0.8, 0.9)]
    markdown = render_markdown(changes)
    assert "| retrieval.recall_at_5 | 0.8 | 0.9 | +0.1000 |" in markdown and "edit articles" in markdown

"""One evaluation orchestration, two thin callers: `supportgraph eval` runs answer -> score ->
report in one process, the DVC stages (`eval answer`, `eval score`, `eval report`) one each.

Both read the scored articles from the knowledge folder, write the same files (answers.jsonl,
results.jsonl, metrics.json, per_category.csv, report.md) and the metric history.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from supportgraph.agents.brief import load_brief
from supportgraph.config import Settings
from supportgraph.evals.datasets import load_dataset
from supportgraph.evals.evaluate import answer_with_fresh_index, score
from supportgraph.evals.judge import ChatModelJudge
from supportgraph.evals.report import (
    GateFailure,
    check_gate,
    judge_summary,
    read_scores,
    render_report,
    write_history,
    write_scores,
)
from supportgraph.evals.runner import EvalRecord, read_records, write_records
from supportgraph.evals.variants import Variant
from supportgraph.knowledge.articles import load_articles
from supportgraph.knowledge.embedding import Embedder

Progress = Callable[[int, int], None]


def answer_stage(settings: Settings, dataset: Path, answers: Path, embedder: Embedder, variant: Variant | None = None,
                 progress: Progress | None = None) -> tuple[list[EvalRecord], str]:
    """Answer every question in a fresh temporary index; write answers.jsonl. (records, kb_version)"""
    records, info = answer_with_fresh_index(settings, load_dataset(dataset), embedder, progress, variant)
    write_records(records, answers)
    return records, info["kb_version"]


def score_stage(settings: Settings, answers: Path, out: Path, embedder: Embedder,
                judge: ChatModelJudge | None) -> dict:
    """Score saved answers against the knowledge folder's articles; write the scores. The metrics."""
    articles = {a.id: a.body for a in load_articles(settings.knowledge_dir).articles}
    records = read_records(answers)
    metrics, per_case, judge_errors = score(records, embedder, articles, judge, settings.llm_timeout_s)
    write_scores(out, metrics, records, per_case, judge_errors)
    return metrics


def report_stage(settings: Settings, out: Path, context: dict | None = None) -> list[GateFailure]:
    """report.md and history.csv from the scores in ``out``; the brief's gate failures."""
    metrics, records, per_case, judge_errors = read_scores(out)
    failures = check_gate(metrics, load_brief(settings.brief_path).success_metric.thresholds)
    (out / "report.md").write_text(render_report(metrics, records, per_case, failures, context or {},
                                                 judge_lines=judge_summary(metrics, judge_errors)))
    from supportgraph.changes import metric_history

    write_history(out / "history.csv", metric_history(settings.project_dir, metrics))
    return failures


def evaluate_all(settings: Settings, dataset: Path, out: Path, embedder: Embedder, judge: ChatModelJudge | None,
                 progress: Progress | None = None) -> list[GateFailure]:
    """The three stages in one process, as `dvc repro` runs them."""
    answers = out / "answers.jsonl"
    _, kb_version = answer_stage(settings, dataset, answers, embedder, progress=progress)
    score_stage(settings, answers, out, embedder, judge)
    return report_stage(settings, out, {"dataset": dataset, "kb_version": kb_version})

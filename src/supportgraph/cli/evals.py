"""`supportgraph eval`: answer a question set, score it, report, and gate on the brief's thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from supportgraph.cli.common import (
    ProjectOption,
    console,
    err,
    friendly_errors,
    safe,
    settings_for,
)

app = typer.Typer(help="Evaluate the agent on a golden set (own metrics + RAGAS; LLM-judged with a chat model).")

DatasetOption = Annotated[Path, typer.Option(help="Questions, one JSON object per line (evals/README.md).")]
OutOption = Annotated[Path, typer.Option(help="Folder for metrics.json, results.jsonl, per_category.csv, report.md.")]


def _progress():
    return Progress(TextColumn("[bold]Answering"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err, transient=True)


def _answer(settings, dataset: Path, variant=None):
    from supportgraph.evals.datasets import load_dataset
    from supportgraph.evals.evaluate import answer_with_fresh_index
    from supportgraph.knowledge.embedding import SentenceTransformerEmbedder

    cases = load_dataset(dataset)
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    with _progress() as progress:
        task = progress.add_task("answer", total=len(cases))
        records, info = answer_with_fresh_index(settings, cases, embedder,
                                                lambda done, _: progress.update(task, completed=done), variant)
    return records, info, embedder


def _score(settings, records, embedder, articles):
    """Own metrics + offline RAGAS, + the LLM-judged RAGAS metrics when a chat model is configured."""
    from supportgraph.evals.evaluate import score
    from supportgraph.evals.judge import build_judge

    judge = build_judge(settings)
    if judge is not None:
        err.print(f"Judging with [bold]{judge.name}[/] (faithfulness, answer relevancy, context precision).")
    return score(records, embedder, articles, judge, settings.llm_timeout_s)


def _show(metrics: dict, failures) -> None:
    table = Table("metric", "value", "threshold")
    limits = {f.metric: f for f in failures}
    for group, values in sorted(metrics.items()):
        for name, value in sorted(values.items()):
            failure = limits.get(f"{group}.{name}")
            shown = f"[red]{value}[/]" if failure else str(value)
            table.add_row(f"{group}.{name}", shown, f"≥ {failure.threshold}" if failure else "")
    console.print(table)


def _gate(settings, metrics: dict, records, per_case) -> None:
    from supportgraph.agents.brief import load_brief
    from supportgraph.evals.report import check_gate, failing

    failures = check_gate(metrics, load_brief(settings.brief_path).success_metric.thresholds)
    if not failures:
        console.print("[green]Gate passed:[/] every success-metric threshold in the brief is met.")
        return
    err.print("[bold red]Gate failed:[/] " + ", ".join(f"{f.metric} = {f.value} < {f.threshold}" for f in failures))
    for record in failing(records, per_case)[:10]:
        err.print(f"  {safe(record.id)}: {record.outcome}, cited {safe(record.cited[:1] or '-')}, "
                  f"sources {safe(record.sources or '-')}"
                  f" — {safe(record.question[:90])}")
    raise typer.Exit(1)


@app.callback(invoke_without_command=True)
@friendly_errors
def evaluate(ctx: typer.Context,
             knowledge: Annotated[Optional[Path], typer.Option(help="Articles folder (default: the project's).")] = None,
             dataset: DatasetOption = Path("evals/datasets/golden.jsonl"),
             out: OutOption = Path("evals/results"),
             gate: Annotated[bool, typer.Option("--gate", help="Exit 1 when a brief threshold is not met.")] = False,
             project: ProjectOption = None) -> None:
    """Index the articles in a temporary store, answer every question, score, report."""
    if ctx.invoked_subcommand:
        return
    from supportgraph.agents.brief import load_brief
    from supportgraph.evals.report import (
        check_gate,
        judge_summary,
        render_report,
        write_scores,
    )

    settings = settings_for(project)
    if knowledge:
        settings = settings.model_copy(update={"knowledge_dir": knowledge.resolve()})
    records, info, embedder = _answer(settings, dataset)
    metrics, per_case, judge_errors = _score(settings, records, embedder, info["articles"])
    write_scores(out, metrics, records, per_case, judge_errors)
    failures = check_gate(metrics, load_brief(settings.brief_path).success_metric.thresholds)
    (out / "report.md").write_text(render_report(metrics, records, per_case, failures,
                                                 {"dataset": dataset, "kb_version": info["kb_version"]},
                                                 judge_lines=judge_summary(metrics, judge_errors)))
    _show(metrics, failures)
    console.print(f"Wrote {out}/metrics.json, results.jsonl, per_category.csv, report.md")
    if gate:
        _gate(settings, metrics, records, per_case)


@app.command("answer")
@friendly_errors
def answer_stage(dataset: DatasetOption = Path("evals/datasets/golden.jsonl"),
                 out: Annotated[Path, typer.Option(help="Answers file.")] = Path("evals/results/answers.jsonl"),
                 variant: Annotated[str, typer.Option(help="An experiment variant from params.yaml "
                                                      "(experiment.variants), or production.")] = "production",
                 project: ProjectOption = None) -> None:
    """DVC stage: answer the dataset (fresh temporary index) and save the answers."""
    from supportgraph.evals.runner import write_records
    from supportgraph.evals.variants import check_prompt_label, get_variant
    from supportgraph.prompts.history import prompts_dir_for

    settings = settings_for(project)
    chosen = get_variant(settings.project_dir, variant)
    check_prompt_label(prompts_dir_for(settings.project_dir), chosen)
    if chosen.prompts != "production" and not (settings.chat_model or settings.chat_base_url):
        err.print(f"[yellow]Note:[/] variant '{chosen.name}' changes prompts, but no chat model is configured: "
                  "the deterministic twins answer, so its answers match production's.")
    records, _, _ = _answer(settings, dataset, chosen)
    write_records(records, out)
    console.print(f"Answered {len(records)} questions as {chosen.name} ({chosen.describe()}) -> {out}")


@app.command("score")
@friendly_errors
def score_stage(answers: Annotated[Path, typer.Option(help="From `eval answer`.")] = Path("evals/results/answers.jsonl"),
                out: OutOption = Path("evals/results"), project: ProjectOption = None) -> None:
    """DVC stage: score saved answers (own metrics + offline RAGAS, + LLM-judged RAGAS with a chat model)."""
    from supportgraph.evals.report import write_scores
    from supportgraph.evals.runner import read_records
    from supportgraph.knowledge.articles import load_articles
    from supportgraph.knowledge.embedding import SentenceTransformerEmbedder

    settings = settings_for(project)
    articles = {a.id: a.body for a in load_articles(settings.knowledge_dir).articles}
    records = read_records(answers)
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    metrics, per_case, judge_errors = _score(settings, records, embedder, articles)
    write_scores(out, metrics, records, per_case, judge_errors)
    _show(metrics, [])


@app.command("report")
@friendly_errors
def report_stage(out: OutOption = Path("evals/results"),
                 gate: Annotated[bool, typer.Option("--gate", help="Exit 1 when a brief threshold is not met.")] = False,
                 project: ProjectOption = None) -> None:
    """DVC stage: write report.md from the scores (and optionally gate)."""
    from supportgraph.agents.brief import load_brief
    from supportgraph.changes import metric_history
    from supportgraph.evals.report import (
        check_gate,
        judge_summary,
        read_scores,
        render_report,
        write_history,
    )

    settings = settings_for(project)
    metrics, records, per_case, judge_errors = read_scores(out)
    failures = check_gate(metrics, load_brief(settings.brief_path).success_metric.thresholds)
    (out / "report.md").write_text(render_report(metrics, records, per_case, failures, {},
                                                 judge_lines=judge_summary(metrics, judge_errors)))
    write_history(out / "history.csv", metric_history(settings.project_dir, metrics))
    _show(metrics, failures)
    if gate:
        _gate(settings, metrics, records, per_case)

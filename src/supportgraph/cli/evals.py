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


def _embedder(settings):
    from supportgraph.knowledge.embedding import build_embedder

    return build_embedder(settings)


def _judge(settings):
    """The LLM judge for the RAGAS metrics that need one, when a chat model is configured."""
    from supportgraph.evals.judge import build_judge

    judge = build_judge(settings)
    if judge is not None:
        err.print(f"Judging with [bold]{judge.name}[/] (faithfulness, answer relevancy, context precision).")
    return judge


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
    """Index the articles in a temporary store, answer every question, score, report: the DVC
    stages' three steps in one process (evals/pipeline.py)."""
    if ctx.invoked_subcommand:
        return
    from supportgraph.evals.pipeline import evaluate_all
    from supportgraph.evals.report import read_scores

    settings = settings_for(project)
    if knowledge:
        settings = settings.model_copy(update={"knowledge_dir": knowledge.resolve()})
    embedder = _embedder(settings)
    with _progress() as progress:
        task = progress.add_task("answer", total=None)
        failures = evaluate_all(settings, dataset, out, embedder, _judge(settings),
                                lambda done, total: progress.update(task, completed=done, total=total))
    metrics, records, per_case, _ = read_scores(out)
    _show(metrics, failures)
    console.print(f"Wrote {out}/answers.jsonl, metrics.json, results.jsonl, per_category.csv, report.md, history.csv")
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
    from supportgraph.evals.pipeline import answer_stage as run_answer
    from supportgraph.evals.variants import check_prompt_label, get_variant
    from supportgraph.prompts.history import prompts_dir_for

    settings = settings_for(project)
    chosen = get_variant(settings.project_dir, variant)
    check_prompt_label(prompts_dir_for(settings.project_dir), chosen)
    if chosen.prompts != "production" and not (settings.chat_model or settings.chat_base_url):
        err.print(f"[yellow]Note:[/] variant '{chosen.name}' changes prompts, but no chat model is configured: "
                  "the deterministic twins answer, so its answers match production's.")
    with _progress() as progress:
        task = progress.add_task("answer", total=None)
        records, _ = run_answer(settings, dataset, out, _embedder(settings), chosen,
                                  lambda done, total: progress.update(task, completed=done, total=total))
    console.print(f"Answered {len(records)} questions as {chosen.name} ({chosen.describe()}) -> {out}")


@app.command("score")
@friendly_errors
def score_stage(answers: Annotated[Path, typer.Option(help="From `eval answer`.")] = Path("evals/results/answers.jsonl"),
                out: OutOption = Path("evals/results"), project: ProjectOption = None) -> None:
    """DVC stage: score saved answers (own metrics + offline RAGAS, + LLM-judged RAGAS with a chat model)."""
    from supportgraph.evals.pipeline import score_stage as run_score

    settings = settings_for(project)
    _show(run_score(settings, answers, out, _embedder(settings), _judge(settings)), [])


@app.command("report")
@friendly_errors
def report_stage(out: OutOption = Path("evals/results"),
                 gate: Annotated[bool, typer.Option("--gate", help="Exit 1 when a brief threshold is not met.")] = False,
                 project: ProjectOption = None) -> None:
    """DVC stage: write report.md and history.csv from the scores (and optionally gate)."""
    from supportgraph.evals.pipeline import report_stage as run_report
    from supportgraph.evals.report import read_scores

    settings = settings_for(project)
    failures = run_report(settings, out)
    metrics, records, per_case, _ = read_scores(out)
    _show(metrics, failures)
    if gate:
        _gate(settings, metrics, records, per_case)

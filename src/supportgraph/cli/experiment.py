"""`supportgraph experiment`: offline (compare two evaluated variants) and online (start, status,
stop an experiments/<name>.yaml), conclude either, read the log."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from supportgraph.cli.common import (
    ProjectOption,
    console,
    friendly_errors,
    settings_for,
)

app = typer.Typer(help="Experiments: variants (params.yaml experiment.variants) compared offline, served to live "
                  "cohorts (experiments/<name>.yaml), concluded, logged.", no_args_is_help=True)
ExperimentArgument = Annotated[str, typer.Argument(help="An experiment: experiments/<name>.yaml.")]

NameArgument = Annotated[str, typer.Argument(help="`production` or a variant under experiment.variants.")]


@app.command("list")
@friendly_errors
def list_variants(project: ProjectOption = None) -> None:
    """The declared variants, whether each has results, and the concluded experiments."""
    from supportgraph.evals.experiments import load_log
    from supportgraph.evals.variants import (
        PRODUCTION,
        Variant,
        is_evaluated,
        load_variants,
    )

    root = settings_for(project).project_dir
    for variant in [Variant(), *load_variants(root).values()]:
        state = "[green]evaluated[/]" if is_evaluated(root, variant.name) else "[yellow]not evaluated: dvc repro[/]"
        console.print(f"[bold]{variant.name}[/] ({variant.describe()}) {state}"
                      + (" [dim]served[/]" if variant.name == PRODUCTION else ""))
    from supportgraph.experiments.definition import load_experiments

    for experiment in load_experiments(root).values():
        split = ", ".join(f"{n} {w:g}" for n, w in experiment.variants.items())
        console.print(f"experiment [bold]{experiment.name}[/] [{experiment.status}]: {split}; coverage "
                      f"{experiment.coverage:.0%}, primary {experiment.primary_metric}")
    for record in load_log(root):
        console.print(f"{record.date:%Y-%m-%d} [bold]{record.winner.name}[/] over {record.loser.name}: "
                      f"{record.learning}")


@app.command("compare")
@friendly_errors
def compare_command(a: NameArgument, b: NameArgument, project: ProjectOption = None) -> None:
    """Accuracy, retrieval, answer quality and latency of A and B, and the questions they answered
    differently side by side (evals/results/experiment.md)."""
    from supportgraph.evals.experiments import COMPARISON, compare, format_value, render_comparison

    root = settings_for(project).project_dir
    comparison = compare(root, a, b)
    table = Table("metric", a, b, "better", title=f"{a} vs {b} ({len(comparison.a.rows)} questions)")
    for name, x, y, better in comparison.table():
        table.add_row(name, format_value(x), format_value(y),
                      f"[bold]{better}[/]" if better not in ("", "=") else better)
    console.print(table)
    out = root / COMPARISON
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_comparison(comparison))
    console.print(f"{len(comparison.differing())} questions answered differently; side by side in {COMPARISON}")


@app.command("conclude")
@friendly_errors
def conclude_command(learning: Annotated[str, typer.Option(help="What the experiment showed, for the log.")],
                     experiment: Annotated[Optional[str], typer.Argument(
                         help="An online experiment (experiments/<name>.yaml); omit to conclude offline.")] = None,
                     winner: Annotated[Optional[str], typer.Option(
                         help="The variant that becomes production (online: default the significant one).")] = None,
                     loser: Annotated[Optional[str], typer.Option(help="Offline: the variant archived.")] = None,
                     force: Annotated[bool, typer.Option(help="Decide without significance (logged as forced).")]
                     = False,
                     project: ProjectOption = None) -> None:
    """Promote the winner (its prompt label's versions to production, its retrieval params into
    params.yaml, its brief overrides into the brief), archive the loser, and log both with their
    figures and the learning. Refused without a significant difference unless --force."""
    from supportgraph.evals.experiments import LOG, LOG_MD, conclude

    settings = settings_for(project)
    if experiment is not None:
        from supportgraph.experiments.control import conclude_experiment
        from supportgraph.store import Store

        record = conclude_experiment(settings.project_dir, Store(settings.database_url), experiment, learning,
                                     winner, force)
    else:
        if winner is None or loser is None:
            raise typer.BadParameter("offline conclude needs --winner and --loser (or name an online experiment).")
        record = conclude(settings.project_dir, winner, loser, learning, force)
    console.print(f"evidence: {record.evidence}")
    for line in record.promoted or ["nothing to promote: the winner already serves"]:
        console.print(f"promoted: {line}")
    console.print(f"archived: {record.loser.name}; logged in {LOG} and {LOG_MD}.")
    console.print("Next: `dvc repro` (production is evaluated as promoted), review, commit.")


@app.command("start")
@friendly_errors
def start_command(experiment: ExperimentArgument, project: ProjectOption = None) -> None:
    """Set the experiment's status to running (in its file: commit it); new conversations enter it."""
    from supportgraph.experiments.control import start_experiment
    from supportgraph.store import Store

    settings = settings_for(project)
    definition = start_experiment(settings.project_dir, Store(settings.database_url), experiment)
    console.print(f"[bold]{experiment}[/] is running: {definition.coverage:.0%} of new conversations, split "
                  + ", ".join(f"{n} {w:g}" for n, w in definition.variants.items()) + ". Commit the file.")


@app.command("stop")
@friendly_errors
def stop_command(experiment: ExperimentArgument,
                 reason: Annotated[str, typer.Option(help="Why, for the record.")] = "stopped by hand",
                 project: ProjectOption = None) -> None:
    """Stop serving the experiment: everyone returns to production; the stop is recorded."""
    from supportgraph.experiments.control import stop_experiment
    from supportgraph.store import Store

    settings = settings_for(project)
    stop_experiment(settings.project_dir, Store(settings.database_url), experiment, reason, by="cli")
    console.print(f"[bold]{experiment}[/] stopped: every conversation is served production. Commit the file.")


@app.command("status")
@friendly_errors
def status_command(experiment: ExperimentArgument, project: ProjectOption = None) -> None:
    """Live results per variant from the store beside each variant's offline golden-set figures,
    significance on the primary metric, the sample-ratio check and the guardrails (a variant
    significantly worse on one is stopped here)."""
    from supportgraph.experiments.conclude import offline_figures, online_figures
    from supportgraph.experiments.live import project_experiment_status
    from supportgraph.store import Store

    settings = settings_for(project)
    status = project_experiment_status(settings.project_dir, Store(settings.database_url), experiment)
    names = [a.variant for a in status.arms]
    for title, figures in ((f"{experiment} [{status.status}]: live cohort", online_figures(status)),
                           ("offline: golden set (`dvc repro`)", offline_figures(settings.project_dir, names))):
        table = Table("metric", *names, title=title)
        for metric, values in figures.items():
            table.add_row(metric, *(values[n] for n in names))
        console.print(table)
    for test in status.primary + status.guardrails:
        p = "–" if test.p_value is None else f"{test.p_value:.3g}"
        mark = "[green]better[/]" if test.better else "[red]worse[/]" if test.better is False else "no difference"
        console.print(f"{test.variant} vs production on {test.metric}: p={p} ({mark})")
    srm = "–" if status.srm_p is None else f"{status.srm_p:.3g}"
    console.print(f"sample ratio: chi-square p={srm} " + ("[green]ok[/]" if status.srm_ok else "[red]MISMATCH[/]"))
    if status.stop:
        console.print(f"[red]stopped[/] by {status.stop.by} at {status.stop.stopped_at}: {status.stop.reason}")
    console.print(f"[bold]verdict:[/] {status.verdict}")

"""`supportgraph experiment`: compare two evaluated variants, conclude, read the log."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from supportgraph.cli.common import (
    ProjectOption,
    console,
    friendly_errors,
    settings_for,
)

app = typer.Typer(help="Experiments: variants (params.yaml experiment.variants) compared, concluded, logged.",
                  no_args_is_help=True)

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
def conclude_command(winner: Annotated[str, typer.Option(help="The variant that becomes production.")],
                     loser: Annotated[str, typer.Option(help="The variant archived.")],
                     learning: Annotated[str, typer.Option(help="What the experiment showed, for the log.")],
                     project: ProjectOption = None) -> None:
    """Promote the winner (its prompt label's versions to production, its retrieval params into
    params.yaml), archive the loser, and log both with their metrics and the learning."""
    from supportgraph.evals.experiments import LOG, LOG_MD, conclude

    record = conclude(settings_for(project).project_dir, winner, loser, learning)
    for line in record.promoted or ["nothing to promote: the winner already serves"]:
        console.print(f"promoted: {line}")
    console.print(f"archived: {loser}; logged in {LOG} and {LOG_MD}.")
    console.print("Next: `dvc repro` (production is evaluated as promoted), review, commit.")

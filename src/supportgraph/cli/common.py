"""Shared pieces of the CLI: consoles, options, and error display."""

from __future__ import annotations

from functools import wraps
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from supportgraph.config import Settings
from supportgraph.errors import SupportGraphError

console = Console()
err = Console(stderr=True)

ProjectOption = Annotated[Optional[Path], typer.Option("--project", help="Project folder (default: current folder).")]


def friendly_errors(command):
    """Show SupportGraphErrors as two short lines and exit 1; never a stack trace."""
    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SupportGraphError as error:
            err.print(f"[bold red]Error:[/] {error.message}")
            if error.fix:
                err.print(f"[bold]Fix:[/] {error.fix}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
    return wrapper


def settings_for(project: Path | None) -> Settings:
    return Settings(project_dir=project) if project else Settings()


def agent_for(settings: Settings):
    from supportgraph.agents.service import SupportAgent

    return SupportAgent(settings)


def reindex(settings: Settings, quiet: bool = False, chats: bool = True, chat_days: int = 90) -> None:
    """Update the index (only what changed is embedded) with a progress bar, then the resolved chats."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from supportgraph.knowledge.chats import index_chats
    from supportgraph.knowledge.embedding import SentenceTransformerEmbedder
    from supportgraph.knowledge.index import build_index
    from supportgraph.store import Store

    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    with Progress(TextColumn("[bold]Embedding chunks"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, disable=quiet, transient=True) as progress:
        task = progress.add_task("embed", total=None)
        report = build_index(settings, embedder,
                             progress=lambda done, total: progress.update(task, completed=done, total=total))
    if chats:
        count = index_chats(settings, embedder, Store(settings.database_url), since_days=chat_days)
        console.print(f"Resolved chats searchable: {count} (last {chat_days} days, positive feedback).")
    for problem in report.problems:
        err.print(f"[yellow]skipped[/] {problem}")
    console.print(
        f"Indexed {report.articles} articles ({report.chunks} chunks), KB version [bold]{report.kb_version}[/]: "
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{report.embedded_chunks} chunks embedded.")

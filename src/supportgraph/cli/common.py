"""Shared pieces of the CLI: consoles, options, error display, and making stored text safe to print.

Customer messages, replies and article text reach the terminal through :func:`safe`: Rich would read
``[/]`` in them as markup (and fail on it), and a raw escape sequence would reach the reviewer's
terminal. Everything a command prints that came from a customer, a model or an article goes
through it; :func:`safe_markdown` does the same for text rendered as markdown.
"""

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


def safe(text: object) -> str:
    """``text`` printable and inert in Rich: control characters and escape sequences removed, markup escaped."""
    from rich.markup import escape

    from supportgraph.security.text import printable

    return escape(printable(str(text)))


def safe_markdown(text: str):
    """A Rich Markdown of ``text`` with control characters and escape sequences removed."""
    from rich.markdown import Markdown

    from supportgraph.security.text import printable

    return Markdown(printable(text))

ProjectOption = Annotated[Optional[Path], typer.Option("--project", help="Project folder (default: current folder).")]


def friendly_errors(command):
    """Show SupportGraphErrors as two short lines and exit 1; never a stack trace."""
    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SupportGraphError as error:
            err.print(f"[bold red]Error:[/] {safe(error.message)}")
            if error.fix:
                err.print(f"[bold]Fix:[/] {safe(error.fix)}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
    return wrapper


def settings_for(project: Path | None) -> Settings:
    return Settings(project_dir=project) if project else Settings()


def agent_for(settings: Settings):
    from supportgraph.agents.service import SupportAgent

    return SupportAgent(settings)


def reindex(settings: Settings, quiet: bool = False, chats: bool = True, chat_days: int = 90,
            force: bool = False) -> None:
    """Update the index (only what changed is embedded) with a progress bar, then the resolved chats."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from supportgraph.knowledge.chats import index_chats
    from supportgraph.knowledge.embedding import build_embedder
    from supportgraph.knowledge.index import build_index
    from supportgraph.store import Store

    embedder = build_embedder(settings)
    with Progress(TextColumn("[bold]Embedding chunks"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, disable=quiet, transient=True) as progress:
        task = progress.add_task("embed", total=None)
        report = build_index(settings, embedder,
                             progress=lambda done, total: progress.update(task, completed=done, total=total),
                             force=force)
    if chats:
        count = index_chats(settings, embedder, Store(settings.database_url), since_days=chat_days)
        console.print(f"Resolved chats searchable: {count} (last {chat_days} days, positive feedback).")
    for problem in report.problems:
        err.print(f"[yellow]skipped[/] {safe(str(problem))}")
    if report.kept_published:
        err.print(f"[yellow]⚠[/] {settings.knowledge_dir} is behind the published index, {safe(report.published)}: "
                  f"kept its {safe(', '.join(report.kept_published))}. Update this folder before editing them here.")
    console.print(
        f"Indexed {report.articles} articles ({report.chunks} chunks), KB version [bold]{report.kb_version}[/]: "
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{report.embedded_chunks} chunks embedded.")
    from supportgraph.knowledge.articles import load_articles

    report_flagged(settings, load_articles(settings.knowledge_dir).articles, detailed=False)


def report_flagged(settings: Settings, articles, detailed: bool) -> dict:
    """Print the articles with passages that are never copied into answers (knowledge/safety.py); return them."""
    from supportgraph.knowledge.safety import FIX, allowed_hosts_for, file_line, flagged_articles

    flagged = flagged_articles(articles, allowed_hosts_for(settings))
    by_id = {a.id: a for a in articles}
    for article_id, problems in flagged.items():
        article = by_id[article_id]
        if not detailed:
            continue
        text = (settings.knowledge_dir / article.path).read_text(encoding="utf-8")
        for problem in problems:
            line = file_line(text, article.body, problem.line)
            err.print(f"[yellow]⚠[/] {safe(article.path)}:{line}: {safe(problem.describe().split(': ', 1)[1])} "
                      f"Fix: {FIX[problem.kind]}.")
    if flagged and not detailed:
        err.print(f"[yellow]⚠[/] {len(flagged)} articles have passages that are never copied into answers "
                  f"({safe(', '.join(flagged))}); `supportgraph kb validate` says why.")
    return flagged


def unmarked_articles(settings: Settings, articles) -> list:
    """Articles whose file has no front matter (their audience is knowledge/defaults.yaml's unmarked_audience)."""
    return [a for a in articles
            if not (settings.knowledge_dir / a.path).read_text(encoding="utf-8").lstrip().startswith("---")]

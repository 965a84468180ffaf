"""`supportgraph`: a thin Typer front over the package. No logic lives here."""

from __future__ import annotations

import json
import sys
import uuid
from functools import wraps
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from supportgraph.config import Settings
from supportgraph.errors import SupportGraphError

app = typer.Typer(help="Run and improve customer-support agents.", no_args_is_help=True, add_completion=False)
kb_app = typer.Typer(help="Inspect and edit the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
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


def _settings(project: Path | None) -> Settings:
    return Settings(project_dir=project) if project else Settings()


def _agent(settings: Settings):
    from supportgraph.agents.service import SupportAgent

    return SupportAgent(settings)


@app.command()
@friendly_errors
def index(project: ProjectOption = None,
          quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False) -> None:
    """Build or update the knowledge index (only changed articles are re-embedded)."""
    from supportgraph.knowledge.embedding import SentenceTransformerEmbedder
    from supportgraph.knowledge.index import build_index

    settings = _settings(project)
    with Progress(TextColumn("[bold]Embedding chunks"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, disable=quiet, transient=True) as progress:
        task = progress.add_task("embed", total=None)
        report = build_index(settings, SentenceTransformerEmbedder(settings.embedding_model),
                             progress=lambda done, total: progress.update(task, completed=done, total=total))
    for problem in report.problems:
        err.print(f"[yellow]skipped[/] {problem}")
    console.print(
        f"Indexed {report.articles} articles ({report.chunks} chunks), KB version [bold]{report.kb_version}[/]: "
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{report.embedded_chunks} chunks embedded.")


@app.command()
@friendly_errors
def ask(message: Annotated[str, typer.Argument(help="The customer's message.")],
        thread: Annotated[Optional[str], typer.Option("--thread", help="Continue this conversation.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
        project: ProjectOption = None) -> None:
    """Ask the support agent one question."""
    result = _agent(_settings(project)).ask(message, thread_id=thread, channel="cli")
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    console.print(Markdown(result.answer))
    console.print(f"[dim]{result.outcome} · thread {result.thread_id} · KB {result.kb_version} · "
                  f"{result.latency_ms:.0f} ms[/]")


@app.command()
@friendly_errors
def chat(thread: Annotated[Optional[str], typer.Option("--thread", help="Resume this conversation.")] = None,
         project: ProjectOption = None) -> None:
    """Chat with the agent in the terminal; the conversation keeps its memory. /new starts over, /quit leaves."""
    agent = _agent(_settings(project))
    agent.warm_up()
    thread_id = thread or uuid.uuid4().hex
    console.print(f"[dim]Thread {thread_id}. Type /new for a new conversation, /quit to leave.[/]")
    while True:
        try:
            message = console.input("[bold cyan]you>[/] ")
        except EOFError:
            break
        if message.strip() in ("/quit", "/exit"):
            break
        if message.strip() == "/new":
            thread_id = uuid.uuid4().hex
            console.print(f"[dim]New thread {thread_id}.[/]")
            continue
        result = agent.ask(message, thread_id=thread_id, channel="cli")
        console.print(Markdown(result.answer))
        console.print(f"[dim]{result.outcome} · {result.latency_ms:.0f} ms[/]")


@kb_app.command("validate")
@friendly_errors
def kb_validate(project: ProjectOption = None) -> None:
    """Check every article's front matter and body; exit 1 if any is malformed."""
    from supportgraph.knowledge.articles import load_articles

    settings = _settings(project)
    result = load_articles(settings.knowledge_dir)
    for problem in result.problems:
        err.print(f"[red]✗[/] {problem}")
    console.print(f"{len(result.articles)} valid articles, {len(result.problems)} with problems.")
    if result.problems:
        raise typer.Exit(1)


@kb_app.command("search")
@friendly_errors
def kb_search(query: str, k: Annotated[int, typer.Option("-k", help="How many articles.")] = 5,
              as_json: Annotated[bool, typer.Option("--json")] = False, project: ProjectOption = None) -> None:
    """Show the articles the agent would retrieve for a query, with scores."""
    agent = _agent(_settings(project))
    hits = agent.retriever.search(query, k=k)
    if as_json:
        sys.stdout.write(json.dumps([{"id": h.article.id, "title": h.article.title, "score": h.score}
                                     for h in hits], indent=2) + "\n")
        return
    for hit in hits:
        console.print(f"{hit.score:.3f}  [bold]{hit.article.id}[/]  {hit.article.title}")


def main() -> None:  # pragma: no cover - console script entry
    app()

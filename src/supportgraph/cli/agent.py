"""Commands that run the agent: index, ask, chat."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Optional

import typer

from supportgraph.cli.common import (
    ProjectOption,
    agent_for,
    console,
    err,
    friendly_errors,
    reindex,
    safe,
    safe_markdown,
    settings_for,
)
from supportgraph.knowledge.index import read_manifest

app = typer.Typer()



@app.command()
@friendly_errors
def index(project: ProjectOption = None,
          quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
          chats: Annotated[bool, typer.Option(help="Also index resolved chats with positive feedback.")] = True,
          chat_days: Annotated[int, typer.Option(help="How far back resolved chats count.")] = 90,
          force: Annotated[bool, typer.Option(
              "--force", help="With a Chroma server: publish this folder as it is, even over articles another "
                              "replica changed since (a conflict is refused otherwise).")] = False,
          manifest_out: Annotated[Optional[Path], typer.Option(
              help="Also write the KB manifest (article hashes, KB version) here, e.g. for DVC.")] = None) -> None:
    """Build or update the knowledge index (only changed articles are re-embedded)."""
    settings = settings_for(project)
    reindex(settings, quiet=quiet, chats=chats, chat_days=chat_days, force=force)
    if manifest_out:
        manifest = read_manifest(settings.index_dir)
        manifest.pop("built_at", None)  # keep the file stable when nothing changed
        manifest_out.parent.mkdir(parents=True, exist_ok=True)
        manifest_out.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def served_note(result) -> str:
    """ · experiment NAME: VARIANT, when the conversation is in an online experiment."""
    e = result.experiment
    return "" if not e else f" · experiment {e['name']}: {e['served']}"


@app.command()
@friendly_errors
def ask(message: Annotated[str, typer.Argument(help="The customer's message.")],
        thread: Annotated[Optional[str], typer.Option("--thread", help="Continue this conversation.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
        project: ProjectOption = None) -> None:
    """Ask the support agent one question."""
    result = agent_for(settings_for(project)).ask(message, thread_id=thread, channel="cli")
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    console.print(safe_markdown(result.answer))
    console.print(f"[dim]{result.outcome} · thread {safe(result.thread_id)} · KB {result.kb_version} · "
                  f"{result.latency_ms:.0f} ms{served_note(result)}[/]")


@app.command()
@friendly_errors
def chat(thread: Annotated[Optional[str], typer.Option("--thread", help="Resume this conversation.")] = None,
         project: ProjectOption = None) -> None:
    """Chat with the agent in the terminal; the conversation keeps its memory. /new starts over, /quit leaves."""
    agent = agent_for(settings_for(project))
    agent.warm_up()
    if hasattr(sys.stdin, "reconfigure"):  # bytes that are not UTF-8 reach the agent (which repairs them), not a traceback
        sys.stdin.reconfigure(errors="surrogateescape")
    thread_id = thread or uuid.uuid4().hex
    console.print(f"[dim]Thread {safe(thread_id)}. Type /new for a new conversation, /quit to leave.[/]")
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
        console.print(safe_markdown(result.answer))
        console.print(f"[dim]{result.outcome} · {result.latency_ms:.0f} ms{served_note(result)}[/]")


@app.command()
@friendly_errors
def changes(since: Annotated[str, typer.Option(help="7d, 2w, 12h, or any git date.")] = "7d",
            project: ProjectOption = None) -> None:
    """What changed since a date: articles (committed, and edits saved with author and reason), prompts, brief,
    parameters, and metric deltas (markdown)."""
    from supportgraph.changes import changes_since, render_markdown
    from supportgraph.errors import StoreError
    from supportgraph.store import Store

    settings = settings_for(project)
    try:
        store = Store(settings.database_url)
    except StoreError as error:  # git's half still answers
        store = None
        err.print(f"[yellow]Knowledge edits left out:[/] {safe(error.message)} Fix: {safe(error.fix)}")
    sys.stdout.write(render_markdown(changes_since(settings.project_dir, since, store)))


@app.command()
@friendly_errors
def brief(project: ProjectOption = None) -> None:
    """Render the agent's one-page brief (agents/support/brief.yaml) as markdown."""
    from supportgraph.agents.brief import load_brief, render_markdown

    sys.stdout.write(render_markdown(load_brief(settings_for(project).brief_path)))

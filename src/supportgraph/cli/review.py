"""`supportgraph review` (the transcript review loop) and `supportgraph checklist` (the stand-up view)."""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from supportgraph.cli.common import ProjectOption, console, friendly_errors, safe, settings_for

app = typer.Typer(help="Review flagged conversations, tag them, and turn tags into backlog items.",
                  no_args_is_help=True)
ReviewerOption = Annotated[str, typer.Option(help="Who reviews (default: your login name).")]


def _context(project):
    from supportgraph.agents.brief import load_brief
    from supportgraph.store import Store

    settings = settings_for(project)
    return settings, Store(settings.database_url), load_brief(settings.brief_path)


def _conversation_table(views, title: str):
    from rich.table import Table

    table = Table("conversation", "started", "summary", "flags", "rating", "tags", title=title)
    for view in views:
        table.add_row(safe(view.id[:12]), f"{view.created_at:%Y-%m-%d %H:%M}", safe(view.summary[:60]),
                      safe(", ".join(view.flags)), safe(view.rating), safe(", ".join(sorted({t.tag for t in view.tags}))))
    return table


@app.command("queue")
@friendly_errors
def review_queue(since: Annotated[str, typer.Option(help="7d, 2w, 12h or a date.")] = "30d",
                 limit: Annotated[int, typer.Option("-n", help="How many conversations.")] = 20,
                 project: ProjectOption = None) -> None:
    """Flagged conversations nobody has reviewed yet, newest first."""
    from supportgraph.changes import since_datetime
    from supportgraph.review.transcripts import review_queue as queue

    _, store, brief = _context(project)
    views = queue(store, brief, since=since_datetime(since), limit=limit)
    if not views:
        console.print("The review queue is empty.")
        return
    console.print(_conversation_table(views, f"Review queue ({len(views)})"))
    console.print("[dim]Open one with `supportgraph review show ID`; tag it with `supportgraph review tag ID TAG`.[/]")


@app.command("show")
@friendly_errors
def review_show(conversation: str, project: ProjectOption = None) -> None:
    """A conversation's turns with their traces: outcome, flags, retrieved and cited articles, timings."""
    from supportgraph.review.transcripts import get_conversation

    _, store, brief = _context(project)
    view = get_conversation(store, brief, conversation)
    console.print(f"[bold]{safe(view.id)}[/] · {safe(view.channel)} · {safe(view.status)} · "
                  f"started {view.created_at:%Y-%m-%d %H:%M}")
    for turn in view.turns:
        console.print(f"\n[bold cyan]customer>[/] {safe(turn.customer_message)}")
        console.print(f"[bold green]agent>[/] {safe(turn.reply)}")
        retrieved = ", ".join(f"{r['id']} ({r['score']:.2f})" for r in turn.retrieved[:5]) or "-"
        nodes = ", ".join(f"{n['node']} {n['ms']:.0f}" for n in turn.trace.get("nodes", []))
        console.print(f"[dim]turn {turn.id} · {safe(turn.outcome)} · confidence {turn.confidence:.2f} · "
                      f"{turn.latency_ms:.0f} ms ({safe(nodes) or 'no step timings'}) · prompts "
                      f"{safe(', '.join(turn.prompt_versions))}\n  flags: {safe(', '.join(turn.review_flags)) or '-'} · "
                      f"retrieved: {safe(retrieved)}[/]")
        if turn.thumb or turn.stars or turn.comment:
            console.print(f"[dim]  feedback: {safe(turn.thumb or '')} {str(turn.stars or '')}★ "
                          f"{safe(turn.comment or '')}[/]")
    for tag in view.tags:
        console.print(f"[yellow]tag[/] {safe(tag.tag)} by {safe(tag.reviewer)}: {safe(tag.note)}")


@app.command("tag")
@friendly_errors
def review_tag(conversation: str, tag: str, note: Annotated[str, typer.Option(help="What went wrong.")] = "",
               turn: Annotated[Optional[int], typer.Option(help="Tag one turn of it.")] = None,
               reviewer: ReviewerOption = "", project: ProjectOption = None) -> None:
    """Tag a conversation (policy, tone, latency, retrieval_miss, ...: the brief's review.tags) with a note."""
    from supportgraph.review.transcripts import tag_conversation

    _, store, brief = _context(project)
    tag_conversation(store, brief, conversation, tag, reviewer or getpass.getuser(), note, turn)
    console.print(f"Tagged {safe(conversation)} with '{safe(tag)}'.")


@app.command("ok")
@friendly_errors
def review_ok(conversation: str, reviewer: ReviewerOption = "", project: ProjectOption = None) -> None:
    """Mark a conversation reviewed with nothing to fix (it leaves the queue)."""
    from supportgraph.review.transcripts import mark_reviewed

    _, store, _ = _context(project)
    mark_reviewed(store, conversation, reviewer or getpass.getuser(), "ok")
    console.print(f"Marked {safe(conversation)} reviewed.")


@app.command("weekly")
@friendly_errors
def review_weekly(week: Annotated[Optional[str], typer.Option(help="Any day of the week (default: this week).")]
                  = None, project: ProjectOption = None) -> None:
    """The week's flagged and negatively rated conversations, by tag and flag, against the week before."""
    from rich.table import Table

    from supportgraph.review.weekly import weekly_review

    _, store, brief = _context(project)
    day = dt.date.fromisoformat(week) if week else dt.datetime.now(dt.UTC).date()
    review = weekly_review(store, brief, day)
    console.print(f"[bold]Week of {review.week_start}[/]: {review.conversations} conversations, "
                  f"{len(review.needs_review)} flagged, {review.reviewed} reviewed.")
    for title, trends in (("Tags", review.tags), ("Flags", review.flags)):
        table = Table(title.lower()[:-1], "this week", "previous week", "change", title=title)
        for trend in trends:
            table.add_row(safe(trend.name), str(trend.this_week), str(trend.previous_week), f"{trend.change:+d}")
        console.print(table if trends else f"{title}: none.")
    if review.needs_review:
        console.print(_conversation_table(review.needs_review, "Flagged this week"))


@app.command("backlog")
@friendly_errors
def review_backlog(since: Annotated[str, typer.Option(help="7d, 2w, 12h or a date.")] = "7d",
                   as_json: Annotated[bool, typer.Option("--json", help="JSON instead of markdown.")] = False,
                   out: Annotated[Optional[Path], typer.Option(help="Write backlog.md and backlog.json here.")]
                   = None, project: ProjectOption = None) -> None:
    """Turn the window's tags into backlog items: title, owner area, evidence links to transcripts."""
    from supportgraph.changes import since_datetime
    from supportgraph.review.backlog import build_backlog, render_json, render_markdown

    settings, store, brief = _context(project)
    start = since_datetime(since)
    items = build_backlog(store, brief, start, settings.app_url)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / "backlog.md").write_text(render_markdown(items, start), encoding="utf-8")
        (out / "backlog.json").write_text(render_json(items, start), encoding="utf-8")
        console.print(f"{len(items)} backlog items written to {out}/backlog.md and backlog.json.")
        return
    sys.stdout.write(render_json(items, start) if as_json else render_markdown(items, start))


@app.command("promote")
@friendly_errors
def review_promote(turn: int,
                   reference: Annotated[str, typer.Option(help="What a correct answer says.")] = "",
                   source: Annotated[Optional[list[str]], typer.Option(help="Article id a correct answer cites "
                                                                       "(repeat for several).")] = None,
                   unanswerable: Annotated[bool, typer.Option(help="The agent should clarify or escalate.")] = False,
                   category: Annotated[str, typer.Option(help="Category in the golden set.")] = "review",
                   dataset: Annotated[Optional[Path], typer.Option(help="The golden set (default: the project's).")]
                   = None,
                   project: ProjectOption = None) -> None:
    """Add a reviewed failure to the golden set as a new evaluation case (id review-<turn>)."""
    from supportgraph.knowledge.articles import load_articles
    from supportgraph.review.golden import promote_to_golden

    settings, store, _ = _context(project)
    path = dataset or settings.golden_path
    known = {a.id for a in load_articles(settings.knowledge_dir).articles}
    case = promote_to_golden(store, turn, path, reference_answer=reference, sources=source or [],
                             answerable=not unanswerable, category=category, known_articles=known)
    console.print(f"Added '{safe(case.id)}' to {safe(path)}. `dvc repro` evaluates it from now on.")


@friendly_errors
def checklist(as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
              project: ProjectOption = None) -> None:
    """The stand-up checklist: five tracks computed from the project's state. An empty box is your next sprint."""
    import json

    from rich.table import Table

    from supportgraph.checklist import checklist as compute

    tracks = compute(settings_for(project))
    if as_json:
        sys.stdout.write(json.dumps([{"track": t.name, "ok": t.ok, "reason": t.reason,
                                      "checks": [c.model_dump() for c in t.checks]} for t in tracks], indent=2) + "\n")
        return
    table = Table("", "track", "state", title="Implementation checklist")
    for track in tracks:
        table.add_row("[green]■[/]" if track.ok else "□", safe(track.name), safe(track.reason))
    console.print(table)
    console.print("[dim]If a box is empty, that's your next sprint.[/]")

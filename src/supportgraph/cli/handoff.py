"""`supportgraph handoff`: the handoff inbox from a terminal (the same desk as the Inbox page)."""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Annotated

import typer

from supportgraph.cli.common import ProjectOption, console, friendly_errors, safe, settings_for

app = typer.Typer(help="Conversations handed to a person: list, read, claim, reply, hand back, close.",
                  no_args_is_help=True)
AsOption = Annotated[str, typer.Option("--as", help="Your staff account (role agent or reviewer; default: your "
                                                    "login name).")]


def _desk(project):
    from supportgraph.agents.brief import load_brief
    from supportgraph.agents.handoff import HandoffDesk
    from supportgraph.store import Store

    settings = settings_for(project)
    return HandoffDesk(Store(settings.database_url), load_brief(settings.brief_path))


def _ago(when: dt.datetime) -> str:
    minutes = int((dt.datetime.now(dt.UTC) - when).total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


@app.command("list")
@friendly_errors
def handoff_list(project: ProjectOption = None) -> None:
    """Open handoffs, oldest first."""
    from rich.table import Table

    from supportgraph.store.handoffs import handoff_queue

    queue = handoff_queue(_desk(project).store)
    if not queue:
        console.print("No conversation is waiting for a person.")
        return
    table = Table("id", "waiting", "status", "reason", "thread", title=f"Handoffs ({len(queue)})")
    for handoff in queue:
        status = f"claimed by {handoff.claimed_by}" if handoff.status == "claimed" else handoff.status
        table.add_row(str(handoff.id), _ago(handoff.created_at), safe(status), safe(handoff.reason[:60]),
                      safe(handoff.thread_id))
    console.print(table)
    console.print("[dim]Read one with `supportgraph handoff show ID`, take it with `supportgraph handoff claim ID`.[/]")


@app.command("show")
@friendly_errors
def handoff_show(handoff_id: int, project: ProjectOption = None) -> None:
    """A handoff's note, reason, details and the conversation so far."""
    from supportgraph.store.handoffs import get_handoff

    desk = _desk(project)
    handoff = get_handoff(desk.store, handoff_id)
    claimed = f" by {handoff.claimed_by}" if handoff.claimed_by else ""
    console.print(f"[bold]Handoff {handoff.id}[/] · {safe(handoff.status)}{safe(claimed)} · thread "
                  f"{safe(handoff.thread_id)} · waiting since {handoff.created_at:%Y-%m-%d %H:%M} UTC")
    if handoff.first_reply_s is not None:
        console.print(f"First human reply after {handoff.first_reply_s / 60:.1f} min.")
    console.print(f"[bold]Reason:[/] {safe(handoff.reason) or '-'}")
    console.print(f"[bold]Details:[/] {safe(', '.join(f'{k} = {v}' for k, v in handoff.details.items())) or '-'}")
    console.print(f"[bold]Note:[/] {safe(handoff.note)}")
    conversation = desk.store.conversation(handoff.thread_id)
    for turn in conversation.turns if conversation else []:
        if turn.customer_message:
            console.print(f"\n[bold cyan]customer>[/] {safe(turn.customer_message)}")
        who = f"{turn.author} (person)" if turn.author else "bot"
        console.print(f"[bold green]{safe(who)}>[/] {safe(turn.reply)}")


@app.command("claim")
@friendly_errors
def handoff_claim(handoff_id: int, as_: AsOption = "", project: ProjectOption = None) -> None:
    """Take a queued conversation: the bot stays silent in it until you hand it back."""
    handoff = _desk(project).claim(handoff_id, as_ or getpass.getuser())
    console.print(f"You have handoff {handoff.id}. Reply with `supportgraph handoff reply {handoff.id} \"...\"`.")


@app.command("reply")
@friendly_errors
def handoff_reply(handoff_id: int, text: str, as_: AsOption = "", project: ProjectOption = None) -> None:
    """Reply in the customer's conversation (redacted and checked by the output guard, like the bot's replies)."""
    reply = _desk(project).reply(handoff_id, as_ or getpass.getuser(), text)
    console.print(f"Sent (turn {reply.turn_id}): {safe(reply.text)}")


@app.command("release")
@friendly_errors
def handoff_release(handoff_id: int, as_: AsOption = "", project: ProjectOption = None) -> None:
    """Hand the conversation back to the bot."""
    _desk(project).release(handoff_id, as_ or getpass.getuser())
    console.print(f"Handoff {handoff_id} handed back: the bot answers the customer's next message.")


@app.command("close")
@friendly_errors
def handoff_close(handoff_id: int, as_: AsOption = "", project: ProjectOption = None) -> None:
    """Close the conversation (resolved)."""
    _desk(project).close(handoff_id, as_ or getpass.getuser())
    console.print(f"Handoff {handoff_id} closed.")

"""`supportgraph serve`, `db`, `retention`, `keys`, `webhooks`: the HTTP API and running several replicas."""

from __future__ import annotations

import os
import re
from typing import Annotated, Optional

import typer

from supportgraph.cli.common import ProjectOption, console, err, friendly_errors, settings_for
from supportgraph.errors import ConfigError

serve_app = typer.Typer()
db = typer.Typer(help="The database: tables of the store and of conversation memory.", no_args_is_help=True)
retention = typer.Typer(help="Delete old conversations and old memory.", no_args_is_help=True)
keys = typer.Typer(help="API keys (stored hashed; a key is shown once, when created).", no_args_is_help=True)
webhooks = typer.Typer(help="Where escalations are POSTed, signed, for a helpdesk to take over.",
                       no_args_is_help=True)


def _store(project):
    from supportgraph.store import Store

    return Store(settings_for(project).database_url)


@serve_app.command()
@friendly_errors
def serve(host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port.")] = 8000,
          workers: Annotated[int, typer.Option(help="Processes on this machine (each loads the model).")] = 1,
          project: ProjectOption = None) -> None:
    """Serve the HTTP API (threads, runs, SSE, history, feedback, webhooks, the chat page at /widget/)."""
    import uvicorn

    if project:
        os.environ["SUPPORTGRAPH_PROJECT_DIR"] = str(project)
    settings = settings_for(project)
    from supportgraph.knowledge.shared import follow, shares_index

    if shares_index(settings):  # a new replica starts from the index the others published
        follow(settings)
    if not (settings.index_dir / "manifest.json").exists():
        from supportgraph.errors import IndexNotBuiltError

        raise IndexNotBuiltError(settings.index_dir)
    err.print(f"supportgraph API on http://{host}:{port} (docs at /docs, chat page at /widget/?key=...)")
    uvicorn.run("supportgraph.api.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="info", proxy_headers=True, timeout_graceful_shutdown=30)


@db.command("setup")
@friendly_errors
def db_setup(project: ProjectOption = None) -> None:
    """Create or migrate every table (store and memory). Run once per database, not on every replica."""
    from supportgraph.agents.memory import setup_memory

    _store(project).engine.dispose()
    console.print("Store tables ready.")
    console.print(f"Memory ready: {setup_memory(settings_for(project))}.")


@db.command("reconcile")
@friendly_errors
def db_reconcile(project: ProjectOption = None) -> None:
    """Make memory agree with the transcript for every thread (each turn also does it for its own thread)."""
    from supportgraph.agents.memory import Memory, open_checkpointer, reconcile_all

    settings = settings_for(project)
    memory = Memory(open_checkpointer(settings))
    try:
        done = reconcile_all(memory, _store(project), settings.turn_lease_s)
    finally:
        memory.close()
    changed = {thread: what for thread, what in done.items() if what not in ("ok", "untracked")}
    for thread, what in sorted(changed.items()):
        console.print(f"{thread}: {what}")
    console.print(f"{len(done)} threads checked, {len(changed)} changed or busy.")


def _age(text: str):
    import datetime as dt

    match = re.fullmatch(r"(\d+)([hdw])", text.strip())
    if not match:
        raise ConfigError(f"'{text}' is not an age.", "write it like 12h, 90d or 8w.")
    number, unit = int(match[1]), match[2]
    return dt.timedelta(hours=number) if unit == "h" else dt.timedelta(days=number * (7 if unit == "w" else 1))


@retention.command("prune")
@friendly_errors
def retention_prune(older_than: Annotated[str, typer.Option(help="Delete conversations idle this long: 90d, 8w, 12h.")],
                    dry_run: Annotated[bool, typer.Option(help="Only say what would be deleted.")] = False,
                    project: ProjectOption = None) -> None:
    """Delete conversations (transcript and memory) idle for longer than --older-than, and keep only the
    latest memory checkpoint of every other thread."""
    from supportgraph.agents.memory import Memory, open_checkpointer, prune_memory

    settings = settings_for(project)
    memory = Memory(open_checkpointer(settings))
    try:
        report = prune_memory(memory, _store(project), _age(older_than), dry_run=dry_run,
                              lease_s=settings.turn_lease_s)
    finally:
        memory.close()
    verb = "Would delete" if dry_run else "Deleted"
    console.print(f"{verb} {len(report.deleted)} conversations idle for {older_than}; "
                  f"{'would prune' if dry_run else 'pruned'} the memory of {report.pruned} threads"
                  + (f"; {len(report.busy)} busy, left for next time" if report.busy else "") + ".")


@keys.command("create")
@friendly_errors
def keys_create(tenant: Annotated[str, typer.Option(help="Whose key: the organisation or app it is for.")],
                name: Annotated[str, typer.Option(help="What it is used for, e.g. website-widget.")] = "default",
                scope: Annotated[str, typer.Option(help="chat (customers) | staff (all threads of the tenant)")] = "chat",
                rate: Annotated[Optional[int], typer.Option(help="Requests per minute for the key.")] = None,
                end_user_rate: Annotated[Optional[int], typer.Option(help="Requests per minute per end user.")] = None,
                project: ProjectOption = None) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    from supportgraph.store.keys import create_key

    settings = settings_for(project)
    key, info = create_key(_store(project), tenant, name, scope, rate or settings.rate_limit_per_key,
                           end_user_rate or settings.rate_limit_per_end_user)
    err.print(f"Key {info.id} ({info.scope}) for {info.tenant}/{info.name}: {info.rate_per_minute}/min, "
              f"{info.end_user_rate_per_minute}/min per end user. Store it now; it cannot be shown again.")
    typer.echo(key)


@keys.command("list")
@friendly_errors
def keys_list(tenant: Annotated[Optional[str], typer.Option(help="Only this tenant's keys.")] = None,
              project: ProjectOption = None) -> None:
    """List keys (never their secrets)."""
    from supportgraph.store.keys import list_keys

    for info in list_keys(_store(project), tenant):
        state = f"revoked {info.revoked_at:%Y-%m-%d}" if info.revoked_at else "live"
        console.print(f"{info.id}  {info.tenant}/{info.name}  {info.scope}  {info.rate_per_minute}/min  "
                      f"{info.end_user_rate_per_minute}/min/user  {state}", markup=False)


@keys.command("revoke")
@friendly_errors
def keys_revoke(key_id: str, project: ProjectOption = None) -> None:
    """Revoke a key: every replica refuses it from the next request on."""
    from supportgraph.store.keys import revoke_key

    info = revoke_key(_store(project), key_id)
    console.print(f"Key {info.id} ({info.tenant}/{info.name}) revoked.", markup=False)


@webhooks.command("add")
@friendly_errors
def webhooks_add(tenant: Annotated[str, typer.Option(help="Whose conversations' events go there.")],
                 url: Annotated[str, typer.Option(help="The helpdesk's endpoint.")],
                 event: Annotated[Optional[list[str]], typer.Option(help="Event type; repeat for more.")] = None,
                 project: ProjectOption = None) -> None:
    """Add an endpoint; its signing secret is printed once."""
    from supportgraph.store.webhooks import add_endpoint

    info, secret = add_endpoint(_store(project), tenant, url, event)
    err.print(f"Endpoint {info.id} for {info.tenant}: {', '.join(info.events)} -> {info.url}. "
              "Verify signatures with this secret; it cannot be shown again.")
    typer.echo(secret)


@webhooks.command("list")
@friendly_errors
def webhooks_list(project: ProjectOption = None) -> None:
    """List endpoints and their recent deliveries."""
    from supportgraph.store.webhooks import list_deliveries, list_endpoints

    store = _store(project)
    for info in list_endpoints(store):
        state = "disabled" if info.disabled_at else "active"
        console.print(f"{info.id}  {info.tenant}  {info.url}  {','.join(info.events)}  {state}", markup=False)
    for delivery in list_deliveries(store, limit=20):
        console.print(f"  {delivery.event_id} -> {delivery.endpoint_id}: {delivery.status} after {delivery.attempts} "
                      f"attempt(s){'; ' + delivery.last_error if delivery.last_error else ''}", markup=False)


@webhooks.command("remove")
@friendly_errors
def webhooks_remove(endpoint_id: int, project: ProjectOption = None) -> None:
    """Stop sending to an endpoint (its deliveries are kept)."""
    from supportgraph.store.webhooks import disable_endpoint

    info = disable_endpoint(_store(project), endpoint_id)
    console.print(f"Endpoint {info.id} ({info.url}) disabled.", markup=False)

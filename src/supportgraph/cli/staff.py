"""`supportgraph staff`: staff accounts for the review, knowledge and dashboard pages."""

from __future__ import annotations

from typing import Annotated

import typer

from supportgraph.cli.common import (
    ProjectOption,
    console,
    friendly_errors,
    settings_for,
)

app = typer.Typer(help="Manage staff accounts (hashed passwords; there is no default account).",
                  no_args_is_help=True)


def _store(project):
    from supportgraph.store import Store

    return Store(settings_for(project).database_url)


@app.command("add")
@friendly_errors
def staff_add(username: str, role: Annotated[str, typer.Option(help="agent | reviewer | editor | admin")] = "reviewer",
              password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                                    envvar="SUPPORTGRAPH_NEW_STAFF_PASSWORD",
                                                    help="Asked for when not given.")] = "",
              project: ProjectOption = None) -> None:
    """Create a staff account, or reset its password and role."""
    from supportgraph.store.staff import add_staff

    add_staff(_store(project), username, password, role)
    console.print(f"Staff account '{username}' ({role}) saved.")


@app.command("list")
@friendly_errors
def staff_list(project: ProjectOption = None) -> None:
    from supportgraph.store.staff import list_staff

    for username, role in list_staff(_store(project)) or [("(none)", "run `supportgraph staff add NAME`")]:
        console.print(f"{username}  {role}")


@app.command("remove")
@friendly_errors
def staff_remove(username: str, project: ProjectOption = None) -> None:
    from supportgraph.store.staff import remove_staff

    remove_staff(_store(project), username)
    console.print(f"Removed '{username}'.")

"""`supportgraph`: a thin Typer front over the package. No logic lives here."""

import typer

from supportgraph.cli import agent, evals, experiment, handoff, kb, prompts, review, server, staff

app = typer.Typer(help="Run and improve customer-support agents.", no_args_is_help=True, add_completion=False)
app.registered_commands += agent.app.registered_commands
app.add_typer(kb.app, name="kb")
app.add_typer(staff.app, name="staff")
app.add_typer(evals.app, name="eval")
app.add_typer(prompts.app, name="prompts")
app.add_typer(experiment.app, name="experiment")
app.add_typer(review.app, name="review")
app.add_typer(handoff.app, name="handoff")
app.command("checklist")(review.checklist)
app.registered_commands += server.serve_app.registered_commands
app.add_typer(server.db, name="db")
app.add_typer(server.retention, name="retention")
app.add_typer(server.keys, name="keys")
app.add_typer(server.webhooks, name="webhooks")

__all__ = ["app"]

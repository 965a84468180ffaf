"""`supportgraph prompts`: list, show, diff, log, lint, lock and promote prompt versions."""

from __future__ import annotations

import difflib
import json
import sys
from typing import Annotated

import typer
import yaml

from supportgraph.cli.common import (
    ProjectOption,
    console,
    err,
    friendly_errors,
    settings_for,
)

app = typer.Typer(help="Versioned prompt files: list, show, diff, log, lint, lock, promote.", no_args_is_help=True)


def _registry(project):
    from supportgraph.prompts.history import prompts_dir_for
    from supportgraph.prompts.registry import PromptRegistry

    return PromptRegistry(prompts_dir_for(settings_for(project).project_dir))


def _text(prompt) -> str:
    return "\n".join(f"[{m['role']}]\n{m['content']}" for m in prompt.render_sample())


@app.command("list")
@friendly_errors
def list_prompts(project: ProjectOption = None) -> None:
    """Every prompt with its current version, hash and labels."""
    registry = _registry(project)
    labels = registry.labels()
    for name, prompt in sorted(registry.prompts.items()):
        tags = ", ".join(f"{label}={v}" for label, v in labels.get(name, {}).items())
        console.print(f"[bold]{name}[/] {prompt.version}  #{prompt.content_hash}  {prompt.path}  [dim]{tags}[/]")


@app.command("show")
@friendly_errors
def show(ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")], project: ProjectOption = None) -> None:
    """A prompt's metadata and its messages rendered with the sample inputs."""
    from supportgraph.prompts.history import get_version

    name, _, version = ref.partition("@")
    prompt = get_version(_registry(project), name, version or None)
    console.print(f"[bold]{prompt.name}[/] {prompt.version} #{prompt.content_hash} — {prompt.description}")
    console.print(f"owner: {prompt.owner}; model: {json.dumps(prompt.model)}")
    sys.stdout.write(_text(prompt) + "\n")


@app.command("diff")
@friendly_errors
def diff(name: str, a: str, b: str, project: ProjectOption = None) -> None:
    """Unified diff of two versions' files (from git history)."""
    from supportgraph.prompts.history import get_version

    registry = _registry(project)
    old, new = (get_version(registry, name, v) for v in (a, b))
    dump = lambda p: yaml.safe_dump(p.model_dump(exclude={"path"}), sort_keys=False).splitlines()  # noqa: E731
    sys.stdout.write("\n".join(difflib.unified_diff(dump(old), dump(new), f"{name}@{a}", f"{name}@{b}",
                                                    lineterm="")) + "\n")


@app.command("log")
@friendly_errors
def log(name: str, project: ProjectOption = None) -> None:
    """The versions of a prompt found in git, newest first, with the commit that holds each."""
    from supportgraph.prompts.history import versions

    for version, (where, prompt) in versions(_registry(project), name).items():
        console.print(f"{version}  #{prompt.content_hash}  {where}")


@app.command("lint")
@friendly_errors
def lint_command(project: ProjectOption = None) -> None:
    """Check every prompt file; exit 1 on any problem (CI runs this)."""
    from supportgraph.prompts.lint import lint

    registry = _registry(project)
    problems = lint(registry)
    for problem in problems:
        err.print(f"[red]✗[/] {problem}")
    console.print(f"{len(registry.prompts)} prompts, {len(problems)} problems.")
    if problems:
        raise typer.Exit(1)


@app.command("lock")
@friendly_errors
def lock(project: ProjectOption = None) -> None:
    """Record the hash of each new version that has a changelog entry (prompts/prompts.lock.json)."""
    from supportgraph.prompts.lint import record_versions

    added = record_versions(_registry(project))
    console.print(f"Recorded: {', '.join(added) or 'nothing new'}.")


@app.command("promote")
@friendly_errors
def promote(name: str, version: str, label: Annotated[str, typer.Option(help="e.g. production, staging, an experiment")]
            = "production", project: ProjectOption = None) -> None:
    """Point a label at a recorded version."""
    from supportgraph.prompts.labels import promote as set_label

    set_label(_registry(project), name, version, label)
    console.print(f"{name}: {label} -> {version}")

"""Earlier versions of a prompt, read from git (prompt files are versioned there)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from supportgraph.errors import NotFoundError
from supportgraph.prompts.registry import PromptFile, PromptRegistry, parse_prompt


def versions(registry: PromptRegistry, name: str) -> dict[str, tuple[str, PromptFile]]:
    """version -> (commit or "working tree", prompt), newest first, from the file's git history."""
    current = registry.get(name)
    path = registry.prompts_dir / current.path
    found: dict[str, tuple[str, PromptFile]] = {current.version: ("working tree", current)}
    log = subprocess.run(["git", "log", "--format=%h %ad", "--date=short", "--", path.name],
                         cwd=path.parent, capture_output=True, text=True)
    for line in log.stdout.splitlines():
        commit = line.split()[0]
        shown = subprocess.run(["git", "show", f"{commit}:./{path.name}"], cwd=path.parent,
                               capture_output=True, text=True)
        if shown.returncode == 0:
            prompt = parse_prompt(shown.stdout, current.path)
            found.setdefault(prompt.version, (line, prompt))
    return found


def get_version(registry: PromptRegistry, name: str, version: str | None) -> PromptFile:
    current = registry.get(name)
    if version is None or version == current.version:  # the usual case: no git calls on the hot path
        return current
    known = versions(registry, name)
    if version not in known:
        raise NotFoundError(f"Prompt '{name}' has no version {version}.", f"known: {', '.join(known)}.")
    return known[version][1]


def prompts_dir_for(project_dir: Path) -> Path:
    return project_dir / "prompts"

"""`supportgraph prompts lint`: what CI checks on every prompt file.

- every variable a template uses is declared, and every declared one is used;
- the messages render with the sample inputs; the output schema is valid;
- the text of a recorded version never changes: an edit needs a new version,
  a changelog entry (`## <name> <version>` in CHANGELOG.md beside the file)
  and `supportgraph prompts lock` to record its hash;
- labels point at recorded versions.
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import jsonschema

from supportgraph.errors import FileProblem
from supportgraph.prompts.registry import PromptFile, PromptRegistry

LOCK_FILE = "prompts.lock.json"


LintProblem = FileProblem  # a problem in a prompt file


def read_lock(prompts_dir: Path) -> dict[str, dict[str, str]]:
    path = prompts_dir / LOCK_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def changelog_has(prompts_dir: Path, prompt: PromptFile) -> bool:
    changelog = (prompts_dir / prompt.path).parent / "CHANGELOG.md"
    return changelog.exists() and f"## {prompt.name} {prompt.version}" in changelog.read_text(encoding="utf-8")


def lint(registry: PromptRegistry) -> list[LintProblem]:
    lock = read_lock(registry.prompts_dir)
    problems: list[LintProblem] = []
    for prompt in registry.prompts.values():
        def problem(message: str, fix: str) -> None:
            problems.append(LintProblem(prompt.path, message, fix))

        used, declared = prompt.used_variables(), set(prompt.input_variables)
        for name in sorted(used - declared):
            problem(f"uses '{{{{ {name} }}}}' but does not declare it.", f"add '{name}' to input_variables.")
        for name in sorted(declared - used):
            problem(f"declares '{name}' but no message uses it.", "use it in a message or remove it.")
        if used <= declared:
            try:
                prompt.render_sample()
            except jinja2.TemplateError as error:
                problem(f"does not render with its sample inputs ({error}).", "fix the template or the samples.")
        if prompt.output_schema is not None:
            try:
                jsonschema.Draft202012Validator.check_schema(prompt.output_schema)
            except jsonschema.SchemaError as error:
                problem(f"output_schema is not a valid JSON schema ({error.message}).", "fix the schema.")
        recorded = lock.get(prompt.name, {}).get(prompt.version)
        if recorded is not None and recorded != prompt.content_hash:
            problem(f"the text of version {prompt.version} changed (recorded hash {recorded}, now "
                    f"{prompt.content_hash}).",
                    "bump `version`, add a `## {name} {version}` entry to CHANGELOG.md (what, why, expected "
                    "impact), then run `supportgraph prompts lock`.".format(name=prompt.name, version="<new>"))
        elif recorded is None:
            if not changelog_has(registry.prompts_dir, prompt):
                problem(f"version {prompt.version} has no changelog entry.",
                        f"add `## {prompt.name} {prompt.version}` to CHANGELOG.md beside the file.")
            problem(f"version {prompt.version} is not recorded in {LOCK_FILE}.", "run `supportgraph prompts lock`.")
    for name, labels in registry.labels().items():
        for label, version in labels.items():
            if version not in lock.get(name, {}):
                problems.append(LintProblem("labels.yaml", f"{name} '{label}' points at unrecorded version {version}.",
                                            "promote a recorded version."))
    return problems


def record_versions(registry: PromptRegistry) -> list[str]:
    """Record the current version's hash of every prompt that has a changelog entry; return what was added."""
    lock = read_lock(registry.prompts_dir)
    added = []
    for prompt in registry.prompts.values():
        versions = lock.setdefault(prompt.name, {})
        if prompt.version not in versions and changelog_has(registry.prompts_dir, prompt):
            versions[prompt.version] = prompt.content_hash
            added.append(f"{prompt.name}@{prompt.version}")
    (registry.prompts_dir / LOCK_FILE).write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    return added

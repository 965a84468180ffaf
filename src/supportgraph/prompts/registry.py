"""Load and validate prompt files (prompts/**/*.yaml) and render them.

A prompt file: name, semantic version, description, owner, model parameters,
declared input variables (with sample values), Jinja2 chat messages and an
optional JSON output schema. Problems name the file and the fix.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import jinja2
import jinja2.meta
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from supportgraph.errors import ConfigError, NotFoundError

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(pattern="^(system|user|assistant)$")
    content: str


class Variable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str
    sample: str | list[str]


class PromptFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_.-]+$")
    version: str
    description: str
    owner: str
    model: dict[str, float | int | str] = Field(default_factory=dict)
    input_variables: dict[str, Variable]
    messages: list[Message] = Field(min_length=1)
    output_schema: dict | None = None
    path: str = ""

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not SEMVER.match(value):
            raise ValueError("use a semantic version such as 1.2.0")
        return value

    @property
    def content_hash(self) -> str:
        """What the model sees and how it is asked: messages, model parameters, schema."""
        payload = json.dumps({"messages": [m.model_dump() for m in self.messages], "model": self.model,
                              "output_schema": self.output_schema}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    @property
    def identity(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "hash": self.content_hash}

    def used_variables(self) -> set[str]:
        used: set[str] = set()
        for message in self.messages:
            used |= jinja2.meta.find_undeclared_variables(_ENV.parse(message.content))
        return used

    def render(self, **values) -> list[dict[str, str]]:
        """Chat messages with the variables filled in; a missing variable is an error."""
        missing = set(self.input_variables) - set(values)
        if missing:
            raise ConfigError(f"Prompt {self.name}@{self.version} needs {', '.join(sorted(missing))}.",
                              "pass every declared input variable.")
        return [{"role": m.role, "content": _ENV.from_string(m.content).render(**values)} for m in self.messages]

    def render_sample(self) -> list[dict[str, str]]:
        return self.render(**{name: v.sample for name, v in self.input_variables.items()})


def parse_prompt(text: str, relative_path: str) -> PromptFile:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ConfigError(f"{relative_path}{f':{mark.line + 1}' if mark else ''}: not valid YAML.",
                          "fix the YAML syntax (multi-line messages use `content: |`).") from None
    try:
        return PromptFile(**data, path=relative_path)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{relative_path}: '{where}' {first['msg']}.",
                          "see prompts/README.md for the fields a prompt file takes.") from None


def read_labels(prompts_dir: Path) -> dict[str, dict[str, str]]:
    """labels.yaml: prompt name -> label (production, staging, ...) -> version."""
    path = prompts_dir / "labels.yaml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


class PromptRegistry:
    def __init__(self, prompts_dir: Path) -> None:
        self.prompts_dir = prompts_dir
        self.prompts: dict[str, PromptFile] = {}
        for path in sorted(prompts_dir.rglob("*.yaml")):
            if path.name == "labels.yaml":
                continue
            prompt = parse_prompt(path.read_text(encoding="utf-8"), path.relative_to(prompts_dir).as_posix())
            if prompt.name in self.prompts:
                raise ConfigError(f"Prompt name '{prompt.name}' is used by {self.prompts[prompt.name].path} "
                                  f"and {prompt.path}.", "give each prompt file a unique name.")
            self.prompts[prompt.name] = prompt

    def get(self, name: str) -> PromptFile:
        if name not in self.prompts:
            raise NotFoundError(f"No prompt named '{name}'.", f"use one of: {', '.join(sorted(self.prompts))}.")
        return self.prompts[name]

    def labels(self) -> dict[str, dict[str, str]]:
        return read_labels(self.prompts_dir)

    def resolve(self, name: str, label: str = "production") -> str:
        """The version a label points at (the node's prompt is resolved by label)."""
        version = self.labels().get(name, {}).get(label)
        if version is None:
            raise NotFoundError(f"Prompt '{name}' has no '{label}' label.",
                                f"run `supportgraph prompts promote {name} VERSION --label {label}`.")
        return version

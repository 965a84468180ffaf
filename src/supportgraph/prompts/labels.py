"""Point a label (production, staging, an experiment's name) at a recorded prompt version.

labels.yaml is edited with ruamel so its comments survive.
"""

from __future__ import annotations

from ruamel.yaml import YAML

from supportgraph.errors import ConfigError
from supportgraph.prompts.lint import read_lock
from supportgraph.prompts.registry import PromptRegistry


def promote(registry: PromptRegistry, name: str, version: str, label: str) -> None:
    registry.get(name)
    if version not in read_lock(registry.prompts_dir).get(name, {}):
        raise ConfigError(f"{name}@{version} is not a recorded version.", "record it with `supportgraph prompts lock`.")
    path = registry.prompts_dir / "labels.yaml"
    data = YAML().load(path.read_text()) if path.exists() else {}
    data.setdefault(name, {})[label] = version
    with path.open("w") as handle:
        YAML().dump(data, handle)


def promote_label(registry: PromptRegistry, label: str, to: str = "production") -> dict[str, tuple[str | None, str]]:
    """Point ``to`` at whatever ``label`` serves, for every prompt that has ``label``.
    Returns name -> (version ``to`` served before, version it serves now) for what changed."""
    changed = {}
    for name, tags in registry.labels().items():
        tags = tags or {}
        if label in tags and tags.get(to) != tags[label]:
            promote(registry, name, tags[label], to)
            changed[name] = (tags.get(to), tags[label])
    return changed

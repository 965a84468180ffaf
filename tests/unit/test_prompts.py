"""Prompt files: the lint CI runs, and snapshots of every rendered production prompt
(a wording change shows up as a reviewed diff; UPDATE_SNAPSHOTS=1 rewrites them)."""

import os
import shutil
from pathlib import Path

import pytest

from supportgraph.errors import ConfigError
from supportgraph.prompts.lint import lint, record_versions
from supportgraph.prompts.registry import PromptRegistry
from tests.conftest import REPO

pytestmark = pytest.mark.unit
PROMPTS = REPO / "prompts"
SNAPSHOTS = REPO / "tests" / "snapshots" / "prompts"


def assert_matches_snapshot(rendered: str, snapshot: Path, what: str) -> None:
    """Equal to the committed snapshot; a missing one fails too. UPDATE_SNAPSHOTS=1 (re)writes it, for review."""
    if os.environ.get("UPDATE_SNAPSHOTS", "") not in ("", "0"):
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(rendered)
    if not snapshot.exists():
        pytest.fail(f"no snapshot {snapshot.name} in {snapshot.parent}: run with UPDATE_SNAPSHOTS=1, "
                    "review it and commit it", pytrace=False)
    assert rendered == snapshot.read_text(), f"{what} changed: review, then UPDATE_SNAPSHOTS=1"


def test_a_missing_snapshot_fails_unless_asked_to_write_it(tmp_path, monkeypatch):
    snapshot = tmp_path / "snapshots" / "new.txt"
    monkeypatch.delenv("UPDATE_SNAPSHOTS", raising=False)
    with pytest.raises(pytest.fail.Exception, match="run with UPDATE_SNAPSHOTS=1"):
        assert_matches_snapshot("text", snapshot, "it")
    assert not snapshot.exists()
    monkeypatch.setenv("UPDATE_SNAPSHOTS", "1")
    assert_matches_snapshot("text", snapshot, "it")
    assert snapshot.read_text() == "text"


@pytest.fixture
def prompts(tmp_path):
    shutil.copytree(PROMPTS, tmp_path / "prompts")
    return tmp_path / "prompts"


def test_the_projects_prompts_pass_lint():
    assert [str(p) for p in lint(PromptRegistry(PROMPTS))] == []


@pytest.mark.parametrize("name", sorted(PromptRegistry(PROMPTS).prompts))
def test_rendered_production_prompt_matches_its_snapshot(name):
    registry = PromptRegistry(PROMPTS)
    prompt = registry.get(name)
    assert registry.resolve(name, "production") == prompt.version
    rendered = f"# {name}@{prompt.version} #{prompt.content_hash}\n" + "\n".join(
        f"[{m['role']}]\n{m['content']}" for m in prompt.render_sample())
    assert_matches_snapshot(rendered, SNAPSHOTS / f"{name}.txt", "prompt wording")


def test_editing_a_recorded_version_fails_until_bumped_logged_and_locked(prompts):
    path = prompts / "support" / "answer.yaml"
    path.write_text(path.read_text().replace("Give the fix as 3-7 numbered steps", "Give the fix as steps"))
    problems = [str(p) for p in lint(PromptRegistry(prompts))]
    assert len(problems) == 1 and "text of version 1.0.0 changed" in problems[0] and "bump" in problems[0]

    path.write_text(path.read_text().replace("version: 1.0.0", "version: 1.1.0"))
    problems = [str(p) for p in lint(PromptRegistry(prompts))]
    assert any("no changelog entry" in p for p in problems)

    changelog = prompts / "support" / "CHANGELOG.md"
    changelog.write_text(changelog.read_text() + "\n## support.answer 1.1.0\n\n- What: looser step count.\n")
    assert record_versions(PromptRegistry(prompts)) == ["support.answer@1.1.0"]
    assert lint(PromptRegistry(prompts)) == []


def test_variables_must_be_declared_and_used(prompts):
    path = prompts / "support" / "clarify.yaml"
    path.write_text(path.read_text().replace("Issue: {{ summary }}", "Issue: {{ summry }}"))
    problems = " ".join(str(p) for p in lint(PromptRegistry(prompts)))
    assert "uses '{{ summry }}' but does not declare it" in problems
    assert "declares 'summary' but no message uses it" in problems


def test_a_broken_file_names_itself_and_the_fix(prompts):
    (prompts / "support" / "bad.yaml").write_text("name: support.bad\nversion: one\n")
    with pytest.raises(ConfigError) as error:
        PromptRegistry(prompts)
    assert "support/bad.yaml" in error.value.message and error.value.fix


def test_render_refuses_missing_variables():
    with pytest.raises(ConfigError, match="needs"):
        PromptRegistry(PROMPTS).get("support.answer").render(summary="x")


def test_the_one_page_brief_matches_its_snapshot():
    from supportgraph.agents.brief import load_brief, render_markdown

    rendered = render_markdown(load_brief(REPO / "agents" / "support" / "brief.yaml"))
    assert "| `outcome.answerable_answered` | 0.8 |" in rendered and "(`promise_refund`)" in rendered
    assert_matches_snapshot(rendered, REPO / "tests" / "snapshots" / "brief.md", "the brief")


def test_an_older_version_is_read_back_from_git(tmp_path):
    import subprocess

    from supportgraph.prompts.history import get_version, versions

    shutil.copytree(PROMPTS, tmp_path / "prompts")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x"}
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(["git", "commit", "-qm", "v1"], cwd=tmp_path, check=True, env=env)
    path = tmp_path / "prompts" / "support" / "answer.yaml"
    path.write_text(path.read_text().replace("version: 1.0.0", "version: 1.1.0").replace("3-7", "2-6"))
    registry = PromptRegistry(tmp_path / "prompts")
    assert set(versions(registry, "support.answer")) == {"1.1.0", "1.0.0"}
    old = get_version(registry, "support.answer", "1.0.0")
    assert "3-7 numbered steps" in old.messages[0].content and old.content_hash != registry.get("support.answer").content_hash

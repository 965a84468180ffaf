"""`dvc repro index` on a fresh repository: runs the stages up to the index, then nothing when
nothing changed, then again when one article changes (the KB version in the manifest changes with it).
The evaluation stages after it are exercised by test_evaluation.py through the same commands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BIN = Path(sys.executable).parent


def _run(args, cwd, env):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    for name in ("knowledge", "src/supportgraph/knowledge", ".dvc", "agents"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "tmp", "cache"))
    for name in ("dvc.yaml", "params.yaml", ".dvcignore"):
        shutil.copy(REPO / name, root / name)
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", SUPPORTGRAPH_HOME=str(tmp_path / "home"),
               SUPPORTGRAPH_PROJECT_DIR=str(root))
    _run(["git", "init", "-q"], root, env)
    return root, env


def test_repro_runs_once_then_only_when_knowledge_changes(project):
    root, env = project
    first = _run([BIN / "dvc", "repro", "index"], root, env)
    assert "Running stage 'index'" in first
    manifest = json.loads((root / "evals/results/kb_manifest.json").read_text())
    assert len(manifest["articles"]) == 68

    again = _run([BIN / "dvc", "repro", "index"], root, env)
    assert "Running stage" not in again and "up to date" in again

    article = root / "knowledge/faqs/faq-support-hours.md"
    article.write_text(article.read_text() + "\nWe are closed on 25 December.\n")
    third = _run([BIN / "dvc", "repro", "index"], root, env)
    assert "Running stage 'index'" in third
    changed = json.loads((root / "evals/results/kb_manifest.json").read_text())
    assert changed["kb_version"] != manifest["kb_version"]
    assert changed["articles"]["faq-support-hours"]["hash"] != manifest["articles"]["faq-support-hours"]["hash"]

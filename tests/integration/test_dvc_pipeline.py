"""`dvc repro index` on a fresh repository: runs the stages up to the index, then nothing when
nothing changed, then again when one article changes (the KB version in the manifest changes with it).
The evaluation stages after it are exercised by test_evaluation.py through the same commands."""

from __future__ import annotations

import json
import os
import re
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


def _copy_project(tmp_path, folders, files=("dvc.yaml", "params.yaml", ".dvcignore"), prepare=None):
    """A git repository holding copies of the repo's ``folders`` and ``files``; the env to run DVC in it."""
    root = tmp_path / "project"
    for name in folders:
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "tmp", "cache"))
    for name in files:
        shutil.copy(REPO / name, root / name)
    if prepare:
        prepare(root)
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", SUPPORTGRAPH_HOME=str(tmp_path / "home"),
               SUPPORTGRAPH_PROJECT_DIR=str(root))
    _run(["git", "init", "-q"], root, env)
    return root, env


@pytest.fixture
def project(tmp_path):
    return _copy_project(tmp_path, ("knowledge", "src/supportgraph/knowledge", ".dvc", "agents"))


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


@pytest.fixture
def variant_project(tmp_path):
    """The pipeline over the tiny knowledge base and three questions, with two experiment variants."""
    from tests.unit.conftest import write_kb

    def prepare(root):
        write_kb(root / "knowledge")
        (root / "evals/datasets").mkdir(parents=True)
        (root / "evals/datasets/golden.jsonl").write_text("".join(json.dumps(case) + "\n" for case in [
            {"id": "q1", "question": "I was charged twice this month", "sources": ["ts-charged-twice"]},
            {"id": "q2", "question": "what is the refund policy for a duplicate charge", "sources": ["policy-refunds"]},
            {"id": "q3", "question": "book me a table in Berlin", "answerable": False}]))
        params = root / "params.yaml"
        params.write_text(re.sub(r"  variants:.*(\n    .*)*", "  variants:\n    dense-only: {retrieval: "
                                 "{mode: dense}}\n    candidate: {prompts: staging}", params.read_text(), count=1))
        assert "dense-only" in params.read_text()

    return _copy_project(tmp_path, ("src", ".dvc", "agents", "prompts"), prepare=prepare)


def test_each_variant_is_evaluated_on_its_own_and_reruns_only_when_its_params_change(variant_project):
    root, env = variant_project
    first = _run([BIN / "dvc", "repro", "score_variant"], root, env)
    for stage in ("answer_variant@dense-only", "answer_variant@candidate", "score_variant@dense-only",
                  "score_variant@candidate"):
        assert f"Running stage '{stage}'" in first
    assert "Running stage 'answer'" not in first  # production is the main stages' job
    for name in ("dense-only", "candidate"):
        folder = root / "evals/results/variants" / name
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["count"]["questions"] == 3
        assert len((folder / "results.jsonl").read_text().splitlines()) == 3

    again = _run([BIN / "dvc", "repro", "score_variant"], root, env)
    assert "Running stage" not in again

    params = root / "params.yaml"
    params.write_text(params.read_text().replace("{retrieval: {mode: dense}}", "{retrieval: {mode: lexical}}"))
    third = _run([BIN / "dvc", "repro", "score_variant"], root, env)
    assert "Running stage 'answer_variant@dense-only'" in third
    assert "Running stage 'answer_variant@candidate'" not in third
    assert "Running stage 'score_variant@candidate'" not in third

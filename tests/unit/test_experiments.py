"""Experiment variants on the tiny knowledge base (hash embedder, real Chroma): declared in
params.yaml, answered with their own retrieval params or prompt label, compared side by side,
concluded (winner promoted, loser archived, decision logged)."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from supportgraph.cli import app
from supportgraph.config import Settings
from supportgraph.errors import ConfigError, NotFoundError
from supportgraph.evals.datasets import GoldenCase
from supportgraph.evals.evaluate import answer_with_fresh_index, score
from supportgraph.evals.experiments import compare, load_log, render_comparison
from supportgraph.evals.report import write_scores
from supportgraph.evals.variants import (
    check_prompt_label,
    get_variant,
    load_variants,
    results_dir,
)
from supportgraph.params import RetrievalParams
from tests.conftest import REPO
from tests.unit.conftest import write_kb

pytestmark = pytest.mark.unit

PARAMS = """\
retrieval:
  mode: hybrid               # hybrid | dense | lexical
  candidates: 40
  confidence:                # on the best chunk's cosine alone, whatever the shipped weights are
    intercept: -5.0
    dense: 5.0
    title: 0.0
    coverage: 0.0
    passage_coverage: 0.0
    known: 0.0
    missing: 0.0

# Experiments (comment kept by conclude)
experiment:
  variants:
    lexical-only: {retrieval: {mode: lexical}}
    candidate: {prompts: candidate}
"""
CASES = [GoldenCase(id="q1", question="I was charged twice this month", reference_answer="Check for a pending charge.",
                    sources=["ts-charged-twice"]),
         GoldenCase(id="q2", question="what is your refund policy for a duplicate charge?",
                    reference_answer="Duplicate charges are refunded in full.", sources=["policy-refunds"]),
         GoldenCase(id="q3", question="can you book me a table for two in Berlin", reference_answer="Hand over.",
                    answerable=False, category="out_of_scope")]


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(REPO / "agents", root / "agents")
    shutil.copytree(REPO / "prompts", root / "prompts")
    labels = root / "prompts" / "labels.yaml"
    labels.write_text(labels.read_text().replace("staging: 1.0.0}", "candidate: 1.0.0}")
                      .replace("support.answer: {production: 1.0.0", "support.answer: {production: 0.9.0"))
    (root / "params.yaml").write_text(PARAMS)
    write_kb(root / "knowledge")
    return root


def evaluate_variant(root, name, embedder):
    settings = Settings(project_dir=root, home=root / ".home")
    records, info = answer_with_fresh_index(settings, CASES, embedder, variant=get_variant(root, name))
    metrics, per_case, errors = score(records, embedder, info["articles"])
    write_scores(results_dir(root, name), metrics, records, per_case, errors)
    return records


def test_variants_are_declared_in_params_and_checked(project, tmp_path):
    variants = load_variants(project)
    assert set(variants) == {"lexical-only", "candidate"}
    merged = variants["lexical-only"].retrieval_params(RetrievalParams(candidates=12))
    assert merged.mode == "lexical" and merged.candidates == 12
    nested = get_variant(project, "production").model_copy(update={"retrieval": {"confidence": {"dense": 9.0}}})
    assert nested.retrieval_params(RetrievalParams()).confidence.intercept == RetrievalParams().confidence.intercept
    with pytest.raises(NotFoundError, match="nope") as error:
        get_variant(project, "nope")
    assert "lexical-only" in error.value.fix
    bad = get_variant(project, "production").model_copy(update={"name": "x", "retrieval": {"modes": "dense"}})
    with pytest.raises(ConfigError, match="unknown retrieval params: modes"):
        bad.retrieval_params(RetrievalParams())
    (tmp_path / "params.yaml").write_text("experiment:\n  variants:\n    production: {prompts: staging}\n")
    with pytest.raises(ConfigError, match="not allowed"):
        load_variants(tmp_path)
    check_prompt_label(project / "prompts", variants["candidate"])
    with pytest.raises(ConfigError, match="label 'staging'"):
        check_prompt_label(project / "prompts", variants["candidate"].model_copy(update={"prompts": "staging"}))


def test_compare_then_conclude_promotes_the_retrieval_winner_and_logs_both(project, hash_embedder):
    production = evaluate_variant(project, "production", hash_embedder)
    lexical = evaluate_variant(project, "lexical-only", hash_embedder)
    assert [r.id for r in production] == [r.id for r in lexical] == ["q1", "q2", "q3"]

    comparison = compare(project, "production", "lexical-only")
    names = [row[0] for row in comparison.table()]
    assert names[:2] == ["outcome.accuracy", "outcome.answerable_answered"] and "latency.p95_ms" in names
    markdown = render_comparison(comparison)
    assert "| metric | production | lexical-only | better |" in markdown
    assert f"## Side by side: {len(comparison.differing())} questions answered differently" in markdown

    result = CliRunner().invoke(app, ["experiment", "compare", "production", "lexical-only", "--project", str(project)])
    assert result.exit_code == 0, result.output
    assert (project / "evals/results/experiment.md").read_text() == markdown

    conclude = ["experiment", "conclude", "--winner", "lexical-only", "--loser", "production",
                "--learning", "BM25 alone is enough for a tiny KB.", "--project", str(project)]
    refused = CliRunner().invoke(app, conclude)
    said = " ".join(refused.output.split())
    assert refused.exit_code == 1 and "Not concluding" in said and "--force" in said
    assert load_log(project) == [] and "mode: hybrid" in (project / "params.yaml").read_text()
    result = CliRunner().invoke(app, [*conclude, "--force"])
    assert result.exit_code == 0, result.output
    assert "promoted: params.yaml: retrieval.mode hybrid -> lexical" in result.output
    params = (project / "params.yaml").read_text()
    assert "  mode: lexical" in params and "# hybrid | dense | lexical" in params
    assert "# Experiments (comment kept by conclude)" in params and "lexical-only" not in params
    assert "candidate: {prompts: candidate}" in params
    assert not results_dir(project, "lexical-only").exists()

    (record,) = load_log(project)
    assert (record.winner.name, record.loser.name) == ("lexical-only", "production")
    assert record.winner.retrieval == {"mode": "lexical"} and record.questions == 3
    assert record.winner.metrics == json.loads(json.dumps(comparison.b.metrics))
    assert record.loser.metrics["outcome"]["accuracy"] == comparison.a.metrics["outcome"]["accuracy"]
    assert record.learning == "BM25 alone is enough for a tiny KB."
    # On three questions the two answer alike: concluding needed --force, and the log says so.
    assert record.evidence == "forced (lexical-only and production gave the same answer to every question: there " \
        "is no winner)"
    human = (project / "evals/EXPERIMENTS.md").read_text()
    assert "lexical-only over production" in human and "BM25 alone" in human and "| outcome.accuracy |" in human


def test_a_prompt_variant_that_answers_like_production_is_not_promoted_unless_forced(project, hash_embedder):
    evaluate_variant(project, "production", hash_embedder)
    evaluate_variant(project, "candidate", hash_embedder)
    conclude = ["experiment", "conclude", "--winner", "candidate", "--loser", "production",
                "--learning", "same answers without a model", "--project", str(project)]
    refused = CliRunner().invoke(app, conclude)
    assert refused.exit_code == 1, refused.output
    said = " ".join(refused.output.split())
    assert "gave the same answer to every question (with no chat model configured" in said and "no winner" in said
    assert "support.answer: {production: 0.9.0" in (project / "prompts/labels.yaml").read_text()
    result = CliRunner().invoke(app, [*conclude, "--force"])
    assert result.exit_code == 0, result.output
    assert "prompts: support.answer production 0.9.0 -> 1.0.0" in result.output
    labels = (project / "prompts/labels.yaml").read_text()
    assert "support.answer: {production: 1.0.0, candidate: 1.0.0}" in labels
    assert labels.startswith("# Which version of each prompt a label serves.")
    assert (project / "prompts/support/answer.yaml").exists()  # archiving never deletes prompt files
    assert load_log(project)[0].promoted == ["prompts: support.answer production 0.9.0 -> 1.0.0"]


def test_comparing_a_variant_without_results_says_to_run_dvc_repro(project):
    result = CliRunner().invoke(app, ["experiment", "compare", "production", "candidate", "--project", str(project)])
    assert result.exit_code == 1 and "dvc repro" in result.output
    assert load_log(project) == []

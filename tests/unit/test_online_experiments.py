"""Online experiments: sticky assignment, the statistics against hand-computed values, the
sample-ratio check, live results over a real SQLite store, the guardrail stop, and conclude
refusing without significance."""

from __future__ import annotations

import math
import re
import shutil
import uuid

import pytest
from typer.testing import CliRunner

from supportgraph.agents.brief import load_brief
from supportgraph.cli import app
from supportgraph.errors import ConfigError
from supportgraph.evals.experiments import load_log
from supportgraph.experiments import stats
from supportgraph.experiments.assignment import BUCKETS, bucket, choose, ranges
from supportgraph.experiments.conclude import conclude_online
from supportgraph.experiments.definition import get_experiment, load_experiments, set_status
from supportgraph.experiments.live import check_guardrails, live_status
from supportgraph.experiments.serving import Arm, Cohorts
from supportgraph.store import FeedbackIn, Store, TurnRecord
from supportgraph.store.experiments import ExperimentAssignment, record_assignment
from tests.conftest import REPO

pytestmark = pytest.mark.unit

EXPERIMENT = """\
description: test
status: running
salt: s1
coverage: 1.0
variants: {production: 50, cautious: 50}
primary_metric: resolution
guardrails: [escalation]
min_sample: 40
guardrail_min_sample: 20
check_every: 10
"""


# --- assignment -------------------------------------------------------------------------------

def test_a_unit_always_lands_in_the_same_bucket_and_variant():
    ids = [uuid.uuid4().hex for _ in range(200)]
    first = [choose(bucket("salt", i), ["a", "b"], [50, 50], 0.5) for i in ids]
    assert first == [choose(bucket("salt", i), ["a", "b"], [50, 50], 0.5) for i in ids]
    assert bucket("salt", "x") == bucket("salt", "x") and 0 <= bucket("salt", "x") < BUCKETS
    assert [bucket("other", i) for i in ids] != [bucket("salt", i) for i in ids]  # the salt reshuffles


def test_raising_coverage_never_moves_an_assigned_unit():
    ids = [f"conv-{n}" for n in range(5000)]
    names, weights = ["production", "b", "c"], [50, 30, 20]
    before = {i: choose(bucket("s", i), names, weights, 0.1) for i in ids}
    after = {i: choose(bucket("s", i), names, weights, 0.6) for i in ids}
    assigned = [i for i in ids if before[i] is not None]
    assert 350 < len(assigned) < 650  # ~10% enter
    assert all(after[i] == before[i] for i in assigned)
    assert sum(v is not None for v in after.values()) > 2500  # ~60% now
    assert ranges([50, 50], 0.1) == [(0, 500), (5000, 5500)]


@pytest.mark.parametrize("weights", [[50, 50], [80, 20], [1, 1, 2]])
def test_weights_split_traffic_within_tolerance(weights):
    names = [f"v{n}" for n in range(len(weights))]
    n = 20_000
    counts = dict.fromkeys(names, 0)
    for k in range(n):
        counts[choose(bucket("balance", f"u{k}"), names, weights, 1.0)] += 1
    for name, weight in zip(names, weights):
        expected = n * weight / sum(weights)
        assert abs(counts[name] - expected) < 4 * math.sqrt(expected), counts  # within 4 sigma
    assert stats.sample_ratio_p(list(counts.values()), weights) > stats.SRM_ALPHA


# --- statistics, against hand-computed values -------------------------------------------------

def test_wilson_interval_matches_the_formula():
    x, n, z = 45, 100, 1.959963984540054
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    rate = stats.wilson(x, n)
    assert rate.rate == 0.45
    assert rate.low == pytest.approx(centre - half, abs=1e-9) and rate.high == pytest.approx(centre + half, abs=1e-9)
    assert stats.wilson(0, 0).rate is None


def test_two_proportion_z_test_matches_the_pooled_formula():
    a, b = stats.wilson(60, 100), stats.wilson(45, 100)
    pooled = 105 / 200
    z = (0.60 - 0.45) / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 100))
    assert stats.two_proportions(a, b) == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-9)
    assert stats.two_proportions(a, b, "larger") == pytest.approx(0.5 * math.erfc(z / math.sqrt(2)), rel=1e-9)
    assert stats.two_proportions(stats.wilson(5, 5), stats.wilson(3, 3)) is None  # no variance: undefined


def test_sample_ratio_mismatch_is_a_chi_square_on_the_planned_split():
    # (550-500)^2/500 * 2 = 10 with one degree of freedom: p = erfc(sqrt(10/2)).
    assert stats.sample_ratio_p([550, 450], [50, 50]) == pytest.approx(math.erfc(math.sqrt(5)), rel=1e-9)
    assert stats.sample_ratio_p([500, 500], [50, 50]) == pytest.approx(1.0)
    assert stats.sample_ratio_p([0, 0], [50, 50]) is None


def test_mann_whitney_on_fully_separated_samples():
    # 3 vs 3, no overlap: exactly 1 of the C(6,3)=20 orderings is as extreme each way.
    assert stats.rank_test([1, 2, 3], [4, 5, 6]) == pytest.approx(2 / 20)
    assert stats.rank_test([1, 2, 3], [4, 5, 6], "smaller") == pytest.approx(1 / 20)


# --- definitions ------------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(REPO / "agents", root / "agents")
    shutil.copytree(REPO / "prompts", root / "prompts")
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    (root / "experiments").mkdir()
    (root / "experiments" / "careful.yaml").write_text(EXPERIMENT)
    return root


def test_the_shipped_experiment_is_valid_and_names_declared_variants():
    (shipped,) = load_experiments(REPO).values()
    assert shipped.status == "draft" and shipped.coverage == 0.10 and "production" in shipped.variants
    from supportgraph.experiments.definition import check_variants

    variants = check_variants(REPO, shipped)
    assert not all(v.same_as_production() for v in variants.values())  # it differs with no model too


@pytest.mark.parametrize("variants, message", [
    ("{cautious: 50, other: 50}", "variants: Value error, variants must include `production`"),
    ("{production: 50, cautious: 0}", "every variant weight must be positive"),
    ("{production: 50}", "at least one other"),
])
def test_invalid_definitions_are_refused_naming_the_problem(project, variants, message):
    path = project / "experiments" / "careful.yaml"
    path.write_text(EXPERIMENT.replace("{production: 50, cautious: 50}", variants))
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_experiments(project)


def test_unknown_metric_missing_variant_and_two_running_are_refused(project):
    path = project / "experiments" / "careful.yaml"
    path.write_text(EXPERIMENT.replace("primary_metric: resolution", "primary_metric: happiness"))
    with pytest.raises(ConfigError, match="careful.yaml is not a valid experiment"):
        load_experiments(project)
    path.write_text(EXPERIMENT.replace("cautious: 50", "nope: 50"))
    from supportgraph.experiments.definition import check_variants

    with pytest.raises(ConfigError, match="nope"):
        check_variants(project, get_experiment(project, "careful"))
    path.write_text(EXPERIMENT)
    (project / "experiments" / "second.yaml").write_text(EXPERIMENT.replace("salt: s1", "salt: s2"))
    with pytest.raises(ConfigError, match="More than one experiment is running"):
        load_experiments(project)


# --- live results over a real store -----------------------------------------------------------

def add_conversation(store: Store, experiment: str, variant: str, outcome: str, thumb: str | None = None,
                     latency: float = 50.0) -> str:
    cid = uuid.uuid4().hex
    turn = store.record_turn(cid, TurnRecord(customer_message="hi", reply="r", outcome=outcome, latency_ms=latency))
    record_assignment(store, ExperimentAssignment(conversation_id=cid, experiment=experiment, variant=variant,
                                                  bucket=0, unit="conversation"))
    if thumb:
        store.save_feedback(FeedbackIn(turn_id=turn, thumb=thumb))
    return cid


def fill(store: Store, variant: str, resolved: int, escalated: int, answered: int) -> None:
    for outcome, count in (("resolved", resolved), ("escalated", escalated), ("answered", answered)):
        for _ in range(count):
            add_conversation(store, "careful", variant, outcome, thumb="down" if outcome == "escalated" else "up")


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'live.db'}")


def test_below_the_minimum_sample_the_verdict_is_not_enough_data(project, store):
    fill(store, "production", 5, 2, 3)
    fill(store, "cautious", 9, 0, 1)
    status = live_status(store, get_experiment(project, "careful"))
    assert status.verdict.startswith("not enough data yet: 10 of 40") and status.winner is None
    arm = {a.variant: a for a in status.arms}
    assert arm["production"].conversations == 10 and arm["production"].rates["resolution"].rate == 0.5
    assert arm["production"].rates["escalation"].rate == 0.2
    assert arm["cautious"].rates["thumbs_up"].rate == 1.0 and arm["production"].latency_p50 == 50.0


def test_a_significant_difference_names_the_winner(project, store):
    fill(store, "production", 15, 5, 30)
    fill(store, "cautious", 35, 5, 10)
    status = live_status(store, get_experiment(project, "careful"))
    (test,) = status.primary
    assert test.significant and test.better and test.p_value < 0.001
    assert status.winner == "cautious" and "significantly better on resolution" in status.verdict


def test_a_skewed_split_blocks_any_verdict(project, store):
    fill(store, "production", 15, 5, 30)
    fill(store, "cautious", 70, 10, 20)  # 100 vs 50 on a 50/50 plan
    status = live_status(store, get_experiment(project, "careful"))
    assert not status.srm_ok and status.srm_p < 0.001
    assert status.winner is None and status.verdict.startswith("sample ratio mismatch")


def test_a_variant_worse_on_a_guardrail_is_stopped_and_everyone_returns_to_production(project, store):
    fill(store, "production", 20, 2, 8)
    fill(store, "cautious", 10, 15, 5)
    experiment = get_experiment(project, "careful")
    status = check_guardrails(store, experiment)
    assert status.status == "stopped" and status.stop.by == "guardrail"
    assert "cautious worse on escalation" in status.stop.reason and "p=" in status.stop.reason
    assert status.stop.figures["conversations"] == {"production": 30, "cautious": 30}
    assert check_guardrails(store, experiment).stop.stopped_at == status.stop.stopped_at  # recorded once

    brief = load_brief(REPO / "agents/support/brief.yaml")
    production = Arm(prompt_label="production", retriever=object(), brief=brief)
    cohorts = Cohorts(project, production, embedder=None)
    assigned = add_conversation(store, "careful", "cautious", "answered")
    arm = cohorts.arm_for(store, assigned, "chat")
    assert (arm.variant, arm.served) == ("cautious", "production") and arm.brief is brief
    new = cohorts.arm_for(store, "brand-new", "chat")
    assert new.experiment is None and new.new is None  # nobody enters a stopped experiment


def test_a_running_experiment_assigns_new_conversations_only_and_serves_the_variants_brief(project, store):
    brief = load_brief(REPO / "agents/support/brief.yaml")
    cohorts = Cohorts(project, Arm(prompt_label="production", retriever=object(), brief=brief), embedder=None)
    old = add_conversation(store, "other", "production", "answered")
    store.record_turn("before", TurnRecord(customer_message="hi", reply="r", outcome="answered"))
    assert cohorts.arm_for(store, "before", "chat").experiment is None  # started before: stays out
    assert cohorts.arm_for(store, old, "chat").served == "production"
    arms = [cohorts.arm_for(store, f"t{n}", "chat") for n in range(40)]
    served = {a.served for a in arms}
    assert served == {"production", "cautious"}
    cautious = next(a for a in arms if a.served == "cautious")
    assert cautious.brief.escalation.min_confidence == 0.7 and brief.escalation.min_confidence == 0.5
    assert cohorts.arm_for(store, "t1", "eval").experiment is None  # offline evaluation is never assigned


def test_a_significant_but_small_latency_difference_is_no_reason_to_stop(project, store):
    path = project / "experiments" / "careful.yaml"
    path.write_text(EXPERIMENT.replace("guardrails: [escalation]", "guardrails: [latency]"))
    for n in range(40):
        add_conversation(store, "careful", "production", "answered", latency=100.0 + n * 0.01)
        add_conversation(store, "careful", "cautious", "answered", latency=105.0 + n * 0.01)  # 5% slower, always
    status = check_guardrails(store, get_experiment(project, "careful"))
    (latency,) = status.guardrails
    assert latency.significant and latency.better is False and latency.p_value < 1e-6
    assert status.stop is None  # within the 10% margin
    path.write_text(EXPERIMENT.replace("guardrails: [escalation]", "guardrails: [latency]\nguardrail_margin: 0.02"))
    assert "cautious worse on latency: 105 vs production 100" in check_guardrails(
        store, get_experiment(project, "careful")).stop.reason


# --- conclude ---------------------------------------------------------------------------------

def test_conclude_refuses_without_significance_and_says_why_unless_forced(project, store):
    fill(store, "production", 5, 2, 3)
    fill(store, "cautious", 6, 2, 2)
    with pytest.raises(ConfigError, match="Not concluding 'careful': not enough data yet"):
        conclude_online(project, store, "careful", "too early")
    with pytest.raises(ConfigError, match="--winner"):
        conclude_online(project, store, "careful", "forced", force=True)
    record = conclude_online(project, store, "careful", "decided by hand", winner="cautious", force=True)
    assert record.evidence.startswith("forced: not enough data yet") and record.experiment == "careful"
    assert record.promoted == ["brief.yaml: escalation.min_confidence 0.5 -> 0.7"]
    assert "min_confidence: 0.7" in (project / "agents/support/brief.yaml").read_text()
    assert "cautious" not in (project / "params.yaml").read_text().split("experiment:")[-1]
    assert get_experiment(project, "careful").status == "concluded"
    assert load_log(project)[-1].online["conversations"] == {"production": "10", "cautious": "10"}
    assert "| online | cautious | production |" in (project / "evals/EXPERIMENTS.md").read_text()


def test_conclude_promotes_the_significant_winner_from_the_cli(project, store, tmp_path):
    fill(store, "production", 15, 5, 30)
    fill(store, "cautious", 35, 5, 10)
    result = CliRunner().invoke(app, ["experiment", "status", "careful", "--project", str(project)],
                                env={"SUPPORTGRAPH_DATABASE_URL": store.url})
    assert result.exit_code == 0, result.output
    assert "cautious is significantly better on resolution" in result.output and "ok" in result.output
    assert "offline: golden set" in result.output and "hit@1" in result.output  # beside the live cohort
    result = CliRunner().invoke(app, ["experiment", "conclude", "careful", "--learning", "stricter wins",
                                      "--project", str(project)], env={"SUPPORTGRAPH_DATABASE_URL": store.url})
    assert result.exit_code == 0, result.output
    assert "evidence: cautious is significantly better" in result.output
    assert get_experiment(project, "careful").status == "concluded"


def test_start_and_stop_edit_the_file_and_record_the_stop(project, store):
    set_status(project, "careful", "draft")
    env = {"SUPPORTGRAPH_DATABASE_URL": store.url}
    result = CliRunner().invoke(app, ["experiment", "start", "careful", "--project", str(project)], env=env)
    assert result.exit_code == 0, result.output
    assert get_experiment(project, "careful").status == "running"
    result = CliRunner().invoke(app, ["experiment", "stop", "careful", "--reason", "pager", "--project",
                                      str(project)], env=env)
    assert result.exit_code == 0, result.output
    assert get_experiment(project, "careful").status == "stopped"
    assert live_status(store, get_experiment(project, "careful")).stop.reason == "pager"

"""The Experiments page shows each online experiment's live cohort from the store: figures per
variant, the verdict, and a guardrail stop; reviewers and admins start, stop and conclude it there."""

import os
import shutil
import uuid

import pytest

from supportgraph.evals.experiments import load_log
from supportgraph.experiments.definition import get_experiment, set_status
from supportgraph.store import FeedbackIn, Store, TurnRecord
from supportgraph.store.experiments import ExperimentAssignment, record_assignment, stop_of
from tests.conftest import REPO
from tests.ui.conftest import PASSWORD, app, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXPERIMENT = """\
description: Is a stricter handoff threshold safer?
status: running
salt: ui-1
coverage: 0.5
variants: {production: 50, cautious: 50}
guardrails: [escalation]
min_sample: 100
guardrail_min_sample: 20
"""


@pytest.fixture
def project(workspace, tmp_path, monkeypatch):
    root = tmp_path / "project"
    for folder in ("agents", "prompts", "evals"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    (root / "experiments").mkdir()
    (root / "experiments" / "careful.yaml").write_text(EXPERIMENT)
    monkeypatch.setenv("SUPPORTGRAPH_PROJECT_DIR", str(root))
    return root


def fill(store: Store, escalated: dict[str, int], n: int = 30) -> None:
    for variant, count in escalated.items():
        for k in range(n):
            cid = uuid.uuid4().hex
            turn = store.record_turn(cid, TurnRecord(customer_message="hi", reply="r", latency_ms=40.0,
                                                     outcome="escalated" if k < count else "resolved"))
            store.save_feedback(FeedbackIn(turn_id=turn, thumb="up"))
            record_assignment(store, ExperimentAssignment(conversation_id=cid, experiment="careful",
                                                          variant=variant, bucket=0, unit="conversation"))


def page(username: str):
    at = sign_in(app(), username, PASSWORD)
    return at.switch_page("views/experiments.py").run()


def shown(at) -> str:
    texts = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.warning, *at.info, *at.success,
                                            *at.error])
    return texts.replace("\\", "")  # the page escapes markdown in names and reasons


def test_the_live_cohort_beside_the_offline_results_with_a_guardrail_stop(project):
    fill(Store(os.environ["SUPPORTGRAPH_DATABASE_URL"]), {"production": 2, "cautious": 16})
    at = page("erin")
    assert not at.exception and not at.error
    texts = shown(at)
    assert "**careful** · stopped" in texts and "Stopped by guardrail: cautious worse on escalation" in texts
    assert "not enough data yet: 30 of 100" in texts
    live = at.dataframe[0].value
    assert live.loc["conversations", "production"] == "30" and live.loc["escalation", "cautious"].startswith("0.533")
    offline = at.dataframe[1].value  # beside it, each variant's golden-set figures (evals/results, dvc repro)
    assert float(offline.loc["hit@1", "production"]) > 0.5 and float(offline.loc["hit@1", "cautious"]) > 0.5
    assert offline.loc["questions", "production"] == offline.loc["questions", "cautious"] != "–"
    assert "Offline: variants on the golden set" in [s.value for s in at.subheader]
    # an editor reads, and is told who may act
    assert "needs the reviewer or admin role" in texts
    assert not [b for b in at.button if b.key and b.key.startswith("exp_")]


def test_a_reviewer_starts_and_stops_it_with_a_reason(project):
    set_status(project, "careful", "draft")
    store = Store(os.environ["SUPPORTGRAPH_DATABASE_URL"])
    at = page("rick")
    assert not at.exception and "**careful** · draft" in shown(at)
    at.button(key="exp_start_careful").click().run()
    assert not at.exception and not at.error
    assert get_experiment(project, "careful").status == "running"
    texts = shown(at)
    assert "careful is running: 50% of new conversations" in texts and "**careful** · running" in texts

    fill(store, {"production": 2, "cautious": 2}, n=5)
    at.text_input(key="exp_reason_careful").input("pager: escalations")
    at.button(key="exp_stop_careful").click().run()
    assert not at.exception and not at.error
    assert get_experiment(project, "careful").status == "stopped"
    stop = stop_of(store, "careful", "ui-1")
    assert (stop.by, stop.reason) == ("rick (Experiments page)", "pager: escalations")
    texts = shown(at)
    assert "careful stopped: every conversation is served production" in texts
    assert "**careful** · stopped" in texts and "Stopped by rick (Experiments page): pager: escalations" in texts
    assert "exp_stop_careful" not in [b.key for b in at.button]


def test_a_stop_without_a_reason_is_refused_on_the_page(project):
    at = page("ada")
    at.button(key="exp_stop_careful").click().run()
    assert not at.exception and "A stop needs its reason recorded." in shown(at)
    assert get_experiment(project, "careful").status == "running"
    assert stop_of(Store(os.environ["SUPPORTGRAPH_DATABASE_URL"]), "careful", "ui-1") is None


def test_conclude_refuses_without_significance_and_says_why_then_forced_promotes(project):
    fill(Store(os.environ["SUPPORTGRAPH_DATABASE_URL"]), {"production": 2, "cautious": 2}, n=5)
    brief = project / "agents/support/brief.yaml"
    before, logged = brief.read_text(), len(load_log(project))  # the copied evals/ holds past ones
    at = page("rick")
    at.text_area(key="exp_learning_careful").input("stricter is safer")
    at.button(key="exp_conclude_careful").click().run()
    assert not at.exception
    assert "Not concluding 'careful': not enough data yet: 5 of 100" in " ".join(e.value for e in at.error)
    assert get_experiment(project, "careful").status == "running" and brief.read_text() == before
    assert len(load_log(project)) == logged

    at.selectbox(key="exp_winner_careful").select("cautious")
    at.checkbox(key="exp_force_careful").check()
    at.button(key="exp_conclude_careful").click().run()
    assert not at.exception and not at.error
    assert get_experiment(project, "careful").status == "concluded"
    assert "min_confidence: 0.7" in brief.read_text()
    (record,) = load_log(project)[logged:]
    assert record.winner.name == "cautious" and record.learning == "stricter is safer"
    assert record.evidence.startswith("forced: not enough data yet")
    texts = shown(at)
    assert "careful concluded: cautious won (forced: not enough data yet" in texts
    assert "escalation.min_confidence 0.5 -> 0.7" in texts and "**careful** · concluded" in texts
    assert "exp_conclude_careful" not in [b.key for b in at.button]

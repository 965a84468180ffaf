"""The Experiments page shows each online experiment's live cohort from the store: figures per
variant, the verdict, and a guardrail stop."""

import os
import shutil
import uuid

import pytest

from supportgraph.store import FeedbackIn, Store, TurnRecord
from supportgraph.store.experiments import ExperimentAssignment, record_assignment
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


def test_the_live_cohort_beside_the_offline_results_with_a_guardrail_stop(workspace, tmp_path, monkeypatch):
    project = tmp_path / "project"
    for folder in ("agents", "prompts", "evals"):
        shutil.copytree(REPO / folder, project / folder)
    shutil.copy(REPO / "params.yaml", project / "params.yaml")
    (project / "experiments").mkdir()
    (project / "experiments" / "careful.yaml").write_text(EXPERIMENT)
    monkeypatch.setenv("SUPPORTGRAPH_PROJECT_DIR", str(project))
    store = Store(os.environ["SUPPORTGRAPH_DATABASE_URL"])
    for variant, escalated in (("production", 2), ("cautious", 16)):
        for n in range(30):
            cid = uuid.uuid4().hex
            turn = store.record_turn(cid, TurnRecord(customer_message="hi", reply="r", latency_ms=40.0,
                                                     outcome="escalated" if n < escalated else "resolved"))
            store.save_feedback(FeedbackIn(turn_id=turn, thumb="up"))
            record_assignment(store, ExperimentAssignment(conversation_id=cid, experiment="careful",
                                                          variant=variant, bucket=0, unit="conversation"))

    at = sign_in(app(), "erin", PASSWORD)
    at.switch_page("views/experiments.py").run()
    assert not at.exception and not at.error
    texts = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.warning, *at.info, *at.success])
    texts = texts.replace("\\", "")  # the page escapes markdown in names and reasons
    assert "**careful** · stopped" in texts and "Stopped by guardrail: cautious worse on escalation" in texts
    assert "not enough data yet: 30 of 100" in texts
    live = at.dataframe[0].value
    assert live.loc["conversations", "production"] == "30" and live.loc["escalation", "cautious"].startswith("0.533")
    assert "Offline: variants on the golden set" in [s.value for s in at.subheader]

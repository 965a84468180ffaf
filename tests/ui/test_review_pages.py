"""Review pages: a reviewer finds a flagged conversation, reads it beside what was retrieved, tags it
and promotes it into the golden set; the weekly review and the dashboard count it."""

import json

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from supportgraph.agents.brief import load_brief
from supportgraph.agents.handoff import HandoffDesk
from supportgraph.agents.service import SupportAgent
from supportgraph.config import Settings
from supportgraph.evals.datasets import load_dataset
from supportgraph.store import FeedbackIn, Store
from supportgraph.store.handoffs import latest_handoff
from supportgraph.store.staff import add_staff
from tests.conftest import EVALUATED_METRICS, REPO, write_evaluated_project
from tests.ui.conftest import PASSWORD, app, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def conversations(workspace, real_embedder):
    """Two customer conversations: one escalated, one answered and rated down."""
    agent = SupportAgent(Settings(), embedder=real_embedder)
    escalated = agent.ask("I want to talk to a lawyer about suing you", channel="ui")
    answered = agent.ask("How do I reset my password?", channel="ui")
    agent.store.save_feedback(FeedbackIn(turn_id=answered.turn_id, thumb="down", comment="did not help"))
    agent.close()
    return escalated, answered


def _texts(at) -> str:
    return " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.warning, *at.info, *at.success])


def _opens(at, page: str) -> bool:
    try:
        at.switch_page(page).run()
    except ValueError:
        return False  # not in this user's navigation
    return not any("This page is for staff" in e.value for e in at.error)


def test_review_pages_are_for_reviewers_only(conversations):
    assert not _opens(app(), "views/transcripts.py")
    assert not _opens(app(), "views/dashboard.py")
    editor = sign_in(app(), "erin", PASSWORD)
    assert not _opens(editor, "views/transcripts.py") and not _opens(editor, "views/weekly.py")
    assert _opens(editor, "views/dashboard.py")
    assert _opens(sign_in(app(), "ada", PASSWORD), "views/transcripts.py")


def test_reviewer_tags_a_flagged_conversation_and_promotes_it(conversations, workspace):
    escalated, answered = conversations
    at = sign_in(app(), "rick", PASSWORD)
    at.switch_page("views/transcripts.py").run()
    assert not at.exception and not at.error
    assert len(at.selectbox(key="tr_conversation").options) == 2  # both conversations of this week

    at.selectbox(key="tr_flag").select("negative_feedback").run()
    conversation = at.selectbox(key="tr_conversation")
    assert len(conversation.options) == 1 and conversation.value == answered.thread_id
    page = _texts(at)
    assert "negative_feedback" in page and "did not help" in page
    assert any("·" in e.label for e in at.expander)  # retrieved articles with their scores, beside the trace

    at.selectbox(key="tag_choice").select("retrieval_miss")
    at.text_area(key="tag_note").input("Should have found the password reset article")
    at.button(key="tag_submit").click().run()
    assert "Tagged with 'retrieval_miss'" in _texts(at)
    assert "retrieval_miss" in _texts(at) and "rick" in _texts(at)

    turn_label = next(o for o in at.selectbox(key="promote_turn").options if str(answered.turn_id) in o)
    at.selectbox(key="promote_turn").select(turn_label)
    at.text_area(key="promote_reference").input("Use Forgot password on the sign-in page.")
    at.multiselect(key="promote_sources").select(answered.citations[0].id)
    at.button(key="promote_submit").click().run()
    assert f"review-{answered.turn_id}" in _texts(at)
    golden = Settings().golden_path
    case = next(c for c in load_dataset(golden) if c.id == f"review-{answered.turn_id}")
    assert case.question == "How do I reset my password?" and case.sources == [answered.citations[0].id]


def test_weekly_review_and_dashboard_count_the_conversations(conversations):
    at = sign_in(app(), "rick", PASSWORD)
    at.switch_page("views/weekly.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Conversations"] == "2" and metrics["Flagged or rated down"] == "2"
    at.switch_page("views/dashboard.py").run()
    assert not at.exception
    page = _texts(at)
    for track in ("Process", "Experimentation", "Context layer", "Versioning", "Feedback"):
        assert f"**{track}**" in page
    # The rating above flows, but nobody has reviewed a transcript yet: that is the empty box's reason.
    assert ":material/check_box_outline_blank: **Feedback**: no transcript review in the last 7 days" in page


def test_experiments_page_compares_two_variants_side_by_side(workspace, tmp_path, monkeypatch):
    """A project with production and one evaluated variant that escalates a question production answers."""
    project = write_evaluated_project(tmp_path / "project")  # a log with production kept over dense-only
    params = yaml.safe_load((REPO / "params.yaml").read_text())  # whatever variants the repository declares
    params["experiment"] = {"variants": {"cautious": {"retrieval": {"mode": "dense"}}}}
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    rows = [{"id": f"q{n}", "question": f"Question {n}?", "reference_answer": f"Reference {n}.",
             "sources": [f"faq-{n}"], "answerable": True, "outcome": "answered", "answer": f"1. Do step {n}.",
             "cited": [f"faq-{n}"], "retrieved": [f"faq-{n}"], "latency_ms": 50.0, "scores": {}} for n in range(3)]
    metrics = EVALUATED_METRICS
    cautious_rows = [rows[0] | {"outcome": "escalated", "answer": "A person will follow up.", "cited": []}, *rows[1:]]
    cautious_metrics = json.loads(json.dumps(metrics))
    cautious_metrics["outcome"]["accuracy"] = round(metrics["outcome"]["accuracy"] - 0.01, 4)
    for folder, variant_rows, variant_metrics in (
            (project / "evals" / "results", rows, metrics),
            (project / "evals" / "results" / "variants" / "cautious", cautious_rows, cautious_metrics)):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in variant_rows))
        (folder / "metrics.json").write_text(json.dumps(variant_metrics))
    monkeypatch.setenv("SUPPORTGRAPH_PROJECT_DIR", str(project))
    monkeypatch.setenv("SUPPORTGRAPH_BRIEF_PATH", str(REPO / "agents" / "support" / "brief.yaml"))

    at = sign_in(app(), "erin", PASSWORD)  # any staff role
    at.switch_page("views/experiments.py").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="exp_a").value == "production" and at.selectbox(key="exp_b").value == "cautious"
    table = at.dataframe[0].value
    assert table.loc["outcome.accuracy", "better"] == "production"
    assert any(e.label.startswith(f"{rows[0]['id']}:") and "cautious: escalated" in e.label for e in at.expander)
    assert "A person will follow up." in _texts(at)
    assert "production over dense-only" in _texts(at)  # the concluded experiment in the log


def test_a_backlog_link_opens_its_conversation_after_sign_in(conversations):
    escalated, _ = conversations
    at = AppTest.from_file(str(REPO / "ui" / "app.py"), default_timeout=120)
    at.query_params["conversation"] = escalated.thread_id  # /staff?conversation=ID, as the backlog links
    at.run()
    at.switch_page("views/staff.py").run()
    assert not at.selectbox  # signed out: only the sign-in form, no transcript
    at.text_input(key="staff_username").input("rick")
    at.text_input(key="staff_password").input(PASSWORD)
    at.button(key="staff_sign_in").click().run()
    assert not at.exception
    assert at.selectbox(key="tr_conversation").value == escalated.thread_id
    assert "Legal matters are handled by a person" in _texts(at)


def test_dashboard_charts_are_readable_with_one_day_of_data(conversations):
    """Latency bins in their numeric order (not <1000, <2000, <250), days as whole bars, flag labels uncut."""
    at = sign_in(app(), "rick", PASSWORD)
    at.switch_page("views/dashboard.py").run()
    assert not at.exception
    daily, _outcomes, latency, flags = [json.loads(chart.proto.spec)["encoding"] for chart in at.get("vega_lite_chart")]
    assert daily["x"]["field"] == "day" and daily["x"]["type"] != "temporal"  # one day is a bar, not a hairline
    assert latency["x"]["sort"] is None  # the bins' own order
    assert flags["y"]["axis"]["labelLimit"] == 0  # labels whole


def test_transcripts_show_each_turns_steps_latencies_and_why_it_answered(conversations):
    """The trace reads as a step timeline with the confidence explained, not only as JSON."""
    escalated, answered = conversations
    stored = Store(Settings().database_url).conversation(answered.thread_id).turns[-1]
    at = sign_in(app(), "rick", PASSWORD)
    at.switch_page("views/transcripts.py").run()
    at.selectbox(key="tr_conversation").select(answered.thread_id).run()
    assert not at.exception and not at.error
    steps = at.dataframe[0].value
    assert list(steps["step"]) == [n["node"] for n in stored.trace["nodes"]] == [
        "guard", "summarize", "retrieve", "answer", "check", "confirm", "output_guard"]
    assert list(steps["latency (ms)"]) == [n["ms"] for n in stored.trace["nodes"]]
    assert set(steps["model call"]) == {"-"}  # the deterministic twins answered: no model call on any step
    threshold = load_brief(Settings().brief_path).escalation.min_confidence
    why = " ".join(i.value for i in at.info)
    assert f"answered: confidence {answered.confidence:.2f} ≥ the answer threshold {threshold:.2f}." in why
    assert "margin over the second article" in _texts(at) and "calibrated probability" in _texts(at)
    assert any(e.label == "Raw trace (JSON)" for e in at.expander)  # still there for engineers
    assert any(e.label.startswith("1. ") and "cited" in e.label for e in at.expander)  # retrieved, ranked

    at.selectbox(key="tr_conversation").select(escalated.thread_id).run()
    why = " ".join(i.value for i in at.info)
    assert "escalated: Legal matters are handled by a person (decided before retrieval" in why
    assert "escalated" in at.dataframe[0].value.set_index("step").loc["escalate", "flags"]


def test_dashboard_charts_time_to_first_human_reply_once_a_person_replied(conversations):
    escalated, _ = conversations
    store = Store(Settings().database_url)
    at = sign_in(app(), "rick", PASSWORD)
    at.switch_page("views/dashboard.py").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Handoffs still waiting"] == "1" and metrics["Time to first human reply (median)"] == "-"
    assert "No handoff in this window has had a human reply yet." in _texts(at)

    add_staff(store, "alex", PASSWORD, "agent")
    desk = HandoffDesk(store, load_brief(Settings().brief_path))
    handoff = latest_handoff(store, escalated.thread_id)
    desk.claim(handoff.id, "alex")
    desk.reply(handoff.id, "alex", "Hi, I'm passing this to our legal team today.")
    at.switch_page("views/dashboard.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Handoffs still waiting"] == "0"
    assert metrics["Time to first human reply (median)"].endswith(" s")  # seconds ago, in seconds
    assert metrics["Time to first human reply (p90)"] != "-"
    chart = next(spec for spec in (json.loads(c.proto.spec) for c in at.get("vega_lite_chart"))
                 if str(spec["encoding"].get("y", {}).get("title")).startswith("time to first reply"))
    encoding = chart["encoding"]
    assert encoding["x"]["field"] == "day" and encoding["x"]["type"] != "temporal"  # one day is whole bars
    assert encoding["x"]["axis"]["labelLimit"] == 0 and encoding["y"]["title"] == "time to first reply (s)"
    assert encoding["xOffset"]["field"] == "measure"  # median and p90 side by side

"""Staff page (any role): the live cohort of each online experiment (results per variant,
significance, the sample-ratio check, a guardrail stop) beside the offline comparison of two
evaluated variants, the questions they answered differently, and what past experiments taught.
Reviewers and admins also start, stop and conclude an online experiment here (experiments/control.py
decides; the page only asks and reports)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from support_ui import current_settings, label, markdown, shielded, show_error, staff_role

from supportgraph.errors import SupportGraphError
from supportgraph.evals.experiments import compare, load_log
from supportgraph.evals.variants import PRODUCTION, is_evaluated, load_variants
from supportgraph.store.staff import EXPERIMENT_ROLES, can_open

if not can_open(staff_role(), "staff"):
    st.error("This page is for staff. Sign in from the sidebar.")
    st.stop()

project = current_settings().project_dir
st.set_page_config(layout="wide")  # two answers side by side
st.title("Experiments")


def evaluated() -> list[str]:
    names = [PRODUCTION, *load_variants(project)]
    return [n for n in names if is_evaluated(project, n)]


def side_by_side(comparison, limit: int) -> None:
    a, b = comparison.a.variant.name, comparison.b.variant.name
    ids = comparison.differing()
    st.subheader(f"Side by side: {len(ids)} questions answered differently")
    for case_id in ids[:limit]:
        x, y = comparison.a.rows[case_id], comparison.b.rows[case_id]
        with st.expander(f"{label(case_id)}: {label(x['question'])}  ·  {a}: {x['outcome']} / {b}: {y['outcome']}"):
            st.caption(f"Reference: {label(x['reference_answer'] or '(none)')} · sources: "
                       f"{label(', '.join(x['sources'])) or 'none (should hand over)'}")
            left, right = st.columns(2)
            for column, name, row in ((left, a, x), (right, b, y)):
                with column:
                    st.markdown(f"**{name}** · {row['outcome']} · cited {label(', '.join(row['cited'])) or '-'}")
                    markdown(row["answer"])
    if len(ids) > limit:
        st.caption(f"{len(ids) - limit} more in `supportgraph experiment compare {a} {b}`.")


def act(action, said) -> None:
    """Run a start/stop/conclude; on success keep what ``said`` makes of its result for the next run and
    rerun, so the figures above show the new state; a refusal is shown here, with its fix."""
    try:
        result = action()
    except SupportGraphError as error:
        show_error(error)
        return
    st.session_state.exp_notice = said(result)
    st.rerun()


def controls(store, experiment) -> None:
    """Start a draft; stop a running one (with the reason); conclude one that has run."""
    from supportgraph.experiments.control import conclude_experiment, start_experiment, stop_experiment

    name, committed = experiment.name, f"Commit experiments/{experiment.name}.yaml."
    if experiment.status == "draft" and st.button("Start", key=f"exp_start_{name}", type="primary"):
        act(lambda: start_experiment(project, store, name),
            lambda started: f"{name} is running: {started.coverage:.0%} of new conversations. {committed}")
    if experiment.status == "running":
        reason = st.text_input("Reason for stopping", key=f"exp_reason_{name}", placeholder="why, for the record")
        if st.button("Stop", key=f"exp_stop_{name}"):
            by = f"{(st.session_state.get('staff') or {}).get('username', 'staff')} (Experiments page)"
            act(lambda: stop_experiment(project, store, name, reason, by=by),
                lambda _: f"{name} stopped: every conversation is served production. {committed}")
    if experiment.status in ("running", "stopped"):
        with st.expander("Conclude: promote the winner, archive the loser, record the learning"):
            learning = st.text_area("Learning", key=f"exp_learning_{name}", placeholder="what this showed")
            winner = st.selectbox("Winner", [None, *experiment.variants], key=f"exp_winner_{name}",
                                  format_func=lambda v: "the significant one" if v is None else label(v))
            force = st.checkbox("Force: decide without a significant result (logged as forced)",
                                key=f"exp_force_{name}")
            if st.button("Conclude", key=f"exp_conclude_{name}"):
                act(lambda: conclude_experiment(project, store, name, learning, winner, force), concluded)


def concluded(record) -> str:
    promoted = "; ".join(record.promoted) or "nothing (the winner already served)"
    return (f"{record.experiment} concluded: {record.winner.name} won ({record.evidence}); promoted: {promoted}; "
            f"{record.loser.name} archived; logged in evals/EXPERIMENTS.md. Restart the server and this app for "
            "production to serve it, run `dvc repro`, review and commit.")


def live_cohorts() -> None:
    """Every online experiment (status here also runs the guardrail check), with its controls for
    reviewers and admins."""
    from supportgraph.experiments.conclude import offline_figures, online_figures
    from supportgraph.experiments.definition import load_experiments
    from supportgraph.experiments.live import check_guardrails
    from supportgraph.store import Store

    st.subheader("Live experiments")
    if notice := st.session_state.pop("exp_notice", None):
        st.success(label(notice))
    experiments = list(load_experiments(project).values())
    if not experiments:
        st.caption("No online experiment yet. Write experiments/NAME.yaml (README.md, Online experiments).")
        return
    may_control = can_open(staff_role(), EXPERIMENT_ROLES)
    if not may_control:
        st.caption("Starting, stopping and concluding an experiment needs the reviewer or admin role.")
    store = Store(current_settings().database_url)
    try:
        for experiment in experiments:
            status = check_guardrails(store, experiment)
            st.markdown(f"**{label(experiment.name)}** · {status.status} · coverage {experiment.coverage:.0%} · "
                        f"primary metric {experiment.primary_metric}  \n{label(experiment.description)}")
            if experiment.status != "draft":
                live, offline = st.columns(2)
                live.caption("Live cohort")
                live.dataframe(pd.DataFrame(online_figures(status)).T, width="stretch")
                offline.caption("Offline: golden set (`dvc repro`)")
                offline.dataframe(pd.DataFrame(offline_figures(project, list(experiment.variants))).T, width="stretch")
                srm = "–" if status.srm_p is None else f"{status.srm_p:.3g}"
                st.caption(f"Sample ratio: chi-square p={srm} ({'ok' if status.srm_ok else 'MISMATCH: no verdict'}).")
                if status.stop:
                    st.warning(f"Stopped by {label(status.stop.by)}: {label(status.stop.reason)}")
                (st.success if status.winner else st.info)(f"Verdict: {label(status.verdict)}")
            if may_control:
                controls(store, experiment)
    finally:
        store.engine.dispose()


with shielded("the Experiments page"):
    live_cohorts()

st.subheader("Offline: variants on the golden set")
try:
    names = evaluated()
except SupportGraphError as error:
    show_error(error)
    st.stop()
if len(names) < 2:
    st.info(f"Evaluated so far: {', '.join(names) or 'nothing'}. Declare a variant under `experiment.variants` in "
            "params.yaml (a prompt label and/or retrieval overrides) and run `dvc repro` to evaluate it.")
else:
    left, right = st.columns(2)
    a = left.selectbox("Variant A", names, index=0, key="exp_a")
    b = right.selectbox("Variant B", [n for n in names if n != a], key="exp_b")
    try:
        comparison = compare(project, a, b)
    except SupportGraphError as error:
        show_error(error)
        st.stop()
    st.caption(f"{a}: {comparison.a.variant.describe()} · {b}: {comparison.b.variant.describe()} · "
               f"{len(comparison.a.rows)} questions")
    table = pd.DataFrame(comparison.table(), columns=["metric", a, b, "better"]).set_index("metric")
    st.dataframe(table, width="stretch")
    side_by_side(comparison, limit=st.number_input("Questions shown", 5, 200, 20, step=5, key="exp_limit"))
    st.caption("Decide with `supportgraph experiment conclude --winner NAME --loser NAME --learning \"...\"`: "
               "it promotes the winner, archives the loser and records the learning here.")

st.subheader("Concluded experiments")
log = load_log(project)
if not log:
    st.caption("None yet.")
for record in reversed(log):
    st.markdown(f"**{record.date:%Y-%m-%d}: {record.winner.name} over {record.loser.name}** "
                f"({record.questions} questions, at `{record.commit or 'uncommitted'}`)  \n"
                f"Learning: {record.learning}  \n"
                f"Promoted: {'; '.join(record.promoted) or 'nothing (the winner already served)'}")

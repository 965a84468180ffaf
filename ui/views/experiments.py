"""Staff page (any role): the live cohort of each online experiment (results per variant,
significance, the sample-ratio check, a guardrail stop) beside the offline comparison of two
evaluated variants, the questions they answered differently, and what past experiments taught."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from support_ui import current_settings, label, markdown, show_error, staff_role

from supportgraph.errors import SupportGraphError
from supportgraph.evals.experiments import compare, load_log
from supportgraph.evals.variants import PRODUCTION, is_evaluated, load_variants
from supportgraph.store.staff import can_open

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


def live_cohorts() -> None:
    """Every online experiment that has served traffic (status here also runs the guardrail check)."""
    from supportgraph.experiments.conclude import online_figures
    from supportgraph.experiments.definition import load_experiments
    from supportgraph.experiments.live import check_guardrails
    from supportgraph.store import Store

    st.subheader("Live experiments")
    experiments = [e for e in load_experiments(project).values() if e.status != "draft"]
    if not experiments:
        st.caption("No online experiment has run yet. Write experiments/NAME.yaml and run "
                   "`supportgraph experiment start NAME`.")
        return
    store = Store(current_settings().database_url)
    for experiment in experiments:
        status = check_guardrails(store, experiment)
        st.markdown(f"**{label(experiment.name)}** · {status.status} · coverage {experiment.coverage:.0%} · "
                    f"primary metric {experiment.primary_metric}  \n{label(experiment.description)}")
        figures = online_figures(status)
        st.dataframe(pd.DataFrame(figures).T, width="stretch")
        srm = "–" if status.srm_p is None else f"{status.srm_p:.3g}"
        st.caption(f"Sample ratio: chi-square p={srm} ({'ok' if status.srm_ok else 'MISMATCH: no verdict'}).")
        if status.stop:
            st.warning(f"Stopped by {status.stop.by}: {label(status.stop.reason)}")
        (st.success if status.winner else st.info)(f"Verdict: {label(status.verdict)}")
    store.engine.dispose()


try:
    live_cohorts()
except SupportGraphError as error:
    show_error(error)

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

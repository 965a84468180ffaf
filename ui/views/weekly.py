"""Staff page (reviewers): the weekly transcript review, by tag and flag against the previous week."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st
from support_ui import get_agent, label, staff_role

from supportgraph.review.weekly import weekly_review
from supportgraph.store.staff import can_open

if not can_open(staff_role(), "reviewer"):
    st.error("This page is for staff reviewers. Sign in from the sidebar.")
    st.stop()

agent = get_agent()
st.set_page_config(layout="wide")
st.title("Weekly review")
day = st.date_input("Week of", value=dt.datetime.now(dt.UTC).date(), key="week_day")
review = weekly_review(agent.store, agent.brief, day)
st.caption(f"Week starting Monday {review.week_start}, compared with the week before.")
total, flagged, reviewed = st.columns(3)
total.metric("Conversations", review.conversations)
flagged.metric("Flagged or rated down", len(review.needs_review))
reviewed.metric("Reviewed", f"{review.reviewed} ({review.reviewed_share:.0%})")


def trend_table(trends, what: str) -> None:
    if not trends:
        st.caption(f"No {what} this week or last.")
        return
    frame = pd.DataFrame([{what: t.name, "this week": t.this_week, "previous week": t.previous_week,
                           "change": t.change} for t in trends]).set_index(what)
    st.bar_chart(frame[["this week", "previous week"]], stack=False, horizontal=True)
    st.dataframe(frame, width="stretch")


tags_col, flags_col = st.columns(2)
with tags_col:
    st.subheader("By tag")
    trend_table(review.tags, "tag")
with flags_col:
    st.subheader("By flag")
    trend_table(review.flags, "flag")

st.subheader("To review")
if not review.needs_review:
    st.info("Nothing flagged or rated down this week.")
for view in review.needs_review:
    done = f":material/task_alt: {view.reviewed_by}" if view.reviewed_by else ":material/pending: not reviewed"
    tags = ", ".join(sorted({t.tag for t in view.tags})) or "no tags"
    link, details = st.columns([2, 3])
    link.page_link("views/transcripts.py", label=label(view.summary[:80]) or "(no summary)",
                   query_params={"conversation": view.id},
                   icon=":material/forum:")  # in-app navigation keeps the sign-in
    details.markdown(f"{', '.join(view.flags)} · {label(tags)} · {done}")

"""Staff page (any role): the stand-up dashboard. The implementation checklist's five tracks,
computed from the project's state, and the charts people would rather look at than read."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st
from support_ui import get_agent, staff_role

from supportgraph.checklist import checklist
from supportgraph.review.stats import dashboard_stats
from supportgraph.store.staff import can_open

if not can_open(staff_role(), "staff"):
    st.error("This page is for staff. Sign in from the sidebar.")
    st.stop()

DONE, EMPTY = ":green[:material/check_box:]", ":material/check_box_outline_blank:"
agent = get_agent()
st.set_page_config(layout="wide")
st.title("Stand-up dashboard")
st.subheader("Implementation checklist")
for track in checklist(agent.settings, agent.store):
    st.markdown(f"{DONE if track.ok else EMPTY} **{track.name}**: {track.reason}")
st.caption("If a box is empty, that's your next sprint.")

days = st.segmented_control("Window", [7, 30, 90], default=30, format_func=lambda d: f"{d} days", key="dash_days")
since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days or 30)
stats = dashboard_stats(agent.store, agent.brief, since)
if not stats.days:
    st.info("No conversations in this window yet.")
    st.stop()

rate, satisfied, volume = st.columns(3)
volume.metric("Turns", stats.turns)
rate.metric("Feedback rate", f"{stats.feedback_rate:.0%}", help="Share of turns the customer rated.")
satisfied.metric("Satisfaction", "-" if stats.satisfaction is None else f"{stats.satisfaction:.0%}",
                 help="Share of rated turns rated positively (thumb up or 4-5 stars).")
# Days as labels (not a time axis): one day of data is one wide bar, not a hairline.
daily = pd.DataFrame([{"day": f"{d.day:%b %d}", "feedback rate": d.feedback_rate, "satisfaction": d.satisfaction,
                       "mean stars": d.mean_stars, "turns": d.turns} for d in stats.days]).set_index("day")
left, right = st.columns(2)
with left:
    st.markdown("**Feedback rate and satisfaction**")
    st.bar_chart(daily[["feedback rate", "satisfaction"]], stack=False)  # bars stay visible with a single day
with right:
    st.markdown("**Outcomes**")
    st.bar_chart(pd.Series(stats.outcomes, name="turns"), horizontal=True)
left, right = st.columns(2)
with left:
    st.markdown("**Latency per turn**")
    st.bar_chart(pd.Series(stats.latency_bins, name="turns"), sort=False)  # the bins' own order: <250 ... >=8000
with right:
    st.markdown("**Flags and tags (conversations)**")
    counts = pd.DataFrame([{"what": f"flag: {k}", "conversations": v} for k, v in stats.flags.items()]
                          + [{"what": f"tag: {k}", "conversations": v} for k, v in stats.tags.items()])
    if counts.empty:
        st.caption("No flags or tags in this window.")
    else:  # Altair, for whole labels: st.bar_chart cuts long ones ("flag: negative_feedb...")
        st.altair_chart(alt.Chart(counts).mark_bar().encode(
            x=alt.X("conversations:Q", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("what:N", sort="-x", title=None, axis=alt.Axis(labelLimit=0))), use_container_width=True)

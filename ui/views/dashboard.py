"""Staff page (any role): the stand-up dashboard. The implementation checklist's five tracks,
computed from the project's state, and the charts people would rather look at than read."""

from __future__ import annotations

import datetime as dt

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
daily = pd.DataFrame([{"day": d.day, "feedback rate": d.feedback_rate, "satisfaction": d.satisfaction,
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
    st.bar_chart(pd.Series(stats.latency_bins, name="turns"))
with right:
    st.markdown("**Flags and tags (conversations)**")
    st.bar_chart(pd.Series({**{f"flag: {k}": v for k, v in stats.flags.items()},
                            **{f"tag: {k}": v for k, v in stats.tags.items()}}, name="conversations"),
                 horizontal=True)

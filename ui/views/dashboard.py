"""Staff page (any role): the stand-up dashboard. The implementation checklist's five tracks,
computed from the project's state, and the charts people would rather look at than read
(feedback, outcomes, latency, flags and tags, time to the first human reply on handoffs)."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st
from support_ui import get_agent, staff_role

from supportgraph.checklist import checklist
from supportgraph.review.stats import dashboard_stats, duration, duration_unit, reply_times
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

st.subheader("Handoffs to people")
replies = reply_times(agent.store, since)
median, slowest, waiting = st.columns(3)
median.metric("Time to first human reply (median)", "-" if replies.median_s is None else duration(replies.median_s),
              help="From the handoff being queued to a person's first reply, over the handoffs of this window.")
slowest.metric("Time to first human reply (p90)", "-" if replies.p90_s is None else duration(replies.p90_s),
               help="Nine in ten handoffs got their first reply within this time.")
waiting.metric("Handoffs still waiting", replies.waiting,
               help="Queued or claimed, and nobody has replied yet (any age)."
               + (f" The oldest has waited {duration(replies.oldest_waiting_s)}." if replies.oldest_waiting_s else ""))
if replies.days:
    unit, size = duration_unit(max(d.p90_s for d in replies.days))
    times = pd.DataFrame([{"day": f"{d.day:%b %d}", "measure": measure, "time": round(value / size, 2),
                           "handoffs": d.replied}
                          for d in replies.days for measure, value in (("median", d.median_s), ("p90", d.p90_s))])
    st.markdown("**Time to first human reply, by the day the handoff was queued**")
    # Days as labels and the two measures side by side: one day of data is two whole bars.
    st.altair_chart(alt.Chart(times).mark_bar().encode(
        x=alt.X("day:N", sort=None, title=None, axis=alt.Axis(labelAngle=0, labelLimit=0)),
        xOffset=alt.XOffset("measure:N", sort=["median", "p90"]),
        y=alt.Y("time:Q", title=f"time to first reply ({unit})"),
        color=alt.Color("measure:N", title=None, sort=["median", "p90"]),
        tooltip=["day", "measure", "time", "handoffs"]), width="stretch")
else:
    st.caption("No handoff in this window has had a human reply yet.")

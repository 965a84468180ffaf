"""Staff page (reviewers): filter conversations, read each turn's step timeline (and why it answered,
asked or escalated) beside what was retrieved, tag what went wrong, and promote a failure into the golden set."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st
from support_ui import allowed_hosts, get_agent, markdown, show_error, staff_role
from support_ui import label as safe_label

from supportgraph.errors import SupportGraphError
from supportgraph.evals.datasets import load_dataset
from supportgraph.review.flags import REVIEW_FLAGS
from supportgraph.review.golden import case_id_for, promote_to_golden
from supportgraph.review.timeline import Timeline, timeline
from supportgraph.review.transcripts import (
    ConversationView,
    TranscriptFilter,
    TurnView,
    get_conversation,
    list_conversations,
    mark_reviewed,
    tag_conversation,
)
from supportgraph.security.markup import safe_markdown
from supportgraph.store.staff import can_open

if not can_open(staff_role(), "reviewer"):  # the navigation hides this page too; this is the second lock
    st.error("This page is for staff reviewers. Sign in from the sidebar.")
    st.stop()

agent = get_agent()
store, brief, settings = agent.store, agent.brief, agent.settings
reviewer = st.session_state["staff"]["username"]
GOLDEN = settings.golden_path
ANY = "any"


def filters_from_sidebar() -> TranscriptFilter:
    today = dt.datetime.now(dt.UTC).date()
    with st.sidebar:
        st.subheader("Filters")
        dates = st.date_input("Dates", value=(today - dt.timedelta(days=7), today), key="tr_dates")
        start, end = (tuple(dates) + tuple(dates))[:2] if isinstance(dates, tuple) else (dates, dates)
        outcome = st.selectbox("Outcome", [ANY, "answered", "clarify", "escalated", "resolved", "refused", "waiting",
                                           "human"],
                               key="tr_outcome")
        flag = st.selectbox("Flag", [ANY, *REVIEW_FLAGS], key="tr_flag")
        rating = st.selectbox("Rating", [ANY, "negative", "positive", "neutral", "unrated"], key="tr_rating")
        tag = st.selectbox("Tag", [ANY, *(t.id for t in brief.review.tags)], key="tr_tag")
        prompt_version = st.text_input("Prompt version", placeholder="answer@1.1.0 or twins", key="tr_prompt")
        unreviewed = st.checkbox("Not reviewed yet", key="tr_unreviewed")
    return TranscriptFilter(
        since=dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC),
        until=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
        outcome=None if outcome == ANY else outcome, flag=None if flag == ANY else flag,
        rating=None if rating == ANY else rating, tag=None if tag == ANY else tag,
        prompt_version=prompt_version.strip() or None, unreviewed=unreviewed)


def label(view: ConversationView) -> str:
    flags = f" · {', '.join(view.flags)}" if view.flags else ""
    return f"{view.created_at:%m-%d %H:%M} · {view.summary[:70]}{flags}"  # a selectbox option: plain text


def title_of(article_id: str) -> str | None:
    article = agent.retriever.article(article_id)
    return article.title if article else None


def show_timeline(readable: Timeline) -> None:
    """The turn's steps in order (like a Langfuse trace), with the confidence explained above them."""
    confidence = readable.confidence
    hosts = allowed_hosts()  # the explanation quotes routing's reason and the brief's topic reasons
    st.info(safe_markdown(confidence.explanation, hosts), icon=":material/psychology:")
    for detail in confidence.details:
        st.caption(safe_markdown(detail, hosts))
    if not readable.steps:  # a person's reply, a waiting message, or a turn stored before steps were traced
        if confidence.verdict not in ("human", "waiting"):
            st.caption("No graph steps on this turn's trace.")
        return
    rows = pd.DataFrame([{
        "#": step.number, "step": step.node, "what it does": step.label, "starts at (ms)": step.start_ms,
        "latency (ms)": step.ms,
        "model call": "; ".join(call.describe() for call in step.model_calls) or "-",
        "fell back": ", ".join(call.status for call in step.model_calls if call.fell_back) or "",
        "flags": ", ".join(step.flags)} for step in readable.steps])
    timed = [s.ms for s in readable.steps if s.ms is not None]
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        "latency (ms)": st.column_config.ProgressColumn(format="%.0f ms", min_value=0,
                                                         max_value=max([*timed, 1.0])),
        "starts at (ms)": st.column_config.NumberColumn(format="%.0f")})
    if timed:  # a waterfall: where each step sat in the turn
        bars = pd.DataFrame([{"step": f"{s.number}. {s.node}", "start": s.start_ms, "end": s.start_ms + s.ms,
                              "ms": s.ms} for s in readable.steps if s.ms is not None])
        st.altair_chart(alt.Chart(bars).mark_bar().encode(
            x=alt.X("start:Q", title="ms since the turn's graph started"), x2="end:Q",
            y=alt.Y("step:N", sort=None, title=None, axis=alt.Axis(labelLimit=0)),
            tooltip=["step", "ms"]).properties(height=24 * len(bars) + 40), width="stretch")
    outside = (f", {readable.overhead_ms:.0f} ms of it outside the graph steps (redaction, memory, store)"
               if readable.overhead_ms is not None else "")
    st.caption(f"Turn {readable.total_ms:.0f} ms{outside} · model {safe_label(readable.model)}")
    if readable.turn_flags:
        st.caption("Flags not raised by a recorded step: " + safe_label(", ".join(readable.turn_flags)))


def show_turn(turn: TurnView) -> None:
    trace_col, retrieved_col = st.columns([3, 2])
    readable = timeline(turn, title_of, brief.escalation.min_confidence)
    with trace_col:
        if turn.customer_message:
            st.markdown("**Customer:**")
            markdown(turn.customer_message)
        if turn.author:
            st.markdown(f"**{safe_label(turn.author)}** (support team):")
        markdown(turn.reply)
        st.caption(f"turn {turn.id} · **{turn.outcome}** · confidence {turn.confidence:.2f} · "
                   f"{turn.latency_ms:.0f} ms · prompts {safe_label(', '.join(turn.prompt_versions))} · KB `{turn.kb_version}`")
        if turn.review_flags:
            st.warning("Flags: " + ", ".join(turn.review_flags))
        if turn.thumb or turn.stars or turn.comment:
            st.info(f"Feedback: {turn.thumb or ''} {f'{turn.stars}★' if turn.stars else ''} {safe_label(turn.comment or '')}")
        show_timeline(readable)
        with st.expander("Raw trace (JSON)"):  # for engineers: everything the turn recorded
            st.json({"step_flags": turn.step_flags, "retrieved": turn.retrieved, **turn.trace}, expanded=False)
    with retrieved_col:
        st.markdown("**Retrieved**")
        for passage in readable.passages[:5]:
            article = agent.retriever.article(passage.id)
            with st.expander(f"{passage.rank}. {safe_label(passage.title)} · {passage.score:.2f}"
                             f"{' · cited' if passage.cited else ''}",
                             icon=":material/bookmark:" if passage.cited else None):
                st.caption(f"`{passage.id}`")  # article ids are [a-z0-9/_-] (articles.ID_PATTERN)
                markdown(article.body[:1500] if article else "No longer in the knowledge base.")
        if not readable.passages:
            st.caption("Nothing retrieved for this turn.")


def review_forms(view: ConversationView) -> None:
    turn_ids = {f"turn {t.id}: {t.customer_message[:50]}": t.id for t in view.turns}
    tag_col, promote_col = st.columns(2)
    with tag_col, st.form("tag-form", clear_on_submit=True):
        st.markdown("**Tag this conversation**")
        tag = st.selectbox("Tag", [t.id for t in brief.review.tags],
                           format_func=lambda i: brief.review.tag(i).label, key="tag_choice")
        target = st.selectbox("Turn", ["whole conversation", *turn_ids], key="tag_turn")
        note = st.text_area("Note", key="tag_note", placeholder="What went wrong, what should have happened")
        if st.form_submit_button("Add tag", key="tag_submit"):
            try:
                tag_conversation(store, brief, view.id, tag, reviewer, note, turn_ids.get(target))
                st.session_state["review_message"] = f"Tagged with '{tag}'."
                st.rerun()
            except SupportGraphError as error:
                show_error(error)
    if not view.reviewed_by and st.button("Reviewed, nothing to fix", key="mark_ok"):
        mark_reviewed(store, view.id, reviewer, "ok")
        st.session_state["review_message"] = "Marked reviewed."
        st.rerun()
    with promote_col, st.form("promote-form"):
        st.markdown("**Add to the golden set**")
        target = st.selectbox("Turn", list(turn_ids), key="promote_turn")
        reference = st.text_area("Reference answer", key="promote_reference")
        sources = st.multiselect("Source articles", sorted(agent.retriever.articles), key="promote_sources")
        unanswerable = st.checkbox("The agent should clarify or escalate (unanswerable)", key="promote_unanswerable")
        if st.form_submit_button("Promote to golden set", key="promote_submit"):
            try:
                case = promote_to_golden(store, turn_ids[target], GOLDEN, reference_answer=reference,
                                         sources=sources, answerable=not unanswerable,
                                         known_articles=set(agent.retriever.articles))
                st.session_state["review_message"] = f"Added `{case.id}` to the golden set."
                st.rerun()
            except SupportGraphError as error:
                show_error(error)


st.set_page_config(layout="wide")  # trace and retrieved articles side by side
st.title("Transcripts")
if message := st.session_state.pop("review_message", None):
    st.success(message)
filters = filters_from_sidebar()
views = list_conversations(store, brief, filters)
wanted = st.query_params.get("conversation")  # backlog evidence links open a conversation directly
if wanted and wanted not in {v.id for v in views}:
    try:
        views.insert(0, get_conversation(store, brief, wanted))
    except SupportGraphError as error:
        show_error(error)
st.caption(f"{len(views)} conversations match.")
if not views:
    st.info("No conversation matches these filters.")
    st.stop()
by_id = {v.id: v for v in views}
ids = list(by_id)
chosen = st.selectbox("Conversation", ids, index=ids.index(wanted) if wanted in by_id else 0,
                      format_func=lambda i: label(by_id[i]), key="tr_conversation")
view = by_id[chosen]
st.subheader(safe_label(view.summary))
state = f"reviewed by {view.reviewed_by} ({view.verdict})" if view.reviewed_by else "not reviewed"
st.caption(f"{safe_label(view.id)} · {safe_label(view.channel)} · {view.status} · rating {view.rating} · {safe_label(state)}")
for tag in view.tags:
    st.markdown(f":material/sell: **{safe_label(tag.tag)}** by {safe_label(tag.reviewer)}"
                f"{f' (turn {tag.turn_id})' if tag.turn_id else ''}: {safe_label(tag.note)}")
golden_ids = {case.id for case in load_dataset(GOLDEN)} if GOLDEN.exists() else set()
promoted = [t.id for t in view.turns if case_id_for(t.id) in golden_ids]
if promoted:
    st.caption("In the golden set: " + ", ".join(f"`{case_id_for(t)}`" for t in promoted))
for turn in view.turns:
    st.divider()
    show_turn(turn)
st.divider()
review_forms(view)

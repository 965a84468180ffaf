"""Staff page (agents and reviewers): conversations the bot handed to a person, oldest first. Claim one,
read the handoff note and the transcript, reply in the customer's thread, hand it back to the bot or close it."""

from __future__ import annotations

import datetime as dt

import streamlit as st
from support_ui import get_agent, markdown, show_error, staff_role
from support_ui import label as safe_label

from supportgraph.agents.handoff import HandoffDesk
from supportgraph.errors import SupportGraphError
from supportgraph.store.handoffs import HandoffInfo, get_handoff, handoff_queue
from supportgraph.store.staff import HANDOFF_ROLES, can_open

POLL_S = 3  # how often the open conversation and the queue look for news

if not can_open(staff_role(), HANDOFF_ROLES):  # the navigation hides this page too; this is the second lock
    st.error("This page is for support agents and reviewers. Sign in from the sidebar.")
    st.stop()

agent = get_agent()
store = agent.store
desk = HandoffDesk(store, agent.brief)
me = st.session_state["staff"]["username"]


def waited(handoff: HandoffInfo) -> str:
    minutes = int((dt.datetime.now(dt.UTC) - handoff.created_at).total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def option(handoff: HandoffInfo) -> str:  # a selectbox option: plain text
    who = f"claimed by {handoff.claimed_by}" if handoff.status == "claimed" else "waiting"
    return f"#{handoff.id} · {who} · {waited(handoff)} · {handoff.reason[:60]}"


def transcript(thread_id: str) -> None:
    conversation = store.conversation(thread_id)
    for turn in conversation.turns if conversation else []:
        if turn.customer_message:
            with st.chat_message("user"):
                st.text(turn.customer_message)
        with st.chat_message("assistant", avatar=":material/support_agent:" if turn.author else None):
            st.caption(f"{safe_label(turn.author)} (support team)" if turn.author else f"bot · {turn.outcome}")
            markdown(turn.reply)


def queue_watch(shown: list[int]) -> None:
    """Rerun the page when a handoff joins or leaves the queue."""
    if [h.id for h in handoff_queue(store)] != shown:
        st.rerun()


def act(action, handoff_id: int, done: str, *args) -> None:
    try:
        action(handoff_id, me, *args)
        st.session_state["inbox_message"] = done
        st.rerun()
    except SupportGraphError as error:
        show_error(error)


st.title("Inbox")
if message := st.session_state.pop("inbox_message", None):
    st.success(message)
queue = handoff_queue(store)
st.fragment(queue_watch, run_every=POLL_S)([h.id for h in queue])
waiting = sum(h.status == "queued" for h in queue)
st.caption(f"{waiting} waiting for a person · {len(queue) - waiting} being answered · "
           f"people answer {agent.brief.handoff.hours.describe()}")
if not queue:
    st.info("No conversation is waiting for a person.")
    st.stop()
mine = [h.id for h in queue if h.claimed_by == me]
by_id = {h.id: h for h in queue}
ids = list(by_id)
chosen = st.selectbox("Conversation", ids, index=ids.index(mine[0]) if mine else 0,
                      format_func=lambda i: option(by_id[i]), key="inbox_handoff")
handoff = get_handoff(store, chosen)
st.subheader(f"Handoff #{handoff.id}")
st.caption(f"thread {safe_label(handoff.thread_id)} · {handoff.status}"
           f"{f' by {safe_label(handoff.claimed_by)}' if handoff.claimed_by else ''} · waiting since "
           f"{handoff.created_at:%Y-%m-%d %H:%M} UTC ({waited(handoff)})")
st.markdown(f"**Reason:** {safe_label(handoff.reason) or 'not given'}")
details = ", ".join(f"{k} = {v}" for k, v in handoff.details.items())
st.markdown(f"**Details:** {safe_label(details) or 'none'}")
with st.expander("Handoff note", expanded=True):
    markdown(handoff.note)

if handoff.status == "queued":
    if st.button("Claim", key="inbox_claim", type="primary"):
        act(desk.claim, handoff.id, f"You have handoff #{handoff.id}: the bot stays silent until you hand it back.")
elif handoff.claimed_by != me:
    st.info(f"{safe_label(handoff.claimed_by)} is answering this conversation.")

st.markdown("**Conversation**")
st.fragment(transcript, run_every=POLL_S)(handoff.thread_id)  # the customer's new messages appear as they come

if handoff.status == "claimed" and handoff.claimed_by == me:
    with st.form("inbox-reply", clear_on_submit=True):
        text = st.text_area("Reply to the customer", key="inbox_reply_text",
                            placeholder="The customer sees this in their chat, as the support team.")
        if st.form_submit_button("Send reply", key="inbox_send", type="primary"):
            act(desk.reply, handoff.id, "Reply sent.", text)
    back, close = st.columns(2)
    if back.button("Hand back to the bot", key="inbox_release"):
        act(desk.release, handoff.id, f"Handoff #{handoff.id} handed back: the bot answers again.")
    if close.button("Close conversation", key="inbox_close"):
        act(desk.close, handoff.id, f"Handoff #{handoff.id} closed.")

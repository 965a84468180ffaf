"""The customer chat: ask, read a cited answer, rate it; a person's replies appear as they arrive."""

from __future__ import annotations

import uuid

import streamlit as st
from support_ui import get_agent, label, log, markdown, shielded

from supportgraph.agents.handoff import HandoffDesk
from supportgraph.agents.service import SupportAgent
from supportgraph.store import FeedbackIn
from supportgraph.store.handoffs import active_handoff
from supportgraph.store.sessions import new_session, open_session

THUMBS = {0: "down", 1: "up"}
CHAT_PREFIX = "chat-"  # citation ids of resolved chats (knowledge/chats.py)
POLL_S = 2  # while a person has the thread: how often the chat looks for their replies
CONVERSATION_PARAM = "c"  # the customer's resume token in the URL (store/sessions.py)


def save_feedback(turn_id: int, kind: str) -> None:
    """A widget callback: it runs before the page, so a failure is kept for show_feedback to report."""
    try:
        _save_feedback(turn_id, kind)
    except Exception:
        log.exception("Feedback on turn %s was not saved", turn_id)
        st.session_state[f"saved_{turn_id}"] = False


def _save_feedback(turn_id: int, kind: str) -> None:
    value = st.session_state.get(f"{kind}_{turn_id}")
    if kind == "thumb":
        feedback = FeedbackIn(turn_id=turn_id, thumb=THUMBS.get(value))
    elif kind == "stars":
        feedback = FeedbackIn(turn_id=turn_id, stars=None if value is None else value + 1)
    else:
        feedback = FeedbackIn(turn_id=turn_id, comment=value or None)
    get_agent().store.save_feedback(feedback)
    st.session_state[f"saved_{turn_id}"] = True


def show_citations(agent: SupportAgent, citations: list[dict]) -> None:
    for citation in citations:
        if citation["id"].startswith(CHAT_PREFIX):  # a resolved chat like this one (knowledge/chats.py)
            st.caption(f"💬 {label(citation.get('title', '').capitalize())}.")
            continue
        article = agent.retriever.article(citation["id"])
        with st.expander(f"📄 {label(citation.get('title', ''))}"):  # the title only: article ids are internal
            markdown(article.body if article else "This article is no longer in the knowledge base.")


def show_feedback(turn) -> None:
    stored = turn.feedback
    thumbs, stars = st.columns([1, 3])
    with thumbs:
        st.feedback("thumbs", key=f"thumb_{turn.id}", on_change=save_feedback, args=(turn.id, "thumb"),
                    default=None if stored is None or stored.thumb is None else int(stored.thumb == "up"))
    with stars:
        st.feedback("stars", key=f"stars_{turn.id}", on_change=save_feedback, args=(turn.id, "stars"),
                    default=None if stored is None or stored.stars is None else stored.stars - 1)
    st.text_input("Comment (optional)", key=f"comment_{turn.id}", on_change=save_feedback,
                  args=(turn.id, "comment"), placeholder="Tell us what was missing or wrong")
    saved = st.session_state.get(f"saved_{turn.id}")
    if saved:
        st.caption("Thanks, your feedback was saved.")
    elif saved is False:
        st.warning("Sorry, your feedback could not be saved just now. Please try again in a moment.")


def show_turn(agent: SupportAgent, turn) -> None:
    if turn.customer_message:
        with st.chat_message("user"):
            st.text(turn.customer_message)
    if turn.outcome == "human":  # a person's reply: shown as the team's, never with the person's account name
        with st.chat_message("assistant", avatar=":material/support_agent:"):
            st.caption("Support team")
            markdown(turn.reply)
            show_feedback(turn)
        return
    with st.chat_message("assistant"):
        markdown(turn.reply)
        if turn.outcome == "answered":
            show_citations(agent, turn.citations)
        if turn.outcome != "waiting":
            show_feedback(turn)


def conversation(live: bool) -> None:
    """The thread as stored: the bot's turns, the customer's messages, and a person's replies as they arrive
    (while a handoff is open this reruns every few seconds on its own, so no reload is needed)."""
    with shielded("the customer's conversation"):  # a fragment rerun runs this alone, outside the page's guard
        agent = get_agent()
        thread_id = st.session_state.thread_id
        stored = agent.store.conversation(thread_id)
        for turn in stored.turns if stored else []:
            show_turn(agent, turn)
        notice = HandoffDesk(agent.store, agent.brief).customer_notice(thread_id)
        if notice is not None:
            st.info(notice.text, icon=":material/support_agent:")
        if (notice is not None) != live:  # a handoff opened or ended: start or stop polling
            st.rerun()


def new_conversation() -> None:
    st.session_state.thread_id = uuid.uuid4().hex
    st.session_state.pop("chat_token", None)
    st.query_params.pop(CONVERSATION_PARAM, None)


def resume_conversation(agent: SupportAgent) -> None:
    """The conversation the URL's token opens (a reload, a later visit); else a new one. A token that opens
    nothing (mistyped, tampered, deleted) just starts afresh: it never opens anyone else's conversation."""
    token, kept = st.query_params.get(CONVERSATION_PARAM), st.session_state.get("chat_token")
    if not token and kept:  # switching pages drops the query parameters: put the token back
        st.query_params[CONVERSATION_PARAM] = kept
        return
    if token and token == kept:
        return
    thread_id = open_session(agent.store, "customer", token) if token else None
    if thread_id is None:
        if token:
            new_conversation()
        return
    st.session_state.thread_id, st.session_state.chat_token = thread_id, token


def keep_conversation(agent: SupportAgent) -> None:
    """Before the first message: a resume token for this conversation, into the URL."""
    if not st.session_state.get("chat_token"):
        token = new_session(agent.store, "customer", st.session_state.thread_id)
        st.session_state.chat_token = st.query_params[CONVERSATION_PARAM] = token


st.title("Kitebase support")
st.caption("Ask about billing, your account, apps or integrations. A person takes over when needed.")
agent = None
with shielded("loading the assistant"):
    agent = get_agent()
if agent is None:
    st.stop()
st.session_state.setdefault("thread_id", uuid.uuid4().hex)
with shielded("resuming a conversation"):
    resume_conversation(agent)
with st.sidebar:
    if st.button("New conversation"):
        new_conversation()

prompt = st.chat_input("Describe your problem")
if prompt is not None:
    with shielded("a customer turn"):
        keep_conversation(agent)
        agent.ask(prompt, thread_id=st.session_state.thread_id, channel="ui")

with shielded("the customer's conversation"):
    live = active_handoff(agent.store, st.session_state.thread_id) is not None
    st.fragment(conversation, run_every=POLL_S if live else None)(live)

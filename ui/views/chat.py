"""The customer chat: ask, read a cited answer, rate it."""

from __future__ import annotations

import uuid

import streamlit as st
from support_ui import get_agent, label, markdown, show_error

from supportgraph.agents.service import SupportAgent, TurnResult
from supportgraph.errors import SupportGraphError
from supportgraph.store import FeedbackIn

THUMBS = {0: "down", 1: "up"}


def save_feedback(turn_id: int, kind: str) -> None:
    value = st.session_state.get(f"{kind}_{turn_id}")
    if kind == "thumb":
        feedback = FeedbackIn(turn_id=turn_id, thumb=THUMBS.get(value))
    elif kind == "stars":
        feedback = FeedbackIn(turn_id=turn_id, stars=None if value is None else value + 1)
    else:
        feedback = FeedbackIn(turn_id=turn_id, comment=value or None)
    get_agent().store.save_feedback(feedback)
    st.session_state[f"saved_{turn_id}"] = True


def show_citations(agent: SupportAgent, result: TurnResult) -> None:
    for citation in result.citations:
        if citation.type == "chat":
            st.caption(f"💬 {label(citation.title.capitalize())}.")
            continue
        article = agent.retriever.article(citation.id)
        with st.expander(f"📄 {label(citation.title)}  ·  `{citation.id}`"):  # ids: articles.ID_PATTERN
            markdown(article.body if article else "This article is no longer in the knowledge base.")


def show_feedback(turn_id: int) -> None:
    thumbs, stars = st.columns([1, 3])
    with thumbs:
        st.feedback("thumbs", key=f"thumb_{turn_id}", on_change=save_feedback, args=(turn_id, "thumb"))
    with stars:
        st.feedback("stars", key=f"stars_{turn_id}", on_change=save_feedback, args=(turn_id, "stars"))
    st.text_input("Comment (optional)", key=f"comment_{turn_id}", on_change=save_feedback,
                  args=(turn_id, "comment"), placeholder="Tell us what was missing or wrong")
    if st.session_state.get(f"saved_{turn_id}"):
        st.caption("Thanks, your feedback was saved.")


st.title("Kitebase support")
st.caption("Ask about billing, your account, apps or integrations. A person takes over when needed.")
try:
    agent = get_agent()
except SupportGraphError as error:
    show_error(error)
    st.stop()
st.session_state.setdefault("thread_id", uuid.uuid4().hex)
st.session_state.setdefault("turns", [])  # (customer message, TurnResult)
with st.sidebar:
    if st.button("New conversation"):
        st.session_state.thread_id = uuid.uuid4().hex
        st.session_state.turns = []
    st.caption(f"Knowledge base version `{agent.retriever.kb_version}`")

prompt = st.chat_input("Describe your problem")
if prompt is not None:
    try:
        st.session_state.turns.append((prompt, agent.ask(prompt, thread_id=st.session_state.thread_id, channel="ui")))
    except SupportGraphError as error:
        show_error(error)

for message, result in st.session_state.turns:
    with st.chat_message("user"):
        st.text(message)
    with st.chat_message("assistant"):
        markdown(result.answer)
        show_citations(agent, result)
        show_feedback(result.turn_id)

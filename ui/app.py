"""Kitebase support chat (Streamlit). Customers chat and rate answers here.

Only calls the supportgraph package; no logic lives in the UI.
Run with `make run` or `streamlit run ui/app.py`.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import streamlit as st

from supportgraph.agents.service import SupportAgent, TurnResult
from supportgraph.config import Settings
from supportgraph.errors import SupportGraphError
from supportgraph.knowledge.embedding import SentenceTransformerEmbedder
from supportgraph.store import FeedbackIn

PROJECT_DIR = Path(__file__).resolve().parent.parent
THUMBS = {0: "down", 1: "up"}


def current_settings() -> Settings:
    return Settings() if "SUPPORTGRAPH_PROJECT_DIR" in os.environ else Settings(project_dir=PROJECT_DIR)


@st.cache_resource(show_spinner="Loading the embedding model...")
def _embedder(model_path: str | None) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(model_path)


@st.cache_resource(show_spinner="Loading the assistant...")
def _agent_for(settings_json: str) -> SupportAgent:
    """One agent per configuration, shared by all sessions: model, index and database
    clients are cached; no customer data is."""
    settings = Settings.model_validate_json(settings_json)
    agent = SupportAgent(settings, embedder=_embedder(settings.embedding_model))
    agent.warm_up()
    return agent


def get_agent() -> SupportAgent:
    return _agent_for(current_settings().model_dump_json())


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
            st.caption(f"💬 {citation.title.capitalize()}.")
            continue
        article = agent.retriever.article(citation.id)
        with st.expander(f"📄 {citation.title}  ·  `{citation.id}`"):
            st.markdown(article.body if article else "This article is no longer in the knowledge base.")


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


def main() -> None:
    st.set_page_config(page_title="Kitebase support", page_icon="💬")
    st.title("Kitebase support")
    st.caption("Ask about billing, your account, apps or integrations. A person takes over when needed.")
    try:
        agent = get_agent()
    except SupportGraphError as error:
        st.error(f"{error.message}\n\n**Fix:** {error.fix}")
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
            result = agent.ask(prompt, thread_id=st.session_state.thread_id, channel="ui")
            st.session_state.turns.append((prompt, result))
        except SupportGraphError as error:
            st.error(f"{error.message}\n\n**Fix:** {error.fix}")

    for message, result in st.session_state.turns:
        with st.chat_message("user"):
            st.text(message)
        with st.chat_message("assistant"):
            st.markdown(result.answer)
            show_citations(agent, result)
            show_feedback(result.turn_id)


main()

"""Helpers shared by the Streamlit pages: the cached agent and error display.

Only calls the supportgraph package; no logic lives in the UI.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from supportgraph.agents.service import SupportAgent
from supportgraph.config import Settings
from supportgraph.errors import SupportGraphError
from supportgraph.knowledge.embedding import SentenceTransformerEmbedder

PROJECT_DIR = Path(__file__).resolve().parent.parent


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


def show_error(error: SupportGraphError) -> None:
    st.error(f"{error.message}\n\n**Fix:** {error.fix}" if error.fix else error.message)


def staff_role() -> str | None:
    return (st.session_state.get("staff") or {}).get("role")

"""Helpers shared by the Streamlit pages: the cached agent, error display, and safe markdown.

Only calls the supportgraph package; no logic lives in the UI. Text from customers, models and
articles is shown with :func:`markdown` (never ``st.markdown`` directly) and widget labels made from
it with :func:`label`: a browser renders markdown, so an outside image would be fetched and an outside
link followed (security/markup.py rewrites both as plain text; raw HTML is escaped).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from pathlib import Path

import streamlit as st

from supportgraph.agents.service import SupportAgent
from supportgraph.config import Settings
from supportgraph.errors import SupportGraphError
from supportgraph.knowledge.embedding import Embedder, build_embedder
from supportgraph.security.markup import safe_markdown
from supportgraph.security.text import printable

PROJECT_DIR = Path(__file__).resolve().parent.parent
SORRY = "Sorry, something went wrong on our side and it was not your fault. Please try again in a moment."
log = logging.getLogger("supportgraph.ui")


def current_settings() -> Settings:
    return Settings() if "SUPPORTGRAPH_PROJECT_DIR" in os.environ else Settings(project_dir=PROJECT_DIR)


@st.cache_resource(show_spinner="Loading the embedding model...")
def _embedder(model_path: str | None, backend: str, home: str) -> Embedder:
    return build_embedder(Settings(embedding_model=model_path, embedding_backend=backend, home=Path(home)))


@st.cache_resource(show_spinner="Loading the assistant...")
def _agent_for(settings_json: str) -> SupportAgent:
    """One agent per configuration, shared by all sessions: model, index and database
    clients are cached; no customer data is."""
    settings = Settings.model_validate_json(settings_json)
    agent = SupportAgent(settings, embedder=_embedder(settings.embedding_model, settings.embedding_backend,
                                                           str(settings.home)))
    agent.warm_up()
    return agent


def get_agent() -> SupportAgent:
    return _agent_for(current_settings().model_dump_json())


def allowed_hosts() -> list[str]:
    """The brief's link allowlist (guard.allowed_hosts); none when the brief cannot be read."""
    from supportgraph.agents.brief import load_brief

    try:
        return load_brief(current_settings().brief_path).guard.allowed_hosts
    except SupportGraphError:
        return []


def markdown(text: str | None) -> None:
    """``st.markdown`` for text a customer, a model or an article wrote: no outside fetches, no HTML."""
    st.markdown(safe_markdown(text or "", allowed_hosts()))


def label(text: str | None) -> str:
    """Untrusted text for a widget label or title (which render markdown too): markup characters escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+!|<>$:~-])", r"\\\1", printable(text or ""))


def show_error(error: SupportGraphError) -> None:
    st.error(f"{error.message}\n\n**Fix:** {error.fix}" if error.fix else error.message)


@contextlib.contextmanager
def shielded(what: str):
    """Errors inside become a clear message on the page: ours with their fix, anything unexpected as
    :data:`SORRY`, its detail logged on the server only. (Streamlit's rerun and stop are BaseExceptions
    and pass through.)"""
    try:
        yield
    except SupportGraphError as error:
        show_error(error)
    except Exception:
        log.exception("Unexpected error in %s", what)
        st.error(SORRY)


def staff_role() -> str | None:
    return (st.session_state.get("staff") or {}).get("role")


STAFF_PARAM = "s"  # the staff session token in the URL, so a reload keeps staff signed in (store/sessions.py)


def sign_in_staff(username: str, role: str) -> None:
    from supportgraph.store.sessions import STAFF_SESSION, new_session

    token = new_session(get_agent().store, "staff", username, STAFF_SESSION)
    st.session_state.staff = {"username": username, "role": role, "token": token}


def sign_out_staff() -> None:
    from supportgraph.store.sessions import end_session

    end_session(get_agent().store, (st.session_state.pop("staff", None) or {}).get("token"))
    st.query_params.pop(STAFF_PARAM, None)


def restore_staff() -> None:
    """Staff stay signed in across reloads until their session expires (or they sign out, or lose their account):
    every run re-reads the session behind the token and keeps the token in the URL, whichever page is open."""
    from supportgraph.store.sessions import open_session
    from supportgraph.store.staff import staff_role as role_of

    token = (st.session_state.get("staff") or {}).get("token") or st.query_params.get(STAFF_PARAM)
    if not token:
        return
    try:
        store = get_agent().store
        username = open_session(store, "staff", token)
        role = role_of(store, username) if username else None
    except SupportGraphError:
        return  # the chat shows the store's error; a staff page stays locked
    if role is None:
        st.session_state.pop("staff", None)
        st.query_params.pop(STAFF_PARAM, None)
        return
    st.session_state.staff = {"username": username, "role": role, "token": token}
    if st.query_params.get(STAFF_PARAM) != token:
        st.query_params[STAFF_PARAM] = token

"""Staff page: the support agent's one-page brief (goal, metric gates, guardrails, escalation)."""

from __future__ import annotations

import streamlit as st
from support_ui import current_settings, show_error, staff_role

from supportgraph.agents.brief import load_brief, render_markdown
from supportgraph.errors import SupportGraphError
from supportgraph.store.staff import can_open

if not can_open(staff_role(), "staff"):
    st.error("This page is for staff. Sign in from the sidebar.")
    st.stop()
try:
    st.markdown(render_markdown(load_brief(current_settings().brief_path)))
except SupportGraphError as error:
    show_error(error)

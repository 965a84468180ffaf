"""Kitebase support (Streamlit entry point). Run with `make run`.

Customers get the chat (and a staff sign-in page). Staff pages are added to
the navigation only after a sign-in with the right role, so a customer cannot
open them by URL either.
"""

from __future__ import annotations

import streamlit as st
from support_ui import restore_staff, staff_role

from supportgraph.store.staff import HANDOFF_ROLES, can_open

STAFF_PAGES = [  # (file, title, icon, roles that may open it; "staff" = any signed-in role)
    ("views/inbox.py", "Inbox", ":material/support_agent:", HANDOFF_ROLES),
    ("views/dashboard.py", "Dashboard", ":material/dashboard:", "staff"),
    ("views/transcripts.py", "Transcripts", ":material/forum:", "reviewer"),
    ("views/weekly.py", "Weekly review", ":material/date_range:", "reviewer"),
    ("views/experiments.py", "Experiments", ":material/science:", "staff"),
    ("views/brief.py", "Agent brief", ":material/assignment:", "staff"),
    ("views/knowledge.py", "Knowledge", ":material/library_books:", "editor"),
]

st.set_page_config(page_title="Kitebase support", page_icon="💬")
restore_staff()
staff = [st.Page("views/staff.py", title="Staff sign-in" if staff_role() is None else "Signed in",
                 icon=":material/badge:", url_path="staff")]
staff += [st.Page(path, title=title, icon=icon) for path, title, icon, role in STAFF_PAGES
          if can_open(staff_role(), role)]
chat = st.Page("views/chat.py", title="Support chat", icon=":material/chat:", default=True)
st.navigation({"Support": [chat], "Staff": staff}).run()

"""Staff sign-in and sign-out. Accounts come from `supportgraph staff add`; there is no default one."""

from __future__ import annotations

import streamlit as st
from support_ui import get_agent, show_error, sign_in_staff, sign_out_staff

from supportgraph.errors import SupportGraphError
from supportgraph.store.staff import authenticate, can_open

staff = st.session_state.get("staff")
wanted = st.query_params.get("conversation")  # a backlog evidence link: sign in, then open that conversation
if staff and wanted and can_open(staff["role"], "reviewer"):
    st.switch_page("views/transcripts.py", query_params={"conversation": wanted})
if staff:
    st.title("Staff")
    st.write(f"Signed in as **{staff['username']}** ({staff['role']}). Your pages are in the sidebar.")
    if st.button("Sign out", key="staff_sign_out"):
        sign_out_staff()
        st.rerun()
    st.stop()

st.title("Staff sign-in")
with st.form("staff-sign-in", clear_on_submit=True):
    username = st.text_input("Username", key="staff_username")
    password = st.text_input("Password", type="password", key="staff_password")
    submitted = st.form_submit_button("Sign in", key="staff_sign_in")
if submitted:
    try:
        role = authenticate(get_agent().store, username, password)
    except SupportGraphError as error:
        show_error(error)
        st.stop()
    if role:
        sign_in_staff(username, role)
        st.rerun()
    st.error("Wrong username or password.")

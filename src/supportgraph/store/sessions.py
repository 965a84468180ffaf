"""Web sessions that survive a reload: a customer's conversation and a staff sign-in.

The browser keeps a random token (in the page URL: Streamlit cannot set cookies); the database keeps
only its SHA-256 and what it opens: a thread id for a customer, a username (until it expires) for staff.
A token is 256 random bits, so guessing one is hopeless, and an unknown, tampered or expired token opens
nothing: the customer gets a new conversation, staff the sign-in form. Server-side rows rather than signed
tokens, so signing out (or removing a staff account) ends a session at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Literal

from sqlalchemy import String, delete
from sqlalchemy.orm import Mapped, mapped_column

from supportgraph.store.models import Base, StaffUser, UTCDateTime, utcnow
from supportgraph.store.repository import Store

Kind = Literal["customer", "staff"]
STAFF_SESSION = dt.timedelta(hours=8)  # a working day; then staff sign in again


class WebSession(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))      # customer | staff
    subject: Mapped[str] = mapped_column(String(64))  # the thread id, or the staff username
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(store: Store, kind: Kind, subject: str, ttl: dt.timedelta | None = None) -> str:
    """A new token that opens ``subject``; shown to the browser once, stored hashed."""
    token = secrets.token_urlsafe(32)
    with store.session() as session, session.begin():
        session.add(WebSession(token_hash=_hash(token), kind=kind, subject=subject,
                               expires_at=utcnow() + ttl if ttl else None))
    return token


def open_session(store: Store, kind: Kind, token: str | None) -> str | None:
    """What ``token`` opens (thread id or username); None when unknown, of the other kind, or expired."""
    if not token or len(token) > 128:
        return None
    with store.session() as session, session.begin():
        row = session.get(WebSession, _hash(token))
        if row is None or row.kind != kind:
            return None
        if row.expires_at is not None and row.expires_at <= utcnow():
            session.delete(row)
            return None
        if kind == "staff" and session.get(StaffUser, row.subject) is None:  # the account was removed
            return None
        return row.subject


def end_session(store: Store, token: str | None) -> None:
    if token:
        with store.session() as session, session.begin():
            session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


"""Staff accounts: created by the operator (`supportgraph staff add`), never a default password.

Roles grant pages: agent (the handoff inbox: takes over conversations), reviewer (transcripts,
review, the inbox, and starting, stopping and concluding online experiments), editor (knowledge),
admin (everything, including staff accounts). Any role reads the Experiments page.
"""

from __future__ import annotations

from typing import Literal

import bcrypt
from sqlalchemy import select

from supportgraph.errors import ConfigError, NotFoundError
from supportgraph.store.models import StaffUser
from supportgraph.store.repository import Store

Role = Literal["agent", "reviewer", "editor", "admin"]
ROLES: tuple[str, ...] = ("agent", "reviewer", "editor", "admin")
HANDOFF_ROLES = ("agent", "reviewer")  # who may claim and answer a handoff (and admins)
EXPERIMENT_ROLES = ("reviewer",)  # who may start, stop and conclude an online experiment (and admins)
MIN_PASSWORD_LENGTH = 12


def add_staff(store: Store, username: str, password: str, role: str) -> None:
    if role not in ROLES:
        raise ConfigError(f"Unknown role '{role}'.", f"use one of: {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"The password is shorter than {MIN_PASSWORD_LENGTH} characters.",
                          "choose a longer passphrase.")
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    with store.session() as session, session.begin():
        user = session.get(StaffUser, username)
        if user is None:
            session.add(StaffUser(username=username, password_hash=hashed, role=role))
        else:
            user.password_hash, user.role = hashed, role


def authenticate(store: Store, username: str, password: str) -> str | None:
    """The user's role when the password matches, else None (same answer for unknown users)."""
    with store.session() as session:
        user = session.get(StaffUser, username)
    if user is None:
        bcrypt.checkpw(b"timing", bcrypt.hashpw(b"x", bcrypt.gensalt(4)))  # similar time for unknown names
        return None
    return user.role if bcrypt.checkpw(password.encode(), user.password_hash.encode()) else None


def list_staff(store: Store) -> list[tuple[str, str]]:
    with store.session() as session:
        return [(u.username, u.role) for u in session.scalars(select(StaffUser).order_by(StaffUser.username))]


def remove_staff(store: Store, username: str) -> None:
    with store.session() as session, session.begin():
        user = session.get(StaffUser, username)
        if user is None:
            raise NotFoundError(f"No staff user '{username}'.", "list them with `supportgraph staff list`.")
        session.delete(user)


def staff_role(store: Store, username: str) -> str | None:
    with store.session() as session:
        user = session.get(StaffUser, username)
        return None if user is None else user.role


def can_open(role: str | None, page_role: str | tuple[str, ...]) -> bool:
    """Admins open everything; "staff" pages any signed-in role; otherwise the role must be one of the page's."""
    roles = (page_role,) if isinstance(page_role, str) else page_role
    return role is not None and (role == "admin" or "staff" in roles or role in roles)

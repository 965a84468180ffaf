"""Conversations, turns and feedback, through SQLAlchemy (SQLite by default, PostgreSQL by URL)."""

from supportgraph.store.repository import FeedbackIn, Store, TurnRecord

__all__ = ["FeedbackIn", "Store", "TurnRecord"]

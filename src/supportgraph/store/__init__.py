"""Conversations, turns and feedback, through SQLAlchemy (SQLite by default, PostgreSQL by URL)."""

from supportgraph.store import (
    api_models,  # noqa: F401  (registers the API's tables before any create_all)
    handoffs,  # noqa: F401, E402  (registers the handoff table)
)
from supportgraph.store.repository import FeedbackIn, Store, TurnRecord

__all__ = ["FeedbackIn", "Store", "TurnRecord"]

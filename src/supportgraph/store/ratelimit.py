"""Fixed-window rate limits counted in the shared database, so every replica counts the same requests.

One row per (bucket, minute): an upsert adds one and returns the new count, atomically on SQLite and
PostgreSQL. Over the limit, the caller is told how long until the window ends (Retry-After).
"""

from __future__ import annotations

import math
import time

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from supportgraph.store.api_models import RateWindow
from supportgraph.store.repository import Store

WINDOW_S = 60


def hit(store: Store, bucket: str, limit: int, now: float | None = None) -> tuple[int, int]:
    """Count one request in ``bucket``; (requests left in this window, seconds until it ends).

    Left is negative when this request is over the limit."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_S * WINDOW_S)
    insert = postgres_insert if store.engine.dialect.name == "postgresql" else sqlite_insert
    statement = (insert(RateWindow).values(bucket=bucket, window_start=window, count=1)
                 .on_conflict_do_update(index_elements=[RateWindow.bucket, RateWindow.window_start],
                                        set_={"count": RateWindow.count + 1})
                 .returning(RateWindow.count))
    with store.engine.begin() as connection:
        count = connection.execute(statement).scalar_one()
    return limit - count, max(1, math.ceil(window + WINDOW_S - now))


def forget_old_windows(store: Store, now: float | None = None) -> int:
    now = time.time() if now is None else now
    with store.engine.begin() as connection:
        return connection.execute(delete(RateWindow).where(RateWindow.window_start < now - 2 * WINDOW_S)).rowcount

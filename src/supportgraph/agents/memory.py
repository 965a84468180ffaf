"""Conversation memory: the LangGraph checkpointer, chosen by the store's URL, and what LangGraph
leaves to us: one-time setup, deleting and pruning a thread, and keeping memory and transcript in
agreement after a crash.

- SQLite store: a ``SqliteSaver`` in ``<home>/memory.sqlite`` (one machine).
- PostgreSQL store: a ``PostgresSaver`` on a psycopg pool in the same database, so every replica
  sees every thread. Its tables are made once by ``supportgraph db setup`` (``setup()`` runs
  ``CREATE INDEX CONCURRENTLY``, which must not race between replicas); a replica only checks them.
  Connections are autocommit with dict rows, and neither prepared statements nor pipeline mode are
  used, so a transaction-mode pooler (PgBouncer) in between works.

Memory and transcript are two writes: a turn's checkpoint (one per turn, written when the graph
exits) and then its transcript row, which names that checkpoint. A process killed between the two
leaves memory one turn ahead of what the customer was shown. ``reconcile_thread`` runs before each
turn, under the thread's claim, and rolls memory back to the checkpoint the last recorded turn
ended on (or forgets it, when no turn was recorded), so the customer's retry is answered as if the
lost turn never happened.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy import make_url

from supportgraph.config import Settings
from supportgraph.errors import ConfigError, StoreError, ThreadBusyError

SETUP_FIX = "run `supportgraph db setup` once (not on every replica), then start the replicas."
Reconciled = Literal["ok", "rolled_back", "dropped", "untracked", "behind"]


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def _conninfo(url: str) -> str:
    """A libpq connection string from the store's SQLAlchemy URL (postgresql+psycopg://...)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def open_checkpointer(settings: Settings) -> BaseCheckpointSaver:
    """The saver the store's URL calls for: PostgresSaver on PostgreSQL (checked, not set up), else SqliteSaver."""
    if is_postgres(settings.database_url):
        saver = _postgres_saver(settings)
        _require_setup(saver, settings.database_url)
        return saver
    settings.home.mkdir(parents=True, exist_ok=True)
    # One connection shared by threads: SqliteSaver serialises access with its own lock.
    connection = sqlite3.connect(settings.memory_path, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return SqliteSaver(connection)


def _postgres_saver(settings: Settings):
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool, PoolTimeout

    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    pool = ConnectionPool(_conninfo(settings.database_url), min_size=1, max_size=settings.memory_pool_size,
                          kwargs={"autocommit": True, "row_factory": dict_row, "prepare_threshold": None},
                          check=ConnectionPool.check_connection, open=False, name="supportgraph-memory")
    try:
        pool.open(wait=True, timeout=15)
    except PoolTimeout:
        pool.close()
        raise StoreError(f"Cannot open conversation memory at {shown}.",
                         "check SUPPORTGRAPH_DATABASE_URL and that the database server is running.") from None
    saver = PostgresSaver(pool)
    saver.supports_pipeline = False  # pipeline mode breaks behind transaction-mode poolers (langgraph #5675)
    return saver


def _require_setup(saver, url: str) -> None:
    import psycopg

    shown = make_url(url).render_as_string(hide_password=True)
    try:
        with saver.conn.connection() as connection:
            row = connection.execute("SELECT max(v) AS v FROM checkpoint_migrations").fetchone()
    except psycopg.errors.UndefinedTable:
        saver.conn.close()
        raise ConfigError(f"The conversation memory tables do not exist in {shown}.", SETUP_FIX) from None
    if row["v"] is None or row["v"] < len(saver.MIGRATIONS) - 1:
        saver.conn.close()
        raise ConfigError(f"The conversation memory tables in {shown} are older than this version "
                          f"(migration {row['v']} of {len(saver.MIGRATIONS) - 1}).", SETUP_FIX)


def setup_memory(settings: Settings) -> str:
    """Create or migrate the memory tables (run once, by `supportgraph db setup`); what was set up."""
    if is_postgres(settings.database_url):
        saver = _postgres_saver(settings)
        try:
            saver.setup()
        finally:
            saver.conn.close()
        return f"PostgresSaver tables ({len(saver.MIGRATIONS)} migrations)"
    saver = open_checkpointer(settings)
    saver.setup()
    saver.conn.close()
    return f"SqliteSaver tables in {settings.memory_path}"


@dataclass
class Memory:
    """A checkpointer plus the thread-level operations reconciliation and retention need."""

    saver: BaseCheckpointSaver

    @property
    def kind(self) -> str:
        if isinstance(self.saver, SqliteSaver):
            return "sqlite"
        if type(self.saver).__name__ == "PostgresSaver":
            return "postgres"
        return "other"

    def latest_id(self, thread_id: str) -> str | None:
        found = self.saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
        return found.config["configurable"]["checkpoint_id"] if found else None

    def thread_ids(self) -> set[str]:
        if self.kind == "sqlite":
            with self.saver.cursor(transaction=False) as cursor:
                return {row[0] for row in cursor.execute("SELECT DISTINCT thread_id FROM checkpoints")}
        if self.kind == "postgres":
            with self.saver.conn.connection() as connection:
                return {row["thread_id"] for row in connection.execute("SELECT DISTINCT thread_id FROM checkpoints")}
        return {item.config["configurable"]["thread_id"] for item in self.saver.list(None)}

    def delete_thread(self, thread_id: str) -> None:
        if self.kind == "postgres":  # one transaction, no pipeline
            self.saver.prune([thread_id], strategy="delete")
        else:
            self.saver.delete_thread(thread_id)

    def rollback(self, thread_id: str, to: str) -> None:
        """Delete the thread's checkpoints after ``to`` (and the writes of runs started from ``to`` on)."""
        if self.kind == "sqlite":
            with self.saver.cursor() as cursor:
                cursor.execute("DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id > ?", (thread_id, to))
                cursor.execute("DELETE FROM writes WHERE thread_id = ? AND checkpoint_id >= ?", (thread_id, to))
        elif self.kind == "postgres":
            with self.saver.conn.connection() as connection, connection.transaction():
                connection.execute("DELETE FROM checkpoints WHERE thread_id = %s AND checkpoint_id > %s",
                                   (thread_id, to))
                connection.execute("DELETE FROM checkpoint_writes WHERE thread_id = %s AND checkpoint_id >= %s",
                                   (thread_id, to))
                connection.execute(  # blobs only the deleted checkpoints referenced
                    "DELETE FROM checkpoint_blobs b WHERE b.thread_id = %s AND NOT EXISTS ("
                    " SELECT 1 FROM checkpoints c WHERE c.thread_id = b.thread_id"
                    " AND c.checkpoint_ns = b.checkpoint_ns"
                    " AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)", (thread_id,))
        else:
            raise NotImplementedError(f"rolling back a {type(self.saver).__name__} is not supported")

    def prune(self, thread_id: str) -> None:
        """Keep only the thread's latest checkpoint (all memory needs; LangGraph never prunes, #8531)."""
        if self.kind == "postgres":
            self.saver.prune([thread_id], strategy="keep_latest")
            return
        latest = self.latest_id(thread_id)
        if latest is None or self.kind != "sqlite":
            return
        with self.saver.cursor() as cursor:
            cursor.execute("DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id < ?", (thread_id, latest))
            cursor.execute("DELETE FROM writes WHERE thread_id = ? AND checkpoint_id < ?", (thread_id, latest))

    def count(self, thread_id: str) -> int:
        return sum(1 for _ in self.saver.list({"configurable": {"thread_id": thread_id}}))

    def close(self) -> None:
        conn = getattr(self.saver, "conn", None)
        if conn is not None:
            conn.close()


def reconcile_thread(memory: Memory, store, thread_id: str) -> Reconciled:
    """Make memory agree with the transcript for one thread. Call it holding the thread's claim."""
    from supportgraph.store.threads import last_turn

    latest = memory.latest_id(thread_id)
    if latest is None:
        return "ok"
    last = last_turn(store, thread_id)
    if last is None:  # memory of a turn that was never recorded (or of a deleted conversation)
        memory.delete_thread(thread_id)
        return "dropped"
    if last.checkpoint_id is None:
        return "untracked"  # recorded before turns named their checkpoint
    if latest == last.checkpoint_id:
        return "ok"
    if latest > last.checkpoint_id:  # checkpoint ids sort by time
        memory.rollback(thread_id, last.checkpoint_id)
        return "rolled_back"
    return "behind"  # the recorded checkpoint is gone (memory deleted by hand): the next turn starts afresh


def reconcile_all(memory: Memory, store, lease_s: float = 60.0) -> dict[str, Reconciled | Literal["busy"]]:
    """Reconcile every thread that has memory, each under its claim; busy threads are left for their turn."""
    from supportgraph.store.threads import claim_thread, new_owner, release_claim

    done: dict[str, Reconciled | Literal["busy"]] = {}
    for thread_id in sorted(memory.thread_ids()):
        owner = new_owner()
        if claim_thread(store, thread_id, owner, lease_s):
            done[thread_id] = "busy"
            continue
        try:
            done[thread_id] = reconcile_thread(memory, store, thread_id)
        finally:
            release_claim(store, thread_id, owner)
    return done


def forget_thread(memory: Memory, store, thread_id: str, lease_s: float = 60.0) -> bool:
    """Delete a conversation: its transcript, then its memory, under its claim; False if it had neither.

    In this order, a crash in between leaves memory without a transcript, which the next
    reconciliation drops; the other order could leave a transcript whose memory is gone."""
    from supportgraph.store.threads import claim_thread, delete_transcript, new_owner, release_claim

    owner = new_owner()
    if retry_after := claim_thread(store, thread_id, owner, lease_s):
        raise ThreadBusyError(thread_id, retry_after)
    try:
        had_memory = memory.latest_id(thread_id) is not None
        found = delete_transcript(store, thread_id)
        memory.delete_thread(thread_id)
        return found or had_memory
    finally:
        release_claim(store, thread_id, owner)


@dataclass
class PruneReport:
    deleted: list[str]
    pruned: int
    busy: list[str]


def prune_memory(memory: Memory, store, older_than, *, dry_run: bool = False, lease_s: float = 60.0) -> PruneReport:
    """Retention: delete conversations idle for ``older_than`` (transcript, then memory), and keep only
    the latest checkpoint of the others (reconciled first, so the checkpoint kept is the recorded one)."""
    import datetime as dt

    from supportgraph.store.threads import claim_thread, new_owner, release_claim, threads_older_than

    cutoff = dt.datetime.now(dt.UTC) - older_than
    old = set(threads_older_than(store, cutoff))
    recorded_or_remembered = memory.thread_ids()
    report = PruneReport(deleted=sorted(old), pruned=0, busy=[])
    if dry_run:
        report.pruned = len(recorded_or_remembered - old)
        return report
    report.deleted = []
    for thread_id in sorted(old):
        try:
            forget_thread(memory, store, thread_id, lease_s)
            report.deleted.append(thread_id)
        except ThreadBusyError:  # someone came back to it
            report.busy.append(thread_id)
    for thread_id in sorted(recorded_or_remembered - old):
        owner = new_owner()
        if claim_thread(store, thread_id, owner, lease_s):
            report.busy.append(thread_id)
            continue
        try:
            reconcile_thread(memory, store, thread_id)
            memory.prune(thread_id)
            report.pruned += 1
        finally:
            release_claim(store, thread_id, owner)
    return report

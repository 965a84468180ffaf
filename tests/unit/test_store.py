"""The store on both backends: ``any_store`` is SQLite (a unit test) and the session's PostgreSQL (integration)."""

import datetime as dt

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from supportgraph.errors import NotFoundError, StoreError
from supportgraph.store import FeedbackIn, Store, TurnRecord, staff
from tests.conftest import postgres_admin
from tests.servers import free_port


def _turn(store, thread="t1", outcome="answered"):
    return store.record_turn(thread, TurnRecord(customer_message="hi", reply="hello", outcome=outcome,
                                                retrieved=[{"id": "a", "score": 0.5}], kb_version="v1",
                                                trace={"model": "twin", "calls": [{"step": "answer"}]}))


def test_turns_round_trip_with_their_trace(any_store):
    first = _turn(any_store)
    second = _turn(any_store, outcome="escalated")
    conversation = any_store.conversation("t1")
    assert [t.id for t in conversation.turns] == [first, second]
    assert conversation.turns[0].retrieved == [{"id": "a", "score": 0.5}]
    assert conversation.turns[0].trace == {"model": "twin", "calls": [{"step": "answer"}]}
    assert conversation.status == "escalated"


def test_feedback_updates_in_place_and_keeps_earlier_fields(any_store):
    turn = _turn(any_store)
    any_store.save_feedback(FeedbackIn(turn_id=turn, thumb="up"))
    any_store.save_feedback(FeedbackIn(turn_id=turn, stars=4, comment="call me on +44 20 7946 0958"))
    row = any_store.feedback_for(turn)
    assert (row.thumb, row.stars) == ("up", 4)
    assert "7946" not in row.comment and "[PHONE]" in row.comment


def test_invalid_feedback_is_refused_before_storage(any_store):
    with pytest.raises(ValidationError):
        FeedbackIn(turn_id=1, stars=6)
    with pytest.raises(NotFoundError):
        any_store.save_feedback(FeedbackIn(turn_id=999, thumb="up"))


def test_times_come_back_as_aware_utc_and_filter_correctly(any_store):
    before = dt.datetime.now(dt.UTC)
    turn = _turn(any_store, outcome="resolved")
    any_store.save_feedback(FeedbackIn(turn_id=turn, thumb="up"))
    conversation = any_store.conversation("t1")
    stamps = [conversation.created_at, conversation.updated_at, conversation.turns[0].created_at,
              any_store.feedback_for(turn).created_at]
    assert all(stamp.tzinfo is not None and stamp.utcoffset() == dt.timedelta(0) for stamp in stamps)
    assert all(before - dt.timedelta(seconds=5) <= stamp <= dt.datetime.now(dt.UTC) for stamp in stamps)
    # The same instant in another zone selects the same rows.
    auckland = dt.timezone(dt.timedelta(hours=13))
    assert [c.id for c in any_store.resolved_conversations(before.astimezone(auckland) - dt.timedelta(seconds=5))] \
        == ["t1"]
    assert any_store.resolved_conversations(dt.datetime.now(auckland) + dt.timedelta(minutes=1)) == []


def test_a_missing_column_is_added_back_and_rows_are_kept(any_store):
    turn = _turn(any_store)
    with any_store.engine.begin() as connection:
        connection.execute(text("ALTER TABLE turns DROP COLUMN trace"))
    any_store.engine.dispose()
    reopened = Store(any_store.url)
    assert [t.id for t in reopened.conversation("t1").turns] == [turn]
    assert reopened.conversation("t1").turns[0].trace is None
    reopened.engine.dispose()


def test_staff_accounts_on_each_backend(any_store):
    staff.add_staff(any_store, "ana", "a long passphrase", "editor")
    assert staff.authenticate(any_store, "ana", "a long passphrase") == "editor"
    assert staff.list_staff(any_store) == [("ana", "editor")]
    staff.remove_staff(any_store, "ana")
    assert staff.list_staff(any_store) == []


@pytest.mark.unit
def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2


@pytest.mark.unit
def test_a_dead_server_is_a_store_error_that_names_the_fix():
    url = f"postgresql+psycopg://support:s3cret@127.0.0.1:{free_port()}/supportgraph"  # nothing listens there
    with pytest.raises(StoreError) as caught:
        Store(url)
    message = str(caught.value)
    assert "127.0.0.1" in message and "Connection refused" in message and "s3cret" not in message
    assert "SUPPORTGRAPH_DATABASE_URL" in caught.value.fix and "server is running" in caught.value.fix


@pytest.mark.unit
@pytest.mark.parametrize("url", ["not a url", "postgres://support:s3cret@localhost/supportgraph"])
def test_a_wrong_url_is_a_store_error_with_an_example(url):
    with pytest.raises(StoreError) as caught:
        Store(url)
    assert "s3cret" not in str(caught.value) and "postgresql+psycopg://" in caught.value.fix


@pytest.mark.integration
def test_a_database_that_goes_away_is_a_store_error(new_database, postgres_server):
    store = Store(new_database("postgresql"))
    turn = _turn(store)
    name = store.engine.url.database
    with postgres_admin(postgres_server) as admin:  # cut the store's connections, then hide its database
        admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                      {"name": name})
        admin.execute(text(f"ALTER DATABASE {name} RENAME TO {name}_gone"))
    try:
        with pytest.raises(StoreError, match="does not exist") as caught:
            store.save_feedback(FeedbackIn(turn_id=turn, thumb="up"))
        assert "server is running" in caught.value.fix
    finally:
        with postgres_admin(postgres_server) as admin:
            admin.execute(text(f"ALTER DATABASE {name}_gone RENAME TO {name}"))


@pytest.mark.unit
def test_page_roles():
    assert staff.can_open("admin", "editor") and staff.can_open("reviewer", "staff")
    assert staff.can_open("editor", "editor")
    assert not staff.can_open("reviewer", "editor") and not staff.can_open(None, "staff")

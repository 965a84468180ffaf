import pytest
from pydantic import ValidationError
from sqlalchemy import text

from supportgraph.errors import NotFoundError
from supportgraph.store import FeedbackIn, Store, TurnRecord

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'store.db'}")


def _turn(store, thread="t1", outcome="answered"):
    return store.record_turn(thread, TurnRecord(customer_message="hi", reply="hello", outcome=outcome,
                                                retrieved=[{"id": "a", "score": 0.5}], kb_version="v1"))


def test_turns_round_trip_with_their_trace(store):
    first = _turn(store)
    second = _turn(store, outcome="escalated")
    conversation = store.conversation("t1")
    assert [t.id for t in conversation.turns] == [first, second]
    assert conversation.turns[0].retrieved == [{"id": "a", "score": 0.5}]
    assert conversation.status == "escalated"


def test_feedback_updates_in_place_and_keeps_earlier_fields(store):
    turn = _turn(store)
    store.save_feedback(FeedbackIn(turn_id=turn, thumb="up"))
    store.save_feedback(FeedbackIn(turn_id=turn, stars=4, comment="call me on +44 20 7946 0958"))
    row = store.feedback_for(turn)
    assert (row.thumb, row.stars) == ("up", 4)
    assert "7946" not in row.comment and "[PHONE]" in row.comment


def test_invalid_feedback_is_refused_before_storage(store):
    with pytest.raises(ValidationError):
        FeedbackIn(turn_id=1, stars=6)
    with pytest.raises(NotFoundError):
        store.save_feedback(FeedbackIn(turn_id=999, thumb="up"))


def test_sqlite_runs_in_wal_mode_with_full_sync(store):
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2


def test_page_roles():
    from supportgraph.store.staff import can_open

    assert can_open("admin", "editor") and can_open("reviewer", "staff") and can_open("editor", "editor")
    assert not can_open("reviewer", "editor") and not can_open(None, "staff")

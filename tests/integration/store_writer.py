"""Write turns and feedback to a store until killed, printing each write once the store has confirmed it.

``python tests/integration/store_writer.py URL`` prints ``turn I ID`` after ``record_turn`` returns and
``feedback I ID`` after the turn's feedback is saved (two calls: a thumb, then stars and a comment).
test_store_durability.py kills it with SIGKILL mid-stream and checks what the store kept.
"""

from __future__ import annotations

import itertools
import sys

from supportgraph.store import FeedbackIn, Store, TurnRecord


def feedback_values(i: int) -> tuple[str, int, str]:
    """(thumb, stars, comment) written for the i-th turn."""
    return ("up" if i % 2 else "down"), 1 + i % 5, f"comment number {i}"


def main(url: str) -> None:
    store = Store(url)
    for i in itertools.count():
        turn = store.record_turn(f"thread-{i % 7}", TurnRecord(customer_message=f"message {i}", reply=f"reply {i}",
                                                               outcome="answered", trace={"i": i}))
        print(f"turn {i} {turn}", flush=True)
        thumb, stars, comment = feedback_values(i)
        store.save_feedback(FeedbackIn(turn_id=turn, thumb=thumb))
        store.save_feedback(FeedbackIn(turn_id=turn, stars=stars, comment=comment))
        print(f"feedback {i} {turn}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

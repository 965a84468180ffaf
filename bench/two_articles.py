"""Two-article answers benchmark (not a test): can the ranking tell when a question needs a second article?

Issue #11 asks the agent to cite and combine two articles when a question needs both. Before
building it, this measures whether any signal the retriever has says so. Every benchmark set is
indexed with the production code and each answerable question searched; among the questions whose
best article is right, a rule proposes the runner-up (hits 2-3) as a second article:

- ``runner-up``: always (the ceiling of what adding can find, and its cost);
- ``within margin``: its cosine is within nodes.RELATED_MARGIN of the best article's (the rule
  that cites a related policy today);
- ``margin + new words``: that, and its passage holds question words (IDF-weighted) that the
  best article's passages and title miss: the part of the question the first does not answer.

Printed per set: questions with two or more sources, how many of them have a second source in
hits 2-3 at all, and per rule the second articles added to those questions (right / wrong) and to
single-source questions (all wrong), with the precision of adding.

    PYTHONPATH=src:bench .venv/bin/python bench/two_articles.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from embedding_cache import CachedEmbedder, product_embedder  # noqa: E402
from sets import BENCH_CACHE, REPO, benchmark_sets  # noqa: E402

from supportgraph.agents.nodes import RELATED_MARGIN  # noqa: E402
from supportgraph.config import Settings  # noqa: E402
from supportgraph.knowledge.index import build_index  # noqa: E402
from supportgraph.knowledge.lexical import stems  # noqa: E402
from supportgraph.knowledge.query import clean_query  # noqa: E402
from supportgraph.knowledge.retrieval import Retriever  # noqa: E402

RUNNERS_UP = 2  # hits 2 and 3 may be proposed


def new_words_share(retriever: Retriever, question: str, best, other) -> float:
    """IDF-weighted share of the question's words in ``other``'s best passage and title, not in ``best``'s."""
    weights = retriever.term_weights(clean_query(question).lexical)
    total = sum(weights.values())
    if not total:
        return 0.0
    known = set(stems(best.article.title)).union(*(stems(f"{p.section} {p.text}") for p in best.passages[:3]))
    passage = other.passages[0] if other.passages else None
    offered = set(stems(other.article.title)) | (set(stems(f"{passage.section} {passage.text}")) if passage else set())
    return sum(w for t, w in weights.items() if t in offered and t not in known) / total


RULES = {
    "runner-up": lambda retriever, question, best, other: True,
    "within margin": lambda retriever, question, best, other: other.dense_score >= best.dense_score - RELATED_MARGIN,
    "margin + new words": lambda retriever, question, best, other: (
        other.dense_score >= best.dense_score - RELATED_MARGIN and new_words_share(retriever, question, best, other) > 0),
}


def measure(bench_set, model) -> dict:
    embedder = CachedEmbedder(model, BENCH_CACHE, bench_set.name, "production")
    counts = {name: {"right": 0, "wrong_multi": 0, "wrong_single": 0} for name in RULES}
    multi = reachable = single = 0
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(project_dir=REPO, home=Path(home), knowledge_dir=bench_set.knowledge)
        build_index(settings, embedder)
        retriever = Retriever(settings, embedder)
        for case in bench_set.cases():
            hits = retriever.search(case.question, k=1 + RUNNERS_UP)
            if not case.answerable or not hits or hits[0].article.id not in case.sources:
                continue
            two = len(case.sources) > 1
            multi, single = multi + two, single + (not two)
            reachable += two and any(h.article.id in case.sources for h in hits[1:])
            for name, rule in RULES.items():
                added = next((h for h in hits[1:] if rule(retriever, case.question, hits[0], h)), None)
                if added is not None:
                    key = "right" if added.article.id in case.sources else ("wrong_multi" if two else "wrong_single")
                    counts[name][key] += 1
    embedder.save()
    return {"multi": multi, "reachable": reachable, "single": single, "rules": counts}


def main() -> int:
    model = product_embedder()
    print("\n### Two-article answers: would adding the runner-up be right?\n")
    print("Questions whose best article is right; a second article is proposed from hits 2-3.\n")
    print("| set | two+ sources (second in hits 2-3) | rule | added to two+ (right / wrong) | added to one-source "
          "| precision of adding |")
    print("|---|---|---|---|---|---|")
    for bench_set in benchmark_sets():
        found = measure(bench_set, model)
        for name, c in found["rules"].items():
            added = c["right"] + c["wrong_multi"] + c["wrong_single"]
            precision = f"{c['right'] / added:.2f}" if added else "-"
            print(f"| {bench_set.name} | {found['multi']} ({found['reachable']}) | {name} | {c['right']} / "
                  f"{c['wrong_multi']} | {c['wrong_single']} of {found['single']} | {precision} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Compare supportgraph's retrieval with the baselines a user would pick, on every benchmark set.

Prints one markdown table per set and one of the mean across sets: hit@1, hit@5, MRR@10,
recall@1, recall@5 over the answerable questions (hit@k: any source in the top k; recall@k: the
share of sources in the top k; MRR@10: reciprocal rank of the first source found), and per-query
latency p50 (live query embedding included; the first --latency-sample answerable questions, each
the fastest of LATENCY_REPEATS runs, since other work shares the machine's cores).
Chunk and query embeddings are cached under --cache, and every question's raw candidates (dense
cosine, BM25) and its top-10 ranking go to <cache>/candidates/<set>/<method>.json for offline study
(bench/losses.py reads them).

    PYTHONPATH=src:. HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False \
        .venv/bin/python bench/compare.py [--sets golden,doc2dial] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answers import agent_quality, pasted_chunk_quality  # noqa: E402
from baselines import ArticleBM25, LangChainDense, PlainRRF, Ranking, SupportGraphToday  # noqa: E402
from embedding_cache import (
    CachedEmbedder,  # noqa: E402
    product_embedder,  # noqa: E402
)
from sets import BENCH_CACHE, REPO, BenchSet, benchmark_sets  # noqa: E402

from supportgraph.evals.datasets import GoldenCase  # noqa: E402
from supportgraph.evals.retrieval_metrics import HitAtK, MRRAtK, RecallAtK, percentile, score_retrieval  # noqa: E402

DEFAULT_CACHE = BENCH_CACHE


METRICS = (HitAtK(1), HitAtK(5), MRRAtK(10), RecallAtK(1), RecallAtK(5))
COLUMNS = [("hit@1", "hit_at_1"), ("hit@5", "hit_at_5"), ("MRR@10", "mrr_at_10"), ("recall@1", "recall_at_1"),
           ("recall@5", "recall_at_5"), ("p50 ms", "p50_ms")]
LATENCY_REPEATS = 3  # each timed query runs 3 times and keeps its fastest: the 2 cores are shared


def build_methods(bench: BenchSet, articles, cache: Path, live, home: Path) -> list:
    def chunk_cache(chunker: str) -> CachedEmbedder:
        return CachedEmbedder(live, cache, bench.name, chunker)

    lc_embedder = chunk_cache(LangChainDense.chunker)
    dense = LangChainDense(bench.name, articles, lc_embedder)
    lc_embedder.save()
    sg_embedder = chunk_cache(SupportGraphToday.chunker(REPO))
    supportgraph = SupportGraphToday(REPO, bench.knowledge, home, sg_embedder)
    sg_embedder.save()
    lexical = ArticleBM25(articles)
    print(f"  {bench.name}: {len(articles)} articles; chunks: {dense.chunk_count} langchain, "
          f"{supportgraph.report.embedded_chunks} supportgraph; embedded now: "
          f"{lc_embedder.computed + sg_embedder.computed}", file=sys.stderr)
    return [dense, lexical, PlainRRF(dense, lexical), supportgraph]


def candidates_record(case: GoldenCase, ranking: Ranking) -> dict:
    record = {"id": case.id, "answerable": case.answerable, "sources": case.sources,
              "ranking": ranking.articles[:10]}
    for source, candidates in ranking.candidates.items():
        record[source] = {"chunks": [{"article_id": c.article_id, "chunk_id": c.chunk_id, "score": c.score}
                                     for c in candidates.chunks],
                          "articles": candidates.article_scores()}
    return record


def timed_ms(method, question: str, live) -> float:
    started = time.perf_counter()
    method.search(question, live)
    return (time.perf_counter() - started) * 1000


def evaluate(method, cases: list[GoldenCase], queries, live, latency_sample: int) -> tuple[dict, list[dict]]:
    rankings = {c.id: method.search(c.question, queries, with_candidates=True) for c in cases}
    answerable = [c for c in cases if c.answerable and c.sources]
    runs = [(rankings[c.id].articles, c.sources) for c in answerable]
    scores = {name: result.aggregate for name, result in score_retrieval(runs, METRICS).items()}
    sample = answerable[:latency_sample] if latency_sample else answerable
    method.search(sample[0].question, live)  # first live call pays for lazy loading, not the query
    latencies = [min(timed_ms(method, case.question, live) for _ in range(LATENCY_REPEATS)) for case in sample]
    dump = [candidates_record(c, rankings[c.id]) for c in cases]
    return scores | {"p50_ms": percentile(latencies, 50)}, dump


def print_table(title: str, table: dict[str, dict[str, float]]) -> None:
    print(f"\n### {title}\n")
    print("| method | " + " | ".join(label for label, _ in COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    for method, s in table.items():
        cells = [f"{s[key]:.1f}" if key == "p50_ms" else f"{s[key]:.3f}" for _, key in COLUMNS]
        print(f"| {method} | " + " | ".join(cells) + " |")


ANSWER_COLUMNS = [("answerable answered", "answered"), ("unanswerable abstained", "abstained"),
                  ("answer similarity", "similarity"), ("similarity, answered ones", "similarity_answered")]


def print_answers(title: str, table: dict[str, dict[str, float]]) -> None:
    print(f"\n### {title}\n")
    print("| method | " + " | ".join(label for label, _ in ANSWER_COLUMNS) + " |")
    print("|---|" + "---|" * len(ANSWER_COLUMNS))
    for method, s in table.items():
        print(f"| {method} | " + " | ".join("-" if s[key] != s[key] else f"{s[key]:.3f}" for _, key in ANSWER_COLUMNS)
              + " |")


def run_set(bench: BenchSet, cache: Path, live, latency_sample: int) -> tuple[dict, dict, int]:
    articles, cases = bench.articles(), bench.cases()
    queries = CachedEmbedder(live, cache, bench.name, "query")
    queries.embed([c.question for c in cases])
    queries.save()
    table, answers = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for method in build_methods(bench, articles, cache, live, Path(tmp) / "home"):
            table[method.name], dump = evaluate(method, cases, queries, live, latency_sample)
            out = cache / "candidates" / bench.name / f"{method.name}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"set": bench.name, "method": method.name, "questions": dump}))
            if isinstance(method, LangChainDense):
                answers["langchain-dense (top chunk pasted)"] = pasted_chunk_quality(method, cases, queries, live)
    agent_embedder = CachedEmbedder(live, cache, bench.name, "production")
    answers["supportgraph (the agent)"] = agent_quality(bench, cases, agent_embedder)
    agent_embedder.save()
    queries.save()
    return table, answers, sum(c.answerable and bool(c.sources) for c in cases)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", help="comma-separated set names (default: all found)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--latency-sample", type=int, default=30, help="questions timed per set (0: all)")
    args = parser.parse_args()
    chosen = [b for b in benchmark_sets() if not args.sets or b.name in args.sets.split(",")]
    live = product_embedder()
    started = time.perf_counter()
    tables, answer_tables = {}, {}
    for bench in chosen:
        table, answers, answerable = run_set(bench, args.cache, live, args.latency_sample)
        tables[bench.name], answer_tables[bench.name] = table, answers
        print_table(f"{bench.name} ({answerable} answerable questions)", table)
        print_answers(f"{bench.name}: answers", answers)
    if len(tables) > 1:
        methods = next(iter(tables.values()))
        means = {m: {key: mean(t[m][key] for t in tables.values()) for _, key in COLUMNS} for m in methods}
        print_table(f"Mean across {len(tables)} sets ({', '.join(tables)})", means)
    print(f"\n{time.perf_counter() - started:.0f} s; candidates in {args.cache / 'candidates'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

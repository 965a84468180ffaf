"""Retrieval benchmark (not a test): prints figures for docs/benchmarks.md.

On the project's golden set and on the external Anthropic docs set
(../shared/datasets/anthropic-docs), for dense-only, BM25-only and hybrid:
recall@1/3/5, MRR@10 at article level, and query latency p50/p95. Then
ingestion: chunks/s of a full index build beside the raw `model.encode` rate
of the same chunks, and re-indexing after editing one article vs a full build.

    .venv/bin/python bench/retrieval.py [--sweep] [--external PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from embedding_cache import product_embedder  # noqa: E402

from supportgraph.config import Settings  # noqa: E402
from supportgraph.evals.datasets import GoldenCase, load_dataset  # noqa: E402
from supportgraph.evals.retrieval_metrics import percentile, score_retrieval  # noqa: E402
from supportgraph.knowledge.articles import load_articles  # noqa: E402
from supportgraph.knowledge.chunking import chunk_article  # noqa: E402
from supportgraph.knowledge.index import build_index  # noqa: E402
from supportgraph.knowledge.retrieval import Retriever  # noqa: E402
from supportgraph.params import load_params  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
EXTERNAL = REPO.parent / "shared" / "datasets" / "anthropic-docs"
MODES = ("dense", "lexical", "hybrid")


def external_set(source: Path, folder: Path) -> list[GoldenCase]:
    """Write each documentation chunk as one article; map the questions onto their ids."""
    def article_id(link: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", link.lower().split("/en/", 1)[-1]).strip("-")

    folder.mkdir(parents=True)
    for doc in json.loads((source / "anthropic_docs.json").read_text()):
        name = article_id(doc["chunk_link"])
        title = doc["chunk_heading"].replace('"', "'")
        (folder / f"{name}.md").write_text(f'---\nid: {name}\ntitle: "{title}"\n---\n{doc["text"]}\n')
    return [GoldenCase(id=q["id"], question=q["question"], reference_answer=q["correct_answer"],
                       sources=[article_id(link) for link in q["correct_chunks"]])
            for q in json.loads((source / "docs_evaluation_dataset.json").read_text())]


def evaluate(retriever: Retriever, cases: list[GoldenCase]) -> dict[str, dict[str, float]]:
    answerable = [c for c in cases if c.answerable and c.sources]
    table = {}
    for mode in MODES:
        runs, latencies = [], []
        for case in answerable:
            started = time.perf_counter()
            hits = retriever.search(case.question, k=10, mode=mode)
            latencies.append((time.perf_counter() - started) * 1000)
            runs.append(([h.article.id for h in hits], case.sources))
        scores = {name: result.aggregate for name, result in score_retrieval(runs).items()}
        table[mode] = scores | {"p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95)}
    return table


def print_table(title: str, table: dict[str, dict[str, float]], n: int) -> None:
    print(f"\n### {title} ({n} questions)\n")
    print("| retrieval | recall@1 | recall@3 | recall@5 | MRR@10 | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for mode, s in table.items():
        print(f"| {mode} | {s['recall_at_1']:.3f} | {s['recall_at_3']:.3f} | {s['recall_at_5']:.3f} | "
              f"{s['mrr_at_10']:.3f} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} |")


def index_set(knowledge: Path, home: Path, embedder, max_words: int | None = None) -> tuple[Settings, float, int]:
    settings = Settings(project_dir=REPO, home=home, knowledge_dir=knowledge)
    started = time.perf_counter()
    report = build_index(settings, embedder, max_words=max_words)
    return settings, time.perf_counter() - started, report.embedded_chunks


def ingestion(embedder, work: Path) -> None:
    knowledge = work / "kb-copy"
    shutil.copytree(REPO / "knowledge", knowledge)
    max_words = load_params(REPO).knowledge.chunk_max_words
    articles = load_articles(knowledge).articles
    texts = [c.embed_text(a.title) for a in articles for c in chunk_article(a, max_words)]
    embedder.embed(texts[:64])  # warm the model's kernels so neither timing pays for it
    started = time.perf_counter()
    embedder.embed(texts)
    encode_s = time.perf_counter() - started
    settings, full_s, chunks = index_set(knowledge, work / "ingest-home", embedder)
    edited = knowledge / "troubleshooting" / "ts-duplicate-charge.md"
    edited.write_text(edited.read_text() + "\nEdited for the benchmark.\n")
    started = time.perf_counter()
    report = build_index(settings, embedder)
    one_s = time.perf_counter() - started
    started = time.perf_counter()
    build_index(settings, embedder)
    none_s = time.perf_counter() - started
    print(f"\n### Ingestion ({len(articles)} articles, {chunks} chunks, 2 CPU cores)\n")
    print("| what | time | rate |\n|---|---|---|")
    print(f"| raw `model.encode` of the chunks | {encode_s:.2f} s | {len(texts) / encode_s:.0f} chunks/s |")
    print(f"| full index build (chunk, embed, Chroma, BM25, manifest) | {full_s:.2f} s | {chunks / full_s:.0f} chunks/s |")
    print(f"| re-index after editing 1 article ({report.embedded_chunks} chunks re-embedded) | {one_s:.2f} s | |")
    print(f"| re-index with nothing changed | {none_s:.2f} s | |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--external", type=Path, default=EXTERNAL)
    parser.add_argument("--sweep", action="store_true", help="also compare chunk sizes 50/80/150/250 words")
    parser.add_argument("--ingestion-only", action="store_true", help="only the ingestion figures")
    args = parser.parse_args()
    embedder = product_embedder()
    if args.ingestion_only:
        with tempfile.TemporaryDirectory() as tmp:
            ingestion(embedder, Path(tmp))
        return 0
    golden = load_dataset(REPO / "evals" / "datasets" / "golden.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings, _, _ = index_set(REPO / "knowledge", work / "golden-home", embedder)
        answerable = sum(c.answerable for c in golden)
        print_table("Golden set (sample knowledge base)", evaluate(Retriever(settings, embedder), golden), answerable)
        if args.external.exists():
            external = external_set(args.external, work / "external-kb")
            ext_settings, _, _ = index_set(work / "external-kb", work / "external-home", embedder)
            print_table("Anthropic docs (external)", evaluate(Retriever(ext_settings, embedder), external), len(external))
        else:
            print(f"\n(external set not found at {args.external}; skipped)")
        if args.sweep:
            print("\n### Chunk size (hybrid)\n\n| words | set | recall@1 | recall@5 | MRR@10 |\n|---|---|---|---|---|")
            for words in (50, 80, 150, 250):
                for name, knowledge, cases in (("golden", REPO / "knowledge", golden),
                                               ("external", work / "external-kb", external)):
                    s, _, _ = index_set(knowledge, work / f"sweep-{name}-{words}", embedder, max_words=words)
                    h = evaluate(Retriever(s, embedder), cases)["hybrid"]
                    print(f"| {words} | {name} | {h['recall_at_1']:.3f} | {h['recall_at_5']:.3f} | {h['mrr_at_10']:.3f} |")
        ingestion(embedder, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())

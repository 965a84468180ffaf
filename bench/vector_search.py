"""Vector search benchmark (not a test): recall and latency of Chroma's HNSW search at its
default effort (ef_search=100) and at supportgraph's (HNSW_EF_SEARCH), by index size.

Random unit vectors are HNSW's hard case (real embeddings cluster), so recall here is a floor.
Recall@10 is against exact search; latency is one query, without the embedding.

    .venv/bin/python bench/vector_search.py [--sizes 400 2000 10000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb  # noqa: E402
import numpy as np  # noqa: E402

from supportgraph.evals.retrieval_metrics import percentile  # noqa: E402
from supportgraph.knowledge.index import HNSW_EF_SEARCH  # noqa: E402

DIM, QUERIES, K = 384, 200, 10


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.normal(size=(count, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def measure(client, size: int, ef_search: int, vectors: np.ndarray, queries: np.ndarray) -> dict:
    collection = client.create_collection(f"bench-{size}-{ef_search}", embedding_function=None,
                                          configuration={"hnsw": {"space": "cosine", "ef_search": ef_search}})
    for start in range(0, size, 1000):
        collection.add(ids=[str(i) for i in range(start, min(size, start + 1000))],
                       embeddings=vectors[start:start + 1000].tolist())
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :K]
    latencies, found = [], 0
    for query, best in zip(queries, exact):
        began = time.perf_counter()
        ids = collection.query(query_embeddings=[query.tolist()], n_results=K, include=[])["ids"][0]
        latencies.append((time.perf_counter() - began) * 1000)
        found += len(set(map(str, best)) & set(ids))
    return {"recall": found / exact.size, "p50": percentile(latencies, 50), "p95": percentile(latencies, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 2000, 10000])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    queries = unit_vectors(rng, QUERIES)
    print(f"| chunks | ef_search | recall@{K} | p50 ms | p95 ms |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        client = chromadb.PersistentClient(path=folder, settings=chromadb.config.Settings(anonymized_telemetry=False))
        for size in args.sizes:
            vectors = unit_vectors(rng, size)
            for ef_search in (100, HNSW_EF_SEARCH):
                row = measure(client, size, ef_search, vectors, queries)
                print(f"| {size} | {ef_search} | {row['recall']:.3f} | {row['p50']} | {row['p95']} |", flush=True)


if __name__ == "__main__":
    main()

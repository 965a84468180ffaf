"""What following a published index costs a replica (knowledge/shared.py), not a test.

1. The check a Retriever makes at most every SUPPORTGRAPH_INDEX_CHECK_S: the published KB version, one
   primary-key lookup, on SQLite and (when Debian's binaries are there) a throwaway PostgreSQL on loopback.
2. Following a new version: the sample knowledge folder's articles copied to N (new ids), published, then
   one `follow()` into an empty home: chunking, the BM25 build, articles.json and manifest.json.

    .venv/bin/python bench/shared_index.py [--articles 500] [--checks 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402

from supportgraph.config import Settings  # noqa: E402
from supportgraph.knowledge.articles import load_articles  # noqa: E402
from supportgraph.knowledge.index import kb_version  # noqa: E402
from supportgraph.knowledge.index_files import lexical_dir_name  # noqa: E402
from supportgraph.knowledge.shared import follow, shared_store  # noqa: E402
from supportgraph.store.kb_index import publish, published_version  # noqa: E402
from tests.servers import postgres_bindir, postgres_cluster  # noqa: E402


def snapshot(count: int) -> tuple[dict, dict]:
    base = load_articles(REPO / "knowledge").articles
    articles = [base[i % len(base)].model_copy(update={"id": f"{base[i % len(base)].id}-{i}"}) for i in range(count)]
    version = kb_version({a.id: a.content_hash for a in articles})
    manifest = {"kb_version": version, "chunk_max_words": 180, "lexical_dir": lexical_dir_name(version, 180),
                "embedding_model": "bench", "articles": {a.id: {"hash": a.content_hash, "path": a.path,
                                                                "title": a.title} for a in articles}}
    return manifest, {a.id: a.model_dump(mode="json") for a in articles}


def measure(name: str, url: str, count: int, checks: int) -> None:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(project_dir=REPO, home=Path(home), database_url=url, chroma_url="http://unused")
        store = shared_store(settings)
        manifest, articles = snapshot(count)
        publish(store, settings.collection, manifest, articles, "bench")
        times = []
        for _ in range(checks):
            started = time.perf_counter()
            published_version(store, settings.collection)
            times.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        assert follow(settings)
        followed = time.perf_counter() - started
        print(f"{name}: version check median {statistics.median(times):.3f} ms, p99 "
              f"{sorted(times)[int(len(times) * 0.99)]:.3f} ms ({checks} checks); follow of {count} articles "
              f"{followed:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--checks", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", f"sqlite:///{folder}/bench.db", args.articles, args.checks)
    bindir = postgres_bindir()
    if bindir is None:
        print("PostgreSQL: no binaries (apt-get install postgresql), skipped")
        return
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(postgres_cluster(bindir))
        engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("CREATE DATABASE bench"))
        engine.dispose()
        measure("PostgreSQL (loopback)", f"{base}/bench", args.articles, args.checks)


if __name__ == "__main__":
    main()

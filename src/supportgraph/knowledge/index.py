"""Build and update the Chroma index from the knowledge folder.

Incremental by content hash: unchanged articles are not re-embedded, changed
ones are replaced, removed ones deleted. What is in Chroma is checked against
each chunk's metadata (article hash and chunk count), not trusted from the
manifest, so a run killed half-way is repaired by the next one. One writer at a
time, enforced by a file lock (Chroma's local store is not multi-process safe).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import chromadb
from filelock import FileLock, Timeout

from supportgraph.config import Settings
from supportgraph.errors import IndexBusyError, KnowledgeError
from supportgraph.knowledge.articles import Article, ArticleProblem, load_articles
from supportgraph.knowledge.chunking import Chunk, chunk_article
from supportgraph.knowledge.embedding import Embedder

ProgressCallback = Callable[[int, int], None]  # (chunks done, chunks to embed)
EMBED_BATCH = 64


@dataclass
class IndexReport:
    kb_version: str
    articles: int
    chunks: int
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[ArticleProblem] = field(default_factory=list)
    embedded_chunks: int = 0


def open_chroma(settings: Settings) -> chromadb.ClientAPI:
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir),
                                     settings=chromadb.config.Settings(anonymized_telemetry=False))


def get_collection(client: chromadb.ClientAPI, name: str):
    # embedding_function=None: we always pass vectors; Chroma's default one downloads a model.
    return client.get_or_create_collection(
        name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})


def kb_version(hashes: dict[str, str]) -> str:
    """Hash of the manifest: changes exactly when some article's content changes."""
    return hashlib.sha256(json.dumps(sorted(hashes.items())).encode()).hexdigest()[:12]


def build_index(settings: Settings, embedder: Embedder, progress: ProgressCallback | None = None,
                max_words: int = 150) -> IndexReport:
    if not settings.knowledge_dir.is_dir():
        raise KnowledgeError(f"Knowledge folder {settings.knowledge_dir} does not exist.",
                             "create it and add markdown articles, or set SUPPORTGRAPH_KNOWLEDGE_DIR.")
    loaded = load_articles(settings.knowledge_dir)
    if not loaded.articles:
        raise KnowledgeError(f"No valid article in {settings.knowledge_dir}.",
                             "add markdown files (see knowledge/README.md) and fix the problems listed.")
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.index_dir / "index.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IndexBusyError(settings.index_dir / "index.lock") from None
    try:
        return _update(settings, embedder, loaded.articles, loaded.problems, progress, max_words)
    finally:
        lock.release()


def _update(settings, embedder, articles: list[Article], problems, progress, max_words) -> IndexReport:
    collection = get_collection(open_chroma(settings), settings.collection)
    indexed = _indexed_hashes(collection)
    wanted = {a.id: a for a in articles}
    old_manifest = read_manifest(settings.index_dir)
    report = IndexReport(kb_version="", articles=len(articles), chunks=0, problems=problems)

    stale = [aid for aid in indexed if aid not in wanted]
    to_embed: list[tuple[Article, list[Chunk]]] = []
    for article in articles:
        if indexed.get(article.id) == article.content_hash:
            continue
        to_embed.append((article, chunk_article(article, max_words)))
        (report.updated if article.id in old_manifest.get("articles", {}) else report.added).append(article.id)
    report.removed = sorted(set(old_manifest.get("articles", {})) - set(wanted))

    for article_id in stale:
        collection.delete(where={"article_id": article_id})
    total = sum(len(chunks) for _, chunks in to_embed)
    done = 0
    if progress:
        progress(0, total)
    for article, chunks in to_embed:
        collection.delete(where={"article_id": article.id})
        for start in range(0, len(chunks), EMBED_BATCH):
            batch = chunks[start:start + EMBED_BATCH]
            vectors = embedder.embed([c.embed_text(article.title) for c in batch])
            collection.add(
                ids=[c.id for c in batch],
                embeddings=vectors.tolist(),
                documents=[c.text for c in batch],
                metadatas=[_chunk_metadata(article, c, len(chunks)) for c in batch],
            )
            done += len(batch)
            if progress:
                progress(done, total)
    report.embedded_chunks = done
    report.chunks = collection.count()
    hashes = {a.id: a.content_hash for a in articles}
    report.kb_version = kb_version(hashes)
    _write_json(settings.index_dir / "articles.json",
                {a.id: a.model_dump(mode="json") for a in articles})
    _write_json(settings.index_dir / "manifest.json", {
        "kb_version": report.kb_version,
        "embedding_model": embedder.name,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "articles": {a.id: {"hash": a.content_hash, "path": a.path, "title": a.title} for a in articles},
    })
    return report


def _chunk_metadata(article: Article, chunk: Chunk, chunk_count: int) -> dict:
    return {
        "article_id": article.id,
        "article_hash": article.content_hash,
        "chunk_count": chunk_count,
        "section": chunk.section,
        "type": article.type,
        "product_area": article.product_area,
        "audience": article.audience,
        "tags": ",".join(article.tags),
    }


def _indexed_hashes(collection) -> dict[str, str]:
    """article id -> hash, only for articles whose chunks are all present (a killed run leaves partial ones)."""
    seen: dict[str, tuple[str, int, int]] = {}
    for meta in collection.get(include=["metadatas"])["metadatas"]:
        article_id, digest, count = meta["article_id"], meta["article_hash"], meta["chunk_count"]
        old = seen.get(article_id)
        if old is None:
            seen[article_id] = (digest, count, 1)
        elif old[0] == digest:
            seen[article_id] = (digest, count, old[2] + 1)
        else:
            seen[article_id] = ("mixed", 0, -1)
    return {aid: digest for aid, (digest, count, found) in seen.items() if found == count}


def read_manifest(index_dir: Path) -> dict:
    path = index_dir / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _write_json(path: Path, data: dict) -> None:
    """Write-then-rename, so a reader or a killed writer never sees half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)

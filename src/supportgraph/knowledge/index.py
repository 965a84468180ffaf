"""Build and update the Chroma index from the knowledge folder.

Incremental by content hash: unchanged articles are not re-embedded, changed
ones are replaced, removed ones deleted. What is in Chroma is checked against
each chunk's metadata (article hash and chunk count), not trusted from the
manifest, so a run killed half-way is repaired by the next one. One writer at a
time, enforced by a file lock (Chroma's local store is not multi-process safe). With a Chroma server the
folder is merged with the index other replicas published, and the result published in turn, under a lock
all replicas see (knowledge/shared.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import chromadb
from filelock import FileLock, Timeout

from supportgraph.config import Settings
from supportgraph.errors import ConfigError, IndexBusyError, KnowledgeError
from supportgraph.knowledge.articles import Article, ArticleProblem, load_articles
from supportgraph.knowledge.calibration import is_current
from supportgraph.knowledge.chunking import TITLES_FORMAT, Chunk, chunk_article, title_texts
from supportgraph.knowledge.embedding import Embedder, embedding_backend, vectors_key
from supportgraph.knowledge.index_files import (  # noqa: F401  (read_history, write_manifest: callers import them here)
    changes,
    lexical_dir_name,
    read_history,
    read_manifest,
    write_index_files,
    write_manifest,
)
from supportgraph.knowledge.shared import (
    folder_hashes,
    merge,
    publisher,
    save_folder_hashes,
    shared_store,
    shares_index,
    writer_lock,
)
from supportgraph.params import load_params
from supportgraph.store.kb_index import publish, read_published

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
    embedded_titles: int = 0   # title texts: titles and section headings (chunking.title_texts)
    kept_published: list[str] = field(default_factory=list)  # this folder is behind the published index on these
    published: str = ""  # the published index they were kept from (knowledge/shared.py)


def open_chroma(settings: Settings) -> chromadb.ClientAPI:
    """The embedded store under the home folder, or a Chroma server when ``chroma_url`` is set."""
    if settings.chroma_url:
        return _http_client(settings.chroma_url)
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return _persistent_client(str(settings.chroma_dir))


# One client per store in a process: a second client on the same path keeps serving the
# vectors it loaded and never sees what the first one writes (an edit would stay invisible).
@functools.lru_cache(maxsize=None)
def _persistent_client(path: str) -> chromadb.ClientAPI:
    return chromadb.PersistentClient(path=path, settings=_quiet())


def _quiet() -> chromadb.config.Settings:
    # A new object each time: HttpClient writes its server address into the settings it gets.
    return chromadb.config.Settings(anonymized_telemetry=False)


def reset_chroma_clients() -> None:
    """Forget open clients so the next open sees what another process wrote (the index changed)."""
    _persistent_client.cache_clear()
    _http_client.cache_clear()
    chromadb.api.client.SharedSystemClient.clear_system_cache()


@functools.lru_cache(maxsize=None)
def _http_client(url: str) -> chromadb.ClientAPI:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    try:
        return chromadb.HttpClient(host=parsed.hostname, port=parsed.port or 8000, ssl=parsed.scheme == "https",
                                   settings=_quiet())
    except Exception as error:  # the client checks the server on connect
        raise ConfigError(f"Cannot reach the Chroma server at {url} ({error}).",
                          "start it with `chroma run --path DIR --port PORT`, or unset "
                          "SUPPORTGRAPH_CHROMA_URL to use the embedded store.") from None


# Chroma's default ef_search (100) is approximate enough to miss a just-added article on a topic
# unlike the rest (seen as an editor's new FAQ that search did not find, in about one run in twenty).
# Exploring this many candidates is exact up to ~1,000 chunks and near-exact beyond, for a few ms.
HNSW_EF_SEARCH = 1000


def get_collection(client: chromadb.ClientAPI, name: str):
    # embedding_function=None: we always pass vectors; Chroma's default one downloads a model.
    collection = client.get_or_create_collection(
        name, embedding_function=None, configuration={"hnsw": {"space": "cosine", "ef_search": HNSW_EF_SEARCH}})
    if (collection.configuration.get("hnsw") or {}).get("ef_search", 0) < HNSW_EF_SEARCH:  # built by an older version
        collection.modify(configuration={"hnsw": {"ef_search": HNSW_EF_SEARCH}})
    return collection


def kb_version(hashes: dict[str, str]) -> str:
    """Hash of the manifest: changes exactly when some article's content changes."""
    return hashlib.sha256(json.dumps(sorted(hashes.items())).encode()).hexdigest()[:12]


def build_index(settings: Settings, embedder: Embedder, progress: ProgressCallback | None = None,
                max_words: int | None = None, force: bool = False) -> IndexReport:
    """Index the knowledge folder; with a Chroma server, over the index other replicas published (merged
    per article, knowledge/shared.py) and publish the result. ``force``: index this folder as it is."""
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
    if max_words is None:
        max_words = load_params(settings.project_dir).knowledge.chunk_max_words
    try:
        with writer_lock(settings) if shares_index(settings) else contextlib.nullcontext():
            return _update(settings, embedder, loaded.articles, loaded.problems, progress, max_words, force)
    finally:
        lock.release()


def titles_collection_name(collection: str) -> str:
    """What each article says it answers (its title, and its sections' headings): the titles channel."""
    return f"{collection}-titles"


def _update_titles(client, settings, embedder, articles: list[Article], keys: dict[str, str]) -> int:
    """Embed the title texts of new and changed articles (chunking.title_texts), drop those of removed
    ones; how many texts were embedded. The title's id is the article id, a heading's `<id>#h<n>`."""
    titles = get_collection(client, titles_collection_name(settings.collection))
    present = {meta["article_id"]: meta.get("article_hash") for meta in titles.get(include=["metadatas"])["metadatas"]}
    key = {a.id: f"{keys[a.id]}:t{TITLES_FORMAT}" for a in articles}
    changed = [a for a in articles if present.get(a.id) != key[a.id]]
    gone = [aid for aid in present if aid not in key] + [a.id for a in changed if a.id in present]
    if gone:
        titles.delete(where={"article_id": {"$in": gone}})
    entries = [(a, n, text) for a in changed for n, text in enumerate(title_texts(a))]
    for start in range(0, len(entries), EMBED_BATCH):
        batch = entries[start:start + EMBED_BATCH]
        titles.add(ids=[a.id if n == 0 else f"{a.id}#h{n}" for a, n, _ in batch],
                   embeddings=embedder.embed([text for _, _, text in batch]).tolist(),
                   documents=[text for _, _, text in batch],
                   metadatas=[{"article_id": a.id, "article_hash": key[a.id], "audience": a.audience,
                               "type": a.type} for a, _, _ in batch])
    return len(entries)


def _update(settings, embedder, articles: list[Article], problems, progress, max_words, force) -> IndexReport:
    folder, published = articles, None
    report = IndexReport(kb_version="", articles=0, chunks=0, problems=problems)
    if shares_index(settings):
        published = read_published(shared_store(settings), settings.collection)
        merged = merge(folder, folder_hashes(settings.index_dir), None if force else published, settings.knowledge_dir)
        articles, report.kept_published = merged.articles, merged.kept_published
        report.published = published.describe() if merged.kept_published else ""
    report.articles = len(articles)
    client = open_chroma(settings)
    collection = get_collection(client, settings.collection)
    indexed = _indexed_hashes(collection)
    wanted = {a.id: a for a in articles}
    old_manifest = read_manifest(settings.index_dir)

    stale = [aid for aid in indexed if aid not in wanted]
    chunks_by_article = {a.id: chunk_article(a, max_words) for a in articles}
    to_embed: list[tuple[Article, list[Chunk]]] = []
    # Chunks are keyed by content, chunk size and how they are embedded: changing any re-embeds.
    embedded_by = vectors_key(embedder)
    keys = {a.id: f"{a.content_hash}:{max_words}:{embedded_by}" for a in articles}
    for article in articles:
        if indexed.get(article.id) != keys[article.id]:
            to_embed.append((article, chunks_by_article[article.id]))
    changed = changes(old_manifest, articles)
    report.added, report.updated, report.removed = changed["added"], changed["updated"], changed["removed"]

    for article_id in stale:
        collection.delete(where={"article_id": article_id})
    for article, _ in to_embed:
        collection.delete(where={"article_id": article.id})
    # Embed in full batches across articles: per-article batches of ~5 chunks waste the model.
    pending = [(article, chunk, len(chunks)) for article, chunks in to_embed for chunk in chunks]
    pending.sort(key=lambda item: len(item[1].embed_text(item[0].title)))  # similar lengths: less padding
    done = 0
    if progress:
        progress(0, len(pending))
    for start in range(0, len(pending), EMBED_BATCH):
        batch = pending[start:start + EMBED_BATCH]
        vectors = embedder.embed([chunk.embed_text(article.title) for article, chunk, _ in batch])
        collection.add(
            ids=[chunk.id for _, chunk, _ in batch],
            embeddings=vectors.tolist(),
            documents=[chunk.text for _, chunk, _ in batch],
            metadatas=[_chunk_metadata(article, chunk, count, keys[article.id]) for article, chunk, count in batch],
        )
        done += len(batch)
        if progress:
            progress(done, len(pending))
    report.embedded_chunks = done
    report.chunks = collection.count()
    report.embedded_titles = _update_titles(client, settings, embedder, articles, keys)
    hashes = {a.id: a.content_hash for a in articles}
    report.kb_version = kb_version(hashes)
    write_index_files(settings.index_dir, articles, [c for cs in chunks_by_article.values() for c in cs], {
        "kb_version": report.kb_version,
        "embedding_model": embedder.name,
        "embedding_backend": embedding_backend(embedder),  # queries must be embedded the same way (retrieval.py)
        "chunk_max_words": max_words,
        "lexical_dir": lexical_dir_name(report.kb_version, max_words),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "articles": {a.id: {"hash": a.content_hash, "path": a.path, "title": a.title} for a in articles},
    }, old_manifest)
    # Same articles: the same calibration holds, whichever replica fitted it.
    same = next((m for m in (old_manifest, published.manifest if published else {})
                 if m.get("kb_version") == report.kb_version and is_current(m.get("calibration") or {})), None)
    if same:
        manifest = read_manifest(settings.index_dir)
        manifest["calibration"] = same["calibration"]
        write_manifest(settings.index_dir, manifest)
    else:
        _calibrate(settings, embedder)
    if shares_index(settings):
        save_folder_hashes(settings.index_dir, folder)
        if published is None or published.kb_version != report.kb_version:  # the manifest as calibrated
            publish(shared_store(settings), settings.collection, read_manifest(settings.index_dir),
                    {a.id: a.model_dump(mode="json") for a in articles}, publisher(settings))
    return report


def _calibrate(settings: Settings, embedder: Embedder) -> None:
    """Fit the confidence on this knowledge base (knowledge/calibration.py) and keep it in the manifest."""
    from supportgraph.knowledge.calibration import save_self_calibration, self_calibrate
    from supportgraph.knowledge.retrieval import Retriever

    fitted = self_calibrate(Retriever(settings, embedder, follow=False))  # this index, not a published one
    if fitted is not None:
        save_self_calibration(settings, *fitted)


def _chunk_metadata(article: Article, chunk: Chunk, chunk_count: int, key: str) -> dict:
    return {
        "article_id": article.id,
        "article_hash": key,
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

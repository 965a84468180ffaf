"""One index for every replica that shares a Chroma server, whatever their home folders hold.

The vectors are in the server; the rest of an index (the manifest with its calibration, the article
records answers are written from, the BM25 files built from them) is in each home's index folder. With
a Chroma server (``SUPPORTGRAPH_CHROMA_URL``), `supportgraph index` also publishes the manifest and the
article records to the store (store/kb_index.py; PostgreSQL when the replicas are on several machines),
and every replica's Retriever asks the store for the published KB version at most every
``SUPPORTGRAPH_INDEX_CHECK_S``. When it is not the replica's own, the replica rewrites its index folder
from the published row (BM25 rebuilt locally) and reloads it, as after a re-index of its own.

A replica's knowledge folder may be behind: another replica's API saved an edit in its own copy. So an
index run merges per article, three ways: what this folder held when this home last indexed it
(``folder.json``), what it holds now, and what is published. An article only the folder changed is
taken from the folder; one the folder did not change keeps its published version (reported: the folder
is behind); one changed on both sides, differently, is a conflict and nothing is indexed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from supportgraph.config import Settings
from supportgraph.errors import IndexBusyError, IndexConflictError, SupportGraphError
from supportgraph.knowledge.articles import Article
from supportgraph.knowledge.chunking import chunk_article
from supportgraph.knowledge.index_files import read_manifest, write_index_files, write_json
from supportgraph.store.kb_index import Published, published_version, read_published
from supportgraph.store.repository import Store

log = logging.getLogger("supportgraph.index")


def shares_index(settings: Settings) -> bool:
    """Replicas share an index when they share its vectors: a Chroma server."""
    return settings.chroma_url is not None


@functools.lru_cache(maxsize=None)
def _store(url: str) -> Store:
    return Store(url)


def shared_store(settings: Settings) -> Store:
    return _store(settings.database_url)


def publisher(settings: Settings) -> str:
    return f"{socket.gethostname()}:{settings.home}"


@contextlib.contextmanager
def writer_lock(settings: Settings):
    """One indexer per collection across replicas: two writing into one Chroma server at once would
    interleave their deletes and adds. A PostgreSQL advisory lock, held by a connection for the whole run
    and released by the server if the process dies; on SQLite (one machine) the home's file lock does."""
    engine = shared_store(settings).engine
    if engine.dialect.name != "postgresql":
        yield
        return
    key = int.from_bytes(hashlib.sha256(f"supportgraph-index:{settings.collection}".encode()).digest()[:8], "big",
                         signed=True)
    with engine.connect() as connection:
        locked = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        connection.commit()  # the lock is the session's: no transaction stays open while indexing
        if not locked:
            raise IndexBusyError(f"a PostgreSQL advisory lock on collection '{settings.collection}', held by "
                                 "another replica")
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


# --- what this home's knowledge folder held when it was last indexed here ---------------------------------
def folder_hashes(index_dir: Path) -> dict[str, str]:
    path = index_dir / "folder.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save_folder_hashes(index_dir: Path, articles: list[Article]) -> None:
    write_json(index_dir / "folder.json", {a.id: a.content_hash for a in articles})


@dataclass
class Merged:
    articles: list[Article]
    kept_published: list[str] = field(default_factory=list)  # the folder is behind on these


def _folder_stands(ours: str | None, theirs: str | None, last: str | None) -> bool:
    """The folder's copy (hash, None when absent) may be indexed: it is the published one, or nobody
    published a change since this folder was last indexed here (``last``)."""
    return ours == theirs or theirs == last


def merge(folder: list[Article], base: dict[str, str], published: Published | None, where: Path) -> Merged:
    """The articles to index: the folder's changes since ``base`` over the published index (see the module
    docstring); IndexConflictError when an article changed on both sides."""
    if published is None:
        return Merged(folder)
    mine = {a.id: a for a in folder}
    theirs = {aid: entry["hash"] for aid, entry in published.manifest["articles"].items()}
    result = Merged([])
    conflicts = []
    for aid in [a.id for a in folder] + sorted(set(theirs) - set(mine)):
        ours, published_hash, last = (mine[aid].content_hash if aid in mine else None), theirs.get(aid), base.get(aid)
        if _folder_stands(ours, published_hash, last):
            chosen = mine.get(aid)
        elif ours == last:
            chosen = Article(**published.articles[aid]) if published_hash else None
            result.kept_published.append(aid)
        else:
            conflicts.append(aid)
            continue
        if chosen is not None:
            result.articles.append(chosen)
    if conflicts:
        raise IndexConflictError(
            f"{', '.join(conflicts)} changed both in {where} and in the published index, {published.describe()}: "
            "indexing would undo one of the two edits.",
            "make this folder's copy of each the version to keep (the other replica's file, or its history in "
            "`supportgraph kb edits ID`), then index again; `supportgraph index --force` publishes this folder "
            "as it is.")
    return result


def check_not_behind(settings: Settings, article_id: str, current: Article | None, saved: Article | None) -> None:
    """Before a save replaces ``current`` (None: new) with ``saved`` (None: removed): refuse when another
    replica published a change to this article that this folder does not have. The editor was shown the
    old text, and the save could not be indexed anyway (a conflict), so nothing is written."""
    if not shares_index(settings):
        return
    published = read_published(shared_store(settings), settings.collection)
    if published is None:
        return
    theirs = published.manifest["articles"].get(article_id, {}).get("hash")
    ours = current.content_hash if current else None
    if (saved.content_hash if saved else None) == theirs or _folder_stands(ours, theirs, folder_hashes(
            settings.index_dir).get(article_id)):
        return
    raise IndexConflictError(
        f"'{article_id}' was not saved: another replica changed it, {published.describe()}, and "
        f"{settings.knowledge_dir} still has the older copy, which the edit started from.",
        f"bring this folder's copy up to date first (the other replica's file, or the history in `supportgraph kb "
        f"edits {article_id}`), then edit it again.")


# --- following what another replica published ---------------------------------------------------------------
def follow(settings: Settings) -> bool:
    """Make this home's index folder the published index when that is another KB version; whether it did."""
    published = read_published(shared_store(settings), settings.collection)
    local = read_manifest(settings.index_dir)
    if published is None or published.kb_version == local.get("kb_version"):
        return False
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.index_dir / "index.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False  # this home is indexing, and publishes what it builds
    try:
        articles = [Article(**data) for data in published.articles.values()]
        chunks = [c for a in articles for c in chunk_article(a, published.manifest["chunk_max_words"])]
        write_index_files(settings.index_dir, articles, chunks, published.manifest, local,
                          {"published_by": published.published_by})
    finally:
        lock.release()
    log.info("following %s", published.describe())
    return True


class Follower:
    """A Retriever's look at the published version: at most one query every ``index_check_s``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._next = 0.0

    def check(self, current: str) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.settings.index_check_s
        try:
            version = published_version(shared_store(self.settings), self.settings.collection)
            if version is not None and version != current:
                follow(self.settings)
        except (SupportGraphError, SQLAlchemyError, OSError) as error:  # keep serving what we have
            log.warning("cannot follow the published index (%s); still serving KB version %s", error, current)

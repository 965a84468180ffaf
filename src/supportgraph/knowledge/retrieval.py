"""Article-level retrieval over the Chroma index.

Several chunks of one article collapse into one hit that carries its best
passages; an article's score is its best chunk's cosine similarity. Staff-only
articles are filtered out for customers in the query itself, not afterwards.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from supportgraph.config import Settings
from supportgraph.errors import IndexNotBuiltError
from supportgraph.knowledge.articles import Article
from supportgraph.knowledge.embedding import Embedder
from supportgraph.knowledge.index import get_collection, open_chroma, read_manifest


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    section: str
    text: str
    score: float


@dataclass
class Hit:
    article: Article
    score: float
    passages: list[Passage] = field(default_factory=list)


class Retriever:
    """Opens the index lazily (``warm_up``) and reloads article data when the index changes."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._collection = None
        self._articles: dict[str, Article] = {}
        self._manifest_mtime = 0.0
        self._kb_version = ""
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        manifest_path = self.settings.index_dir / "manifest.json"
        if not manifest_path.exists():
            raise IndexNotBuiltError(self.settings.index_dir)
        with self._lock:
            if self._collection is None:
                self._collection = get_collection(open_chroma(self.settings), self.settings.collection)
            mtime = manifest_path.stat().st_mtime
            if mtime != self._manifest_mtime:
                raw = json.loads((self.settings.index_dir / "articles.json").read_text())
                self._articles = {aid: Article(**data) for aid, data in raw.items()}
                self._kb_version = read_manifest(self.settings.index_dir)["kb_version"]
                self._manifest_mtime = mtime

    @property
    def kb_version(self) -> str:
        self.warm_up()
        return self._kb_version

    def article(self, article_id: str) -> Article | None:
        self.warm_up()
        return self._articles.get(article_id)

    def search(self, query: str, k: int = 5, audience: str = "customer",
               exclude: tuple[str, ...] | list[str] = ()) -> list[Hit]:
        self.warm_up()
        vector = self.embedder.embed([query])[0].tolist()
        where: dict = {"audience": audience} if audience == "customer" else {}
        if exclude:
            clause = {"article_id": {"$nin": list(exclude)}}
            where = {"$and": [where, clause]} if where else clause
        result = self._collection.query(query_embeddings=[vector], n_results=k * 4, where=where or None,
                                        include=["documents", "metadatas", "distances"])
        hits: dict[str, Hit] = {}
        for chunk_id, text, meta, distance in zip(result["ids"][0], result["documents"][0],
                                                  result["metadatas"][0], result["distances"][0]):
            article = self._articles.get(meta["article_id"])
            if article is None:  # chunk written by an indexing run that has not finished
                continue
            passage = Passage(chunk_id, meta["section"], text, round(1.0 - distance, 4))
            hit = hits.setdefault(article.id, Hit(article, passage.score))
            hit.passages.append(passage)
        ranked = sorted(hits.values(), key=lambda h: h.score, reverse=True)
        return ranked[:k]

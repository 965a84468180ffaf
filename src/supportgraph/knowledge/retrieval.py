"""Article-level hybrid retrieval: dense (Chroma) + lexical (BM25), fused.

Each retriever ranks chunks; chunks collapse to their article (best chunk
wins, passages kept), and the two article lists are fused: by default a
weighted sum of min-max normalised scores (measured better than reciprocal
rank fusion on both benchmark sets, docs/benchmarks.md), or RRF. Filters (audience, type, product area, tags,
exclusions) become the set of allowed articles, enforced inside both queries:
staff-only articles never enter a customer's candidates.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass, field

import chromadb

from supportgraph.config import Settings
from supportgraph.errors import IndexNotBuiltError
from supportgraph.knowledge.articles import Article
from supportgraph.knowledge.embedding import Embedder
from supportgraph.knowledge.index import (
    get_collection,
    open_chroma,
    read_manifest,
    reset_chroma_clients,
)
from supportgraph.knowledge.lexical import LexicalIndex
from supportgraph.params import RetrievalParams, load_params

CHAT_MIN_SIMILARITY = 0.6  # a resolved chat must be this close to count as "the same issue"
BM25_SQUASH = 5.0  # bm25 / (bm25 + 5): a corpus-independent 0..1 feature for calibration


@dataclass(frozen=True)
class Filters:
    audience: str = "customer"          # customers see customer articles only; "staff" sees all
    types: tuple[str, ...] = ()
    product_areas: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()          # any of these

    def allows(self, article: Article) -> bool:
        return ((self.audience == "staff" or article.audience == "customer")
                and (not self.types or article.type in self.types)
                and (not self.product_areas or article.product_area in self.product_areas)
                and (not self.tags or bool(set(self.tags) & set(article.tags))))


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    section: str
    text: str
    score: float


@dataclass
class Hit:
    article: Article
    score: float                 # what the ranking used (fused, cosine or BM25, by mode)
    dense_score: float = 0.0     # best chunk's cosine similarity
    lexical_score: float = 0.0   # best chunk's BM25 score
    dense_rank: int | None = None
    lexical_rank: int | None = None
    passages: list[Passage] = field(default_factory=list)
    chats: list[str] = field(default_factory=list)  # similar resolved conversations this article fixed


def confidence_features(hits: list[Hit]) -> list[float]:
    """Features of the best hit that predict whether it is right: its cosine, its squashed
    BM25 score, whether both retrievers ranked it first, and its fused-score margin."""
    top = hits[0]
    margin = (top.score - hits[1].score) / top.score if len(hits) > 1 and top.score > 0 else 1.0
    agreement = 1.0 if top.dense_rank == 1 and top.lexical_rank == 1 else 0.0
    return [top.dense_score, top.lexical_score / (top.lexical_score + BM25_SQUASH), agreement, margin]


def _min_max(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return {key: 1.0 for key in scores}
    return {key: (value - low) / (high - low) for key, value in scores.items()}


class Retriever:
    """Opens the index lazily (``warm_up``) and reloads it when the manifest changes."""

    def __init__(self, settings: Settings, embedder: Embedder, params: RetrievalParams | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.params = params or load_params(settings.project_dir).retrieval
        self._collection = None
        self._chats = None
        self._lexical: LexicalIndex | None = None
        self._articles: dict[str, Article] = {}
        self._manifest_mtime = 0.0
        self._kb_version = ""
        self._words: tuple[str, frozenset[str]] = ("", frozenset())
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        manifest_path = self.settings.index_dir / "manifest.json"
        if not manifest_path.exists():
            raise IndexNotBuiltError(self.settings.index_dir)
        with self._lock:
            if self._collection is None:
                self._open()
            mtime = manifest_path.stat().st_mtime
            if mtime != self._manifest_mtime:
                if self._manifest_mtime:  # re-indexed since we opened it, maybe by another process
                    self._reopen()
                manifest = read_manifest(self.settings.index_dir)
                raw = json.loads((self.settings.index_dir / "articles.json").read_text())
                self._articles = {aid: Article(**data) for aid, data in raw.items()}
                self._lexical = LexicalIndex.load(self.settings.index_dir / manifest["lexical_dir"])
                self._kb_version = manifest["kb_version"]
                self._manifest_mtime = mtime

    def _open(self) -> None:
        from supportgraph.knowledge.chats import chats_collection

        self._collection = get_collection(open_chroma(self.settings), self.settings.collection)
        self._chats = chats_collection(self.settings)

    def _reopen(self) -> None:
        reset_chroma_clients()
        self._open()

    @property
    def kb_version(self) -> str:
        self.warm_up()
        return self._kb_version

    @property
    def articles(self) -> dict[str, Article]:
        self.warm_up()
        return self._articles

    def article(self, article_id: str) -> Article | None:
        return self.articles.get(article_id)

    @property
    def words(self) -> frozenset[str]:
        """Every lowercase word of the indexed articles (what the help centre talks about)."""
        self.warm_up()
        if self._words[0] != self._kb_version:
            self._words = (self._kb_version, frozenset(
                word for a in self._articles.values() for word in re.findall(r"[a-z]+", f"{a.title} {a.body}".lower())))
        return self._words[1]

    def search(self, query: str, k: int = 5, filters: Filters = Filters(), exclude: tuple[str, ...] | list[str] = (),
               mode: str | None = None) -> list[Hit]:
        self.warm_up()
        mode = mode or self.params.mode
        allowed = {aid for aid, a in self._articles.items() if filters.allows(a) and aid not in exclude}
        if not allowed:
            return []
        dense, chats = [], {}
        if mode in ("dense", "hybrid"):
            vector = self.embedder.embed([query])[0].tolist()
            try:
                dense, chats = self._dense(vector, allowed), self._chat_support(vector, allowed)
            except chromadb.errors.ChromaError:  # another process rewrote the store under us
                with self._lock:
                    self._reopen()
                dense, chats = self._dense(vector, allowed), self._chat_support(vector, allowed)
        lexical = self._lexical_hits(query, allowed) if mode in ("lexical", "hybrid") else []
        hits = self._merge(dense, lexical, mode)
        for article_id, support in chats.items():  # weighted below the articles' own evidence
            hit = hits.setdefault(article_id, Hit(self._articles[article_id], 0.0))
            hit.chats = [chat_id for chat_id, _ in support]
            hit.score += self.params.chat_weight * self.params.dense_weight * max(sim for _, sim in support)
        return sorted(hits.values(), key=lambda h: h.score, reverse=True)[:k]

    def confidence(self, hits: list[Hit]) -> float:
        """Calibrated probability that the best hit is the right article (0 when there is none)."""
        if not hits:
            return 0.0
        c = self.params.confidence
        weights = (c.dense, c.lexical, c.agreement, c.margin)
        z = c.intercept + sum(w * x for w, x in zip(weights, confidence_features(hits)))
        return round(1.0 / (1.0 + math.exp(-z)), 4)

    def _dense(self, vector: list[float], allowed: set[str]) -> list[tuple[str, Passage]]:
        result = self._collection.query(
            query_embeddings=[vector], n_results=self.params.candidates,
            where={"article_id": {"$in": sorted(allowed)}}, include=["documents", "metadatas", "distances"])
        return [(meta["article_id"], Passage(cid, meta["section"], text, round(1.0 - dist, 4)))
                for cid, text, meta, dist in zip(result["ids"][0], result["documents"][0],
                                                 result["metadatas"][0], result["distances"][0])]

    def _chat_support(self, vector: list[float], allowed: set[str]) -> dict[str, list[tuple[str, float]]]:
        count = self._chats.count()
        if count == 0:
            return {}
        result = self._chats.query(query_embeddings=[vector], n_results=min(5, count),
                                   where={"article_id": {"$in": sorted(allowed)}}, include=["metadatas", "distances"])
        support: dict[str, list[tuple[str, float]]] = {}
        for chat_id, meta, distance in zip(result["ids"][0], result["metadatas"][0], result["distances"][0]):
            if 1.0 - distance >= CHAT_MIN_SIMILARITY and meta["article_id"] in self._articles:
                support.setdefault(meta["article_id"], []).append((chat_id, round(1.0 - distance, 4)))
        return support

    def _lexical_hits(self, query: str, allowed: set[str]) -> list[tuple[str, Passage]]:
        return [(doc.article_id, Passage(doc.chunk_id, doc.section, doc.text, round(score, 4)))
                for doc, score in self._lexical.search(query, self.params.candidates, allowed)]

    def _merge(self, dense, lexical, mode: str) -> dict[str, Hit]:
        hits: dict[str, Hit] = {}
        for source, ranked in (("dense", dense), ("lexical", lexical)):
            rank = 0
            for article_id, passage in ranked:
                article = self._articles.get(article_id)
                if article is None:  # chunk of an indexing run that has not finished
                    continue
                hit = hits.setdefault(article_id, Hit(article, 0.0))
                if getattr(hit, f"{source}_rank") is None:
                    rank += 1
                    setattr(hit, f"{source}_rank", rank)
                    setattr(hit, f"{source}_score", passage.score)
                if all(p.chunk_id != passage.chunk_id for p in hit.passages):
                    hit.passages.append(passage)
        p = self.params
        dense_norm = _min_max({aid: h.dense_score for aid, h in hits.items() if h.dense_rank})
        lexical_norm = _min_max({aid: h.lexical_score for aid, h in hits.items() if h.lexical_rank})
        for aid, hit in hits.items():
            if mode == "dense":
                hit.score = hit.dense_score
            elif mode == "lexical":
                hit.score = hit.lexical_score
            elif p.fusion == "rrf":
                hit.score = sum(weight / (p.rrf_k + rank) for weight, rank in
                                ((p.dense_weight, hit.dense_rank), (p.lexical_weight, hit.lexical_rank)) if rank)
            else:  # min-max normalised scores, weighted; absent from a list counts as that list's minimum
                hit.score = p.dense_weight * dense_norm.get(aid, 0.0) + p.lexical_weight * lexical_norm.get(aid, 0.0)
        return hits

"""Article-level hybrid retrieval over four channels, fused.

The query is cleaned first (knowledge/query.py: no greeting, signature or pasted log; the log's
error codes join the lexical query). Then four channels score articles:

- dense: Chroma over heading-aware chunks (cosine; an article scores its best chunk, whose
  passages are kept);
- titles: Chroma over each article's title and "Title: Heading" per section (what the article says
  it answers; an article scores its closest);
- lexical: BM25 over the same chunks (title and section in each);
- phrase: BM25 over those chunks' stems and adjacent stem pairs (the customer's words in order).

A told problem (not a question) is searched by both dense channels as a whole and without its
circumstances (query.problem_clause), each article keeping its closer match.

Each channel's best articles are normalised per query and summed (knowledge/fusion.py; z-scores
by default, chosen by leave-one-dataset-out, docs/benchmarks.md). Filters (audience, type, product
area, tags, exclusions) become the set of allowed articles, enforced inside every query:
staff-only articles never enter a customer's candidates.
"""

from __future__ import annotations

import functools
import json
import math
import re
import threading
from dataclasses import dataclass, field

import chromadb

from supportgraph.config import Settings
from supportgraph.errors import EmbeddingBackendMismatchError, IndexNotBuiltError
from supportgraph.knowledge.articles import Article
from supportgraph.knowledge.embedding import Embedder, embedding_backend
from supportgraph.knowledge.fusion import fuse
from supportgraph.knowledge.index import (
    get_collection,
    open_chroma,
    read_manifest,
    reset_chroma_clients,
    titles_collection_name,
)
from supportgraph.knowledge.lexical import LexicalIndex, stems
from supportgraph.knowledge.query import clean_query, problem_clause
from supportgraph.knowledge.shared import Follower, shares_index
from supportgraph.params import RetrievalParams, load_params


@functools.lru_cache(maxsize=50_000)
def _passage_terms(text: str) -> frozenset[str]:
    """A passage's stemmed words: the same chunks come back query after query (a fifth of the index-time
    calibration's searches went to stemming them again)."""
    return frozenset(stems(text))


def _closest(matches: list[tuple[str, Passage]]) -> list[tuple[str, Passage]]:
    """Matches of several query vectors as one list, closest first, each chunk once at its best score."""
    seen: set[str] = set()
    ranked = []
    for article_id, passage in sorted(matches, key=lambda match: match[1].score, reverse=True):
        if passage.chunk_id not in seen:
            seen.add(passage.chunk_id)
            ranked.append((article_id, passage))
    return ranked


CHAT_MIN_SIMILARITY = 0.6  # a resolved chat must be this close to count as "the same issue"


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
    score: float                 # what the ranking used (fused, or one channel's raw score by mode)
    dense_score: float = 0.0     # best chunk's cosine similarity
    title_score: float = 0.0     # the cosine similarity of the title, or of a section's "Title: Heading"
    lexical_score: float = 0.0   # best chunk's BM25 score
    phrase_score: float = 0.0    # best chunk's BM25 score over stems and stem pairs
    dense_rank: int | None = None
    title_rank: int | None = None
    lexical_rank: int | None = None
    phrase_rank: int | None = None
    passages: list[Passage] = field(default_factory=list)
    chats: list[str] = field(default_factory=list)  # similar resolved conversations this article fixed
    coverage: float = 0.0        # share of the query's words (IDF-weighted) this article contains
    passage_coverage: float = 0.0  # ...that its best retrieved passage contains (words found together)
    known: float = 0.0           # share of the query's words the knowledge base uses at all
    missing: float = 0.0         # IDF of the rarest question word the article lacks, over log(articles + 1)


class Retriever:
    """Opens the index lazily (``warm_up``) and reloads it when the manifest changes; with a Chroma server,
    it also follows the index other replicas publish (knowledge/shared.py), unless ``follow`` is False."""

    def __init__(self, settings: Settings, embedder: Embedder, params: RetrievalParams | None = None,
                 follow: bool = True) -> None:
        self.settings = settings
        self.embedder = embedder
        self.params = params or load_params(settings.project_dir).retrieval
        self._collection = None
        self._titles = None
        self._chats = None
        self._lexical: LexicalIndex | None = None
        self._articles: dict[str, Article] = {}
        self._manifest: dict = {}
        self._manifest_mtime = 0.0
        self._kb_version = ""
        self._words: tuple[str, frozenset[str]] = ("", frozenset())
        self._terms: dict[str, frozenset[str]] = {}  # article id -> its stemmed words
        self._idf: dict[str, float] = {}
        self._lock = threading.Lock()
        self._follower = Follower(settings) if follow and shares_index(settings) else None

    def warm_up(self) -> None:
        manifest_path = self.settings.index_dir / "manifest.json"
        with self._lock:
            if self._follower:  # rewrites the index folder when another replica published a new version
                self._follower.check(self._kb_version)
            if not manifest_path.exists():
                raise IndexNotBuiltError(self.settings.index_dir)
            if self._collection is None:
                self._open()
            mtime = manifest_path.stat().st_mtime
            if mtime != self._manifest_mtime:
                if self._manifest_mtime:  # re-indexed since we opened it, maybe by another process
                    self._reopen()
                manifest = read_manifest(self.settings.index_dir)
                built, asked = manifest.get("embedding_backend", "torch"), embedding_backend(self.embedder)
                if built != asked:  # e.g. torch chunks searched with int8 query vectors: refuse, do not guess
                    raise EmbeddingBackendMismatchError(self.settings.index_dir, built, asked)
                raw = json.loads((self.settings.index_dir / "articles.json").read_text())
                self._articles = {aid: Article(**data) for aid, data in raw.items()}
                self._lexical = LexicalIndex.load(self.settings.index_dir / manifest["lexical_dir"])
                self._kb_version = manifest["kb_version"]
                self._manifest = manifest
                self._index_terms()
                self._manifest_mtime = mtime

    def _index_terms(self) -> None:
        self._terms = {aid: frozenset(stems(f"{a.title} {a.body}")) for aid, a in self._articles.items()}
        counts: dict[str, int] = {}
        for terms in self._terms.values():
            for term in terms:
                counts[term] = counts.get(term, 0) + 1
        n = len(self._terms)
        self._idf = {term: math.log((n + 1) / (count + 0.5)) for term, count in counts.items()}
        self._unseen_idf = math.log((n + 1) / 0.5)

    def term_weights(self, lexical_query: str) -> dict[str, float]:
        """The query's stemmed words, each weighted by its IDF over the articles (a word no article uses: the most)."""
        self.warm_up()
        return {t: self._idf.get(t, self._unseen_idf) for t in stems(lexical_query)}

    def _cover(self, lexical_query: str, hits: list[Hit]) -> None:
        """Set each hit's coverage of the query, and how much of the query the knowledge base knows."""
        weights = self.term_weights(lexical_query)
        total = sum(weights.values())
        if not total:
            return
        known = sum(w for t, w in weights.items() if t in self._idf) / total
        share = lambda terms: round(sum(w for t, w in weights.items() if t in terms) / total, 4)  # noqa: E731
        # On the scale of this knowledge base's IDFs, so it means the same on ten articles or ten thousand.
        scale = math.log(len(self._terms) + 1) or 1.0
        for hit in hits:
            terms = self._terms.get(hit.article.id, frozenset())
            hit.coverage = share(terms)
            hit.passage_coverage = max((share(_passage_terms(f"{p.section} {p.text}")) for p in hit.passages if p.text),
                                       default=0.0)
            hit.known = round(known, 4)
            hit.missing = round(max((w for t, w in weights.items() if t not in terms), default=0.0) / scale, 4)

    def _open(self) -> None:
        from supportgraph.knowledge.chats import chats_collection

        client = open_chroma(self.settings)
        self._collection = get_collection(client, self.settings.collection)
        self._titles = get_collection(client, titles_collection_name(self.settings.collection))
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

    @property
    def manifest(self) -> dict:
        self.warm_up()
        return self._manifest

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

    def embed_queries(self, queries: list[str]) -> list[list[float]]:
        """Query vectors for many searches in one model call (``search(vector=...)``): batched, not one by one."""
        return self.embedder.embed([clean_query(q).text for q in queries]).tolist() if queries else []

    def search(self, query: str, k: int = 5, filters: Filters = Filters(), exclude: tuple[str, ...] | list[str] = (),
               mode: str | None = None, vector: list[float] | None = None) -> list[Hit]:
        """``vector``: the query's embedding from ``embed_queries``, when it was embedded in a batch."""
        self.warm_up()
        mode = mode or self.params.mode
        allowed = {aid for aid, a in self._articles.items() if filters.allows(a) and aid not in exclude}
        if not allowed:
            return []
        cleaned = clean_query(query)
        found: dict[str, list[tuple[str, Passage]]] = {}
        chats: dict[str, list[tuple[str, float]]] = {}
        if mode in ("dense", "hybrid"):
            if vector is None:
                vector = self.embedder.embed([cleaned.text])[0].tolist()
            vectors = [vector]
            clause = problem_clause(cleaned.text)
            if clause:  # a told problem: its clause is searched too, and each article keeps the closer match
                vectors.append(self.embedder.embed([clause])[0].tolist())
            try:
                found["dense"], found["title"] = self._dense(vectors, allowed), self._title_hits(vectors, allowed)
                chats = self._chat_support(vector, allowed)
            except chromadb.errors.ChromaError:  # another process rewrote the store under us
                with self._lock:
                    self._reopen()
                found["dense"], found["title"] = self._dense(vectors, allowed), self._title_hits(vectors, allowed)
                chats = self._chat_support(vector, allowed)
        if mode in ("lexical", "hybrid"):
            found["lexical"] = self._lexical_hits(cleaned.lexical, allowed)
        if mode == "hybrid":
            found["phrase"] = self._lexical_hits(cleaned.lexical, allowed, phrases=True)
        hits = self._rank(found, mode)
        for article_id, support in chats.items():  # weighted below the articles' own evidence
            hit = hits.setdefault(article_id, Hit(self._articles[article_id], min((h.score for h in hits.values()),
                                                                                   default=0.0)))
            hit.chats = [chat_id for chat_id, _ in support]
            hit.score += self.params.chat_weight * max(sim for _, sim in support)
        best = sorted(hits.values(), key=lambda h: h.score, reverse=True)[:k]
        self._cover(cleaned.lexical, best)
        return best

    def confidence(self, hits: list[Hit]) -> float:
        """Probability that the best hit is the right article (0 when there is none), from the
        calibration fitted on this knowledge base at index time, else params.yaml's."""
        if not hits:
            return 0.0
        from supportgraph.knowledge.calibration import calibration_for, features

        calibration = calibration_for(self.manifest, self.params)
        z = calibration.intercept + sum(w * x for w, x in zip(calibration.weights(), features(hits, self)))
        return round(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))), 4)

    # --- channels ----------------------------------------------------------------------------
    def _dense(self, vectors: list[list[float]], allowed: set[str]) -> list[tuple[str, Passage]]:
        result = self._collection.query(
            query_embeddings=vectors, n_results=self.params.candidates,
            where={"article_id": {"$in": sorted(allowed)}}, include=["documents", "metadatas", "distances"])
        return _closest([(meta["article_id"], Passage(cid, meta["section"], text, round(1.0 - dist, 4)))
                         for q in range(len(vectors))
                         for cid, text, meta, dist in zip(result["ids"][q], result["documents"][q],
                                                          result["metadatas"][q], result["distances"][q])])

    def _title_hits(self, vectors: list[list[float]], allowed: set[str]) -> list[tuple[str, Passage]]:
        count = self._titles.count()
        if count == 0:  # an index built before titles were indexed: the next `index` adds them
            return []
        result = self._titles.query(  # titles and headings: as many entries as the chunk channels fetch
            query_embeddings=vectors, n_results=min(self.params.candidates, count),
            where={"article_id": {"$in": sorted(allowed)}}, include=["metadatas", "distances"])
        return _closest([(meta["article_id"], Passage(f"{meta['article_id']}#title", "", "", round(1.0 - dist, 4)))
                         for q in range(len(vectors))
                         for meta, dist in zip(result["metadatas"][q], result["distances"][q])])

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

    def _lexical_hits(self, query: str, allowed: set[str], phrases: bool = False) -> list[tuple[str, Passage]]:
        search = self._lexical.search_phrases if phrases else self._lexical.search
        return [(doc.article_id, Passage(doc.chunk_id, doc.section, doc.text, round(score, 4)))
                for doc, score in search(query, self.params.candidates, allowed)]

    def _rank(self, found: dict[str, list[tuple[str, Passage]]], mode: str) -> dict[str, Hit]:
        """Collapse each channel's results to articles (best first), keep each channel's best
        ``articles_per_channel``, and score them by ``mode``: fused, or one channel's raw score."""
        hits: dict[str, Hit] = {}
        channel_scores: dict[str, dict[str, float]] = {}
        for channel, ranked in found.items():
            scores: dict[str, float] = {}
            for article_id, passage in ranked:
                article = self._articles.get(article_id)
                if article is None or (article_id not in scores and len(scores) >= self.params.articles_per_channel):
                    continue  # a chunk of an unfinished indexing run, or below the channel's cut
                hit = hits.setdefault(article_id, Hit(article, 0.0))
                if article_id not in scores:
                    scores[article_id] = passage.score
                    setattr(hit, f"{channel}_rank", len(scores))
                    setattr(hit, f"{channel}_score", passage.score)
                if channel != "title" and all(p.chunk_id != passage.chunk_id for p in hit.passages):
                    hit.passages.append(passage)
            channel_scores[channel] = scores
        p = self.params
        if mode == "hybrid":
            weights = {"dense": p.dense_weight, "title": p.title_weight, "lexical": p.lexical_weight,
                       "phrase": p.phrase_weight}
            fused = fuse(channel_scores, weights, p.fusion, p.rrf_k)
            for article_id, hit in hits.items():
                hit.score = fused[article_id]
        else:
            channel = "lexical" if mode == "lexical" else "dense"
            hits = {aid: hit for aid, hit in hits.items() if aid in channel_scores.get(channel, {})}
            for article_id, hit in hits.items():
                hit.score = channel_scores[channel][article_id]
        return hits

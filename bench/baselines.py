"""What a user would pick instead of supportgraph, and supportgraph as it is today.

Each method indexes one benchmark set; `search(query, embedder, with_candidates)` returns a
`Ranking`: article ids, best first (what the metrics and the latency see), and, when asked, the
raw dense / BM25 candidates with their scores (what the offline dump keeps, so fusion and
confidence can be tried later without re-embedding). The embedder embeds the query: a cached one
for quality runs, the live model for timing.

1. LangChainDense: RecursiveCharacterTextSplitter(1000, 200), MiniLM vectors in a Chroma
   collection (cosine, Chroma's default HNSW settings), best chunks collapsed to articles by first
   appearance.
2. ArticleBM25: bm25s over whole articles (title + body), English Snowball stemmer, English stopwords.
3. PlainRRF: reciprocal rank fusion (k=60) of 1 and 2.
4. SupportGraphToday: supportgraph's own index (build_index) and hybrid Retriever, as in production.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import chromadb
import Stemmer

from supportgraph.config import Settings
from supportgraph.knowledge.articles import Article
from supportgraph.knowledge.index import build_index
from supportgraph.knowledge.retrieval import Retriever
from supportgraph.params import load_params

CANDIDATES = 50  # chunks (or articles) kept per retriever for ranking and for the dump
RRF_K = 60
_STEMMER = Stemmer.Stemmer("english")


@dataclass(frozen=True)
class Candidate:
    article_id: str
    chunk_id: str
    score: float


@dataclass(frozen=True)
class Candidates:
    """One retriever's best chunks for a query, best first."""

    chunks: list[Candidate]

    def article_scores(self) -> dict[str, float]:
        """Each article's best chunk score, in order of first appearance."""
        best: dict[str, float] = {}
        for c in self.chunks:
            best.setdefault(c.article_id, c.score)
        return best

    def ranked_articles(self) -> list[str]:
        return list(self.article_scores())


@dataclass(frozen=True)
class Ranking:
    articles: list[str]                                  # best first
    candidates: dict[str, Candidates] = field(default_factory=dict)  # "dense" / "bm25" -> raw candidates


def article_text(article: Article) -> str:
    """The whole article as a user's loader would hand it over: its title as a heading, then the body."""
    body = article.body.strip()
    return body if body.startswith("# ") else f"# {article.title}\n\n{body}"


class LangChainDense:
    name = "langchain-dense"
    chunker = "langchain-recursive-1000-200"

    def __init__(self, set_name: str, articles: list[Article], chunk_embedder) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        ids, texts, metas = [], [], []
        for article in articles:
            for n, text in enumerate(splitter.split_text(article_text(article))):
                ids.append(f"{article.id}#lc{n}")
                texts.append(text)
                metas.append({"article_id": article.id})
        vectors = chunk_embedder.embed(texts)
        client = chromadb.EphemeralClient(chromadb.config.Settings(anonymized_telemetry=False))
        self.collection = client.create_collection(f"bench-{set_name}-{uuid.uuid4().hex[:8]}",
                                                   embedding_function=None, metadata={"hnsw:space": "cosine"})
        for start in range(0, len(ids), 1000):
            self.collection.add(ids=ids[start:start + 1000], embeddings=vectors[start:start + 1000].tolist(),
                                metadatas=metas[start:start + 1000], documents=texts[start:start + 1000])
        self.chunk_count = len(ids)

    def dense(self, query: str, embedder) -> Candidates:
        vector = embedder.embed([query])[0].tolist()
        result = self.collection.query(query_embeddings=[vector], n_results=min(CANDIDATES, self.chunk_count),
                                       include=["metadatas", "distances"])
        return Candidates([Candidate(meta["article_id"], cid, round(1.0 - dist, 4)) for cid, meta, dist
                           in zip(result["ids"][0], result["metadatas"][0], result["distances"][0])])

    def search(self, query: str, embedder, with_candidates: bool = False) -> Ranking:
        found = self.dense(query, embedder)
        return Ranking(found.ranked_articles(), {"dense": found})

    def best_chunk(self, query: str, embedder) -> str:
        """The text a tutorial RAG app would paste as its answer: the nearest chunk."""
        vector = embedder.embed([query])[0].tolist()
        return self.collection.query(query_embeddings=[vector], n_results=1, include=["documents"])["documents"][0][0]


class ArticleBM25:
    name = "bm25-articles"

    def __init__(self, articles: list[Article]) -> None:
        self.ids = [a.id for a in articles]
        self.model = bm25s.BM25()
        self.model.index(_tokenize([f"{a.title}\n{a.body}" for a in articles]), show_progress=False)

    def lexical(self, query: str) -> Candidates:
        tokens = _tokenize([query])
        if not tokens.vocab:
            return Candidates([])
        found, scores = self.model.retrieve(tokens, k=min(CANDIDATES, len(self.ids)), show_progress=False)
        return Candidates([Candidate(self.ids[i], self.ids[i], round(float(s), 4))
                           for i, s in zip(found[0], scores[0]) if s > 0])

    def search(self, query: str, embedder=None, with_candidates: bool = False) -> Ranking:
        found = self.lexical(query)
        return Ranking(found.ranked_articles(), {"bm25": found})


def _tokenize(texts: list[str]):
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, show_progress=False)


def reciprocal_rank_fusion(rankings: list[list[str]], k: float = RRF_K) -> list[str]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, article_id in enumerate(ranking, 1):
            scores[article_id] = scores.get(article_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda a: scores[a], reverse=True)


class PlainRRF:
    name = "rrf-dense-bm25"

    def __init__(self, dense: LangChainDense, lexical: ArticleBM25) -> None:
        self.dense_method, self.lexical_method = dense, lexical

    def search(self, query: str, embedder, with_candidates: bool = False) -> Ranking:
        dense, lexical = self.dense_method.search(query, embedder), self.lexical_method.search(query)
        return Ranking(reciprocal_rank_fusion([dense.articles, lexical.articles]),
                       dense.candidates | lexical.candidates)


class SupportGraphToday:
    """supportgraph's index and hybrid Retriever with the parameters in params.yaml, as bench/retrieval.py runs them."""

    name = "supportgraph"

    def __init__(self, project_dir: Path, knowledge: Path, home: Path, chunk_embedder) -> None:
        self.settings = Settings(project_dir=project_dir, home=home, knowledge_dir=knowledge)
        self.max_words = load_params(project_dir).knowledge.chunk_max_words
        self.report = build_index(self.settings, chunk_embedder, max_words=self.max_words)
        self._params = load_params(project_dir).retrieval
        self._retrievers: dict[tuple[int, bool], Retriever] = {}

    @classmethod
    def chunker(cls, project_dir: Path) -> str:
        return f"supportgraph-{load_params(project_dir).knowledge.chunk_max_words}w"

    def _retriever(self, embedder, wide: bool = False) -> Retriever:
        """One Retriever per query embedder; `wide` fetches CANDIDATES chunks per retriever for the dump."""
        key = (id(embedder), wide)
        if key not in self._retrievers:
            params = self._params.model_copy(update={"candidates": CANDIDATES}) if wide else self._params
            self._retrievers[key] = Retriever(self.settings, embedder, params)
        return self._retrievers[key]

    def search(self, query: str, embedder, with_candidates: bool = False) -> Ranking:
        articles = [hit.article.id for hit in self._retriever(embedder).search(query, k=10)]
        return Ranking(articles, self._candidates(query, embedder) if with_candidates else {})

    def _candidates(self, query: str, embedder) -> dict[str, Candidates]:
        """Its dense and lexical retrievers' own best chunks, each asked separately (the hybrid search mixes them)."""
        retriever = self._retriever(embedder, wide=True)
        found = {}
        for mode, source in (("dense", "dense"), ("lexical", "bm25")):
            passages = [(hit.article.id, p) for hit in retriever.search(query, k=CANDIDATES, mode=mode)
                        for p in hit.passages]
            passages.sort(key=lambda item: item[1].score, reverse=True)
            found[source] = Candidates([Candidate(aid, p.chunk_id, p.score) for aid, p in passages[:CANDIDATES]])
        return found

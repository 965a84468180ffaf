"""Retrieval lab (not a test): score retrieval designs on every benchmark set with exact search,
and choose by leave-one-dataset-out (LODO).

For each set it builds, once, the channels a design can combine, each as a (questions x articles)
score matrix: dense similarity of the best chunk / of the best two / of the title / of the title or a
section's "Title: Heading" (`dense_heading`), BM25 of the best chunk, of the whole article and of the
title; `*_clause` channels also match a told problem without its circumstances (query.problem_clause).
A design is a few of those channels and a way to fuse them. For each held-out set, the design is picked on the *other* sets (mean hit@1 +
MRR@10) and reported on the held-out one: the figure a new help centre would see.

    PYTHONPATH=src:. .venv/bin/python bench/retrieval_lab.py [--sets ...] [--chunk-words 80]
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from embedding_cache import (
    CachedEmbedder,  # noqa: E402
    product_embedder,  # noqa: E402
)
from sets import BENCH_CACHE, benchmark_sets  # noqa: E402

from supportgraph.knowledge.chunking import chunk_article  # noqa: E402
from supportgraph.knowledge.query import clean_query, problem_clause  # noqa: E402

CACHE = BENCH_CACHE
_STEMMER = Stemmer.Stemmer("english")
TOP = 40  # candidates per channel, as the retriever fetches


def _tokens(texts: list[str]):
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, show_progress=False)


def _bm25_matrix(corpus: list[str], queries: list[str]) -> np.ndarray:
    model = bm25s.BM25()
    model.index(_tokens(corpus), show_progress=False)
    scores = np.zeros((len(queries), len(corpus)), dtype=np.float32)
    for row, query in enumerate(queries):
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=_STEMMER, show_progress=False, return_ids=False)[0]
        if tokens:
            scores[row] = model.get_scores(tokens)
    return scores


def terms(text: str) -> list[str]:
    """The stems, then each adjacent pair of them as one more term ("charg_twice"): a phrase signal."""
    words = bm25s.tokenize([text], stopwords="en", stemmer=_STEMMER, show_progress=False, return_ids=False)[0]
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:])]


def _bm25_bigram_matrix(corpus: list[str], queries: list[str]) -> np.ndarray:
    """BM25 over stems and adjacent stem pairs (supportgraph's phrase channel, knowledge/lexical.py)."""
    model = bm25s.BM25()
    model.index([terms(text) for text in corpus], show_progress=False)
    vocab = model.vocab_dict
    scores = np.zeros((len(queries), len(corpus)), dtype=np.float32)
    for row, query in enumerate(queries):
        tokens = [t for t in terms(query) if t in vocab]
        if tokens:
            scores[row] = model.get_scores(tokens)
    return scores


def _per_article(chunk_scores: np.ndarray, owner: np.ndarray, n_articles: int, top: int = 1) -> np.ndarray:
    """Each article's best chunk score (top=1) or the mean of its best `top` chunks."""
    out = np.full((chunk_scores.shape[0], n_articles), -1.0, dtype=np.float32)
    for article in range(n_articles):
        columns = chunk_scores[:, owner == article]
        if columns.shape[1] == 0:
            continue
        best = np.sort(columns, axis=1)[:, ::-1][:, :top]
        out[:, article] = best.mean(axis=1) if top > 1 else best[:, 0]
    return out


@dataclass
class SetChannels:
    name: str
    article_ids: list[str]
    relevant: list[set[int]]          # per question: indexes of its source articles (empty: unanswerable)
    channels: dict[str, np.ndarray]   # name -> (questions x articles)
    questions: list[str]              # as the retrievers read them
    articles: list = None             # the Article objects, in column order

    @property
    def answerable(self) -> np.ndarray:
        return np.array([bool(r) for r in self.relevant])


GREETINGS = ["Hi team,", "Hello,", "Good morning support,", "Hey there!", "Dear Sir or Madam,", ""]
CONTEXT = ["I've been trying to sort this out all morning and I'm getting nowhere.",
           "We are a small team and this is blocking our work today.",
           "I looked through your help pages but couldn't find anything that matched.", ""]
LOGS = ["ERROR 2026-11-30 14:02:11,338 [main] c.k.sync.Worker - request failed: status=500 code=E_TIMEOUT\n"
        "    at com.kite.sync.Worker.run(Worker.java:88)\n    at java.lang.Thread.run(Thread.java:829)",
        "Console output:\n> GET /api/v2/items?page=3 500 (Internal Server Error)\n> Uncaught (in promise) TypeError: "
        "Cannot read properties of undefined (reading 'id')", "", ""]
SIGNATURES = ["Thanks,\nJohn Smith\nOperations Manager | Acme Ltd | +44 20 7946 0000", "Cheers, Priya",
              "Best regards,\nM. Keller\nSent from my iPhone", ""]


def noisy(question: str, seed: str) -> str:
    """The question as a customer e-mail: greeting, context, a pasted log, a signature (deterministic)."""
    rng = np.random.default_rng(int.from_bytes(seed.encode()[:8].ljust(8, b"_"), "little"))
    parts = [rng.choice(GREETINGS), rng.choice(CONTEXT), question, rng.choice(LOGS), rng.choice(SIGNATURES)]
    return "\n\n".join(p for p in parts if p)


# The problem told before its context: "I was charged twice | this month for my subscription". Cut at the first
# word that opens a circumstance, once three words are said (phrasal particles such as "on" are not cut at).
_CONTEXT_OPENER = re.compile(r"\s+\b(?:for|this|last|since|after|before|when|because|while|during|every|each|"
                             r"today|yesterday|with|from|even though|although)\b", re.IGNORECASE)


def core_clause(question: str) -> str:
    """The question up to its first circumstance (the whole question when there is none, or too little before it)."""
    for m in _CONTEXT_OPENER.finditer(question):
        if len(question[:m.start()].split()) >= 3:
            return question[:m.start()]
    return question


def build_channels(bench_set, embedder, chunk_words: int, noise: bool = False, clean: bool = False) -> SetChannels:
    articles = bench_set.articles()
    ids = [a.id for a in articles]
    index = {aid: i for i, aid in enumerate(ids)}
    cases = [c for c in bench_set.cases() if not c.answerable or set(c.sources) & set(index)]
    questions = [noisy(c.question, c.id) if noise else c.question for c in cases]
    cleaned = [clean_query(q) for q in questions] if clean else None
    lexical_questions = [q.lexical for q in cleaned] if cleaned else questions
    questions = [q.text for q in cleaned] if cleaned else questions
    chunks = [(index[a.id], c) for a in articles for c in chunk_article(a, chunk_words)]
    owner = np.array([i for i, _ in chunks])
    title_of = {a.id: a.title for a in articles}
    chunk_texts = [c.embed_text(title_of[ids[i]]) for i, c in chunks]
    embed = lambda kind, texts: CachedEmbedder(embedder, CACHE, bench_set.name, kind)  # noqa: E731
    chunk_cache, query_cache, title_cache = (embed(k, None) for k in
                                             (f"supportgraph-{chunk_words}w", "queries", "titles"))
    chunk_vectors = chunk_cache.embed(chunk_texts)
    query_vectors = query_cache.embed(questions)
    title_vectors = title_cache.embed([a.title for a in articles])
    for cache in (chunk_cache, query_cache, title_cache):
        cache.save()
    dense_chunks = query_vectors @ chunk_vectors.T
    lexical_chunks = _bm25_matrix([f"{title_of[ids[i]]} {c.section} {c.text}" for i, c in chunks], lexical_questions)
    channels = {
        "dense": _per_article(dense_chunks, owner, len(ids)),
        "dense_top2": _per_article(dense_chunks, owner, len(ids), top=2),
        "dense_title": query_vectors @ title_vectors.T,
        "bm25": _per_article(lexical_chunks, owner, len(ids)),
        "bm25_article": _bm25_matrix([f"{a.title}\n{a.body}" for a in articles], lexical_questions),
        "bm25_title": _bm25_matrix([a.title for a in articles], lexical_questions),
        "bm25_bigram": _per_article(_bm25_bigram_matrix([f"{title_of[ids[i]]} {c.section} {c.text}" for i, c in chunks],
                                                        lexical_questions), owner, len(ids)),
        "title_phrase": _bm25_bigram_matrix([a.title for a in articles], lexical_questions),
    }
    cores = [core_clause(q) for q in questions]
    core_cache = embed("queries-core", None)
    core_vectors = core_cache.embed(cores)
    core_cache.save()
    channels["dense_core"] = _per_article(core_vectors @ chunk_vectors.T, owner, len(ids))
    channels["title_core"] = core_vectors @ title_vectors.T
    channels["dense_maxcore"] = np.maximum(channels["dense"], channels["dense_core"])
    channels["title_maxcore"] = np.maximum(channels["dense_title"], channels["title_core"])
    # A told problem's clause without its circumstances (knowledge/query.py), as the better of it and the
    # whole message; questions, and statements with nothing to cut, keep the whole message's scores.
    clauses = [problem_clause(q) for q in questions]
    told = np.array([c is not None for c in clauses])
    clause_cache = embed("queries-clause", None)
    clause_vectors = clause_cache.embed([c or q for c, q in zip(clauses, questions)])
    clause_cache.save()
    for name, whole, of_clause in (("dense_clause", channels["dense"], _per_article(clause_vectors @ chunk_vectors.T,
                                                                                  owner, len(ids))),
                                   ("title_clause", channels["dense_title"], clause_vectors @ title_vectors.T)):
        channels[name] = np.where(told[:, None], np.maximum(whole, of_clause), whole)
    # Titles and section headings as one channel: an article's best of "Title" and "Title: Heading".
    headed = [(i, f"{a.title}: {sec.heading}") for i, a in enumerate(articles) for sec in a.sections()[1:]
              if sec.heading.strip()]
    heading_cache = embed("headings", None)
    heading_vectors = heading_cache.embed([text for _, text in headed]) if headed else np.empty((0, 1))
    heading_cache.save()
    channels["dense_heading"] = channels["dense_title"].copy()
    channels["heading_clause"] = channels["title_clause"].copy()
    if headed:
        heading_owner = np.array([i for i, _ in headed])
        channels["dense_heading"] = np.maximum(channels["dense_title"], _per_article(
            query_vectors @ heading_vectors.T, heading_owner, len(ids)))
        of_clause = _per_article(clause_vectors @ heading_vectors.T, heading_owner, len(ids))
        channels["heading_clause"] = np.maximum(channels["dense_heading"], np.where(
            told[:, None], np.maximum(channels["title_clause"], of_clause), -1.0))
    channels["coverage"] = _coverage([f"{a.title} {a.body}" for a in articles], lexical_questions)
    channels["title_coverage"] = _coverage([a.title for a in articles], lexical_questions)
    # Rocchio on the dense side: the query moved towards its three best chunks.
    best = np.argsort(-dense_chunks, axis=1)[:, :3]
    moved = query_vectors + 0.5 * chunk_vectors[best].mean(axis=1)
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    channels["dense_prf"] = _per_article(moved @ chunk_vectors.T, owner, len(ids))
    centroids = np.stack([chunk_vectors[owner == i].mean(axis=0) for i in range(len(ids))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    channels["dense_centroid"] = query_vectors @ centroids.T
    channels["dense_top3"] = _per_article(dense_chunks, owner, len(ids), top=3)
    relevant = [{index[s] for s in c.sources if s in index} if c.answerable else set() for c in cases]
    return SetChannels(bench_set.name, ids, relevant, channels, lexical_questions, articles)


def _stems(text: str) -> set[str]:
    return set(bm25s.tokenize([text], stopwords="en", stemmer=_STEMMER, show_progress=False, return_ids=False)[0])


def _coverage(corpus: list[str], queries: list[str]) -> np.ndarray:
    """IDF-weighted share of each query's words that the article contains."""
    docs = [_stems(text) for text in corpus]
    df: dict[str, int] = {}
    for doc in docs:
        for term in doc:
            df[term] = df.get(term, 0) + 1
    out = np.zeros((len(queries), len(docs)), dtype=np.float32)
    for row, query in enumerate(queries):
        terms = _stems(query)
        idf = {t: np.log((len(docs) + 1) / (df.get(t, 0) + 0.5)) for t in terms}
        total = sum(idf.values()) or 1.0
        for col, doc in enumerate(docs):
            out[row, col] = sum(w for t, w in idf.items() if t in doc) / total
    return out


# --- fusion -----------------------------------------------------------------------------------
def _top_mask(scores: np.ndarray, top: int = TOP) -> np.ndarray:
    """True for each question's `top` best articles in a channel (what a retriever would fetch)."""
    order = np.argsort(-scores, axis=1)[:, :top]
    mask = np.zeros_like(scores, dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask


def minmax(scores: np.ndarray) -> np.ndarray:
    mask = _top_mask(scores)
    low = np.where(mask, scores, np.inf).min(axis=1, keepdims=True)
    high = np.where(mask, scores, -np.inf).max(axis=1, keepdims=True)
    normed = (scores - low) / np.maximum(high - low, 1e-9)
    return np.where(mask, normed, 0.0)


def zscore(scores: np.ndarray) -> np.ndarray:
    mask = _top_mask(scores)
    values = np.where(mask, scores, np.nan)
    mean, std = np.nanmean(values, axis=1, keepdims=True), np.nanstd(values, axis=1, keepdims=True)
    return np.where(mask, (scores - mean) / np.maximum(std, 1e-9), np.nanmin((values - mean) / np.maximum(std, 1e-9),
                                                                             axis=1, keepdims=True))


def rrf(scores: np.ndarray, k: float = 60.0) -> np.ndarray:
    ranks = np.argsort(np.argsort(-scores, axis=1), axis=1) + 1
    return np.where(_top_mask(scores), 1.0 / (k + ranks), 0.0)


NORMS = {"minmax": minmax, "zscore": zscore, "rrf": rrf, "rrf10": lambda s: rrf(s, 10.0)}


@dataclass(frozen=True)
class Design:
    channels: tuple[str, ...]
    norm: str
    weights: tuple[float, ...] = ()

    @property
    def name(self) -> str:
        weights = self.weights or (1.0,) * len(self.channels)
        parts = [f"{w:g}*{c}" if w != 1 else c for c, w in zip(self.channels, weights)]
        return f"{self.norm}({' + '.join(parts)})"

    def scores(self, s: SetChannels) -> np.ndarray:
        weights = self.weights or (1.0,) * len(self.channels)
        if self.norm == "none":
            return s.channels[self.channels[0]]
        return sum(w * NORMS[self.norm](s.channels[c]) for c, w in zip(self.channels, weights))


def evaluate(design: Design, s: SetChannels) -> dict[str, float]:
    rows = s.answerable
    order = np.argsort(-design.scores(s)[rows], axis=1)[:, :10]
    relevants = [r for r in s.relevant if r]
    hit1 = hit5 = mrr = 0.0
    for ranking, relevant in zip(order, relevants):
        ranks = [r for r, article in enumerate(ranking, 1) if article in relevant]
        hit1 += bool(ranks and ranks[0] == 1)
        hit5 += bool(ranks and ranks[0] <= 5)
        mrr += 1.0 / ranks[0] if ranks else 0.0
    n = len(relevants)
    return {"hit@1": hit1 / n, "hit@5": hit5 / n, "MRR@10": mrr / n}


def designs() -> list[Design]:
    found = [Design(("dense",), "none"), Design(("bm25",), "none"), Design(("bm25_article",), "none"),
             Design(("dense_clause", "heading_clause", "bm25", "bm25_bigram"), "zscore", (1, 1, 0.5, 0.5)),  # shipped
             Design(("dense", "dense_title", "bm25", "bm25_bigram"), "zscore", (1, 1, 0.5, 0.5))]  # shipped before
    dense_options = (("dense",), ("dense_top2",), ("dense", "dense_title"), ("dense_top2", "dense_title"))
    lexical_options = (("bm25",), ("bm25_article",), ("bm25", "bm25_title"), ("bm25", "bm25_article"))
    for norm in NORMS:
        for dense, lexical in itertools.product(dense_options, lexical_options):
            found.append(Design(dense + lexical, norm))
    found.append(Design(("dense", "dense_title", "bm25_bigram"), "zscore"))
    found.append(Design(("dense", "dense_title", "bm25", "title_phrase"), "zscore"))
    found.append(Design(("dense", "dense_title", "bm25", "title_phrase"), "zscore", (1, 1, 1, 0.5)))
    found.append(Design(("dense", "dense_title", "bm25_bigram", "title_phrase"), "zscore", (1, 1, 1, 0.5)))
    found.append(Design(("dense_maxcore", "title_maxcore", "bm25"), "zscore"))
    found.append(Design(("dense", "dense_heading", "bm25", "bm25_bigram"), "zscore", (1, 1, 0.5, 0.5)))
    found.append(Design(("dense", "dense_title", "dense_heading", "bm25", "bm25_bigram"), "zscore",
                        (1, 0.5, 0.5, 0.5, 0.5)))
    for dense, title in (("dense", "title_clause"), ("dense_clause", "dense_title"), ("dense_clause", "title_clause")):
        found.append(Design((dense, title, "bm25", "bm25_bigram"), "zscore", (1, 1, 0.5, 0.5)))
    found.append(Design(("dense", "title_maxcore", "bm25"), "zscore"))
    for extra in (("dense_core",), ("title_core",), ("dense_core", "title_core")):
        found.append(Design(("dense", "dense_title", "bm25") + extra, "zscore", (1, 1, 1) + (0.5,) * len(extra)))
    for extra in (("coverage",), ("title_coverage",), ("bm25_title",)):
        found.append(Design(("dense", "dense_title", "bm25") + extra, "zscore"))
        found.append(Design(("dense", "dense_title", "bm25") + extra, "zscore", (1, 1, 1, 0.5)))
    return found


def lodo(sets: list[SetChannels], candidates: list[Design]) -> None:
    table = {(d.name, s.name): evaluate(d, s) for d in candidates for s in sets}
    objective = lambda d, names: np.mean([table[(d.name, n)]["hit@1"] + table[(d.name, n)]["MRR@10"]  # noqa: E731
                                          for n in names])
    print("\n### Leave one dataset out\n")
    print("| held out | design chosen on the others | hit@1 | hit@5 | MRR@10 | shipped hit@1 | best possible hit@1 |")
    print("|---|---|---|---|---|---|---|")
    today = candidates[3]  # what supportgraph ships (params.yaml)
    for held in sets:
        others = [s.name for s in sets if s is not held]
        chosen = max(candidates, key=lambda d: objective(d, others))
        best = max(table[(d.name, held.name)]["hit@1"] for d in candidates)
        got = table[(chosen.name, held.name)]
        print(f"| {held.name} | `{chosen.name}` | {got['hit@1']:.3f} | {got['hit@5']:.3f} | {got['MRR@10']:.3f} | "
              f"{table[(today.name, held.name)]['hit@1']:.3f} | {best:.3f} |")
    everyone = [s.name for s in sets]
    print("\n### Best designs over all sets (mean hit@1 + MRR@10)\n")
    print("| design | " + " | ".join(f"{n} hit@1 / MRR" for n in everyone) + " |")
    print("|---|" + "---|" * len(everyone))
    for d in sorted(candidates, key=lambda d: -objective(d, everyone))[:12] + [today]:
        cells = [f"{table[(d.name, n)]['hit@1']:.3f} / {table[(d.name, n)]['MRR@10']:.3f}" for n in everyone]
        print(f"| `{d.name}` | " + " | ".join(cells) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="", help="comma-separated set names (default: all)")
    parser.add_argument("--chunk-words", type=int, default=80)
    parser.add_argument("--noisy", action="store_true", help="questions wrapped as e-mails with logs and signatures")
    parser.add_argument("--clean", action="store_true", help="clean queries first (knowledge/query.py)")
    args = parser.parse_args()
    wanted = set(filter(None, args.sets.split(",")))
    embedder = product_embedder()
    sets = [build_channels(s, embedder, args.chunk_words, args.noisy, args.clean) for s in benchmark_sets()
            if not wanted or s.name in wanted]
    lodo(sets, designs())
    lodo_learned(sets)
    return 0



# --- learned fusion ---------------------------------------------------------------------------
LTR_CHANNELS = ("dense", "dense_top2", "dense_title", "bm25", "bm25_article", "bm25_title")
LTR_EXTRA = ("coverage", "title_coverage", "dense_prf")


def ltr_features(s: SetChannels, channels: tuple[str, ...] = LTR_CHANNELS) -> tuple[np.ndarray, np.ndarray]:
    """(questions x articles x features): each channel's z-score among the question's candidates and
    its reciprocal rank, and the mask of candidates (any channel's top 40)."""
    mask = np.zeros_like(s.channels["dense"], dtype=bool)
    for c in channels:
        mask |= _top_mask(s.channels[c])
    feats = []
    for c in channels:
        feats.append(zscore(s.channels[c]))
        ranks = np.argsort(np.argsort(-s.channels[c], axis=1), axis=1) + 1
        feats.append(1.0 / ranks)
    return np.stack(feats, axis=2), mask


def fit_ltr(train: list[SetChannels], channels: tuple[str, ...] = LTR_CHANNELS):
    from sklearn.linear_model import LogisticRegression

    xs, ys = [], []
    for s in train:
        feats, mask = ltr_features(s, channels)
        for row, relevant in enumerate(s.relevant):
            if not relevant:
                continue
            cols = np.flatnonzero(mask[row])
            xs.append(feats[row, cols])
            ys.append(np.isin(cols, list(relevant)).astype(int))
    x, y = np.concatenate(xs), np.concatenate(ys)
    # Each set weighs the same, however many questions it has.
    return LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(x, y)


@dataclass(frozen=True)
class Learned:
    model: object
    channels: tuple[str, ...] = LTR_CHANNELS
    name: str = "learned"

    def scores(self, s: SetChannels) -> np.ndarray:
        feats, mask = ltr_features(s, self.channels)
        flat = self.model.decision_function(feats.reshape(-1, feats.shape[2])).reshape(mask.shape)
        return np.where(mask, flat, -1e9)


def lodo_learned(sets: list[SetChannels]) -> None:
    print("\n### Learned fusion, leave one dataset out (logistic on z-scores and reciprocal ranks)\n")
    variants = {"six channels": LTR_CHANNELS, "+ coverage": LTR_CHANNELS + ("coverage", "title_coverage"),
                "+ coverage + prf": LTR_CHANNELS + LTR_EXTRA, "dense+title+bm25": ("dense", "dense_title", "bm25"),
                "+ centroid + top3": LTR_CHANNELS + ("dense_centroid", "dense_top3"),
                "dense+title+bm25+bm25_title+centroid": ("dense", "dense_title", "bm25", "bm25_title", "dense_centroid"),
                "prf alone (fixed)": None}
    print("| features | " + " | ".join(s.name for s in sets) + " | mean hit@1 |\n|---|" + "---|" * (len(sets) + 1))
    for label, channels in variants.items():
        cells = []
        for held in sets:
            if channels is None:
                got = evaluate(Design(("dense_prf",), "none"), held)
            else:
                got = evaluate(Learned(fit_ltr([s for s in sets if s is not held], channels), channels), held)
            cells.append(got)
        print(f"| {label} | " + " | ".join(f"{c['hit@1']:.3f} / {c['MRR@10']:.3f}" for c in cells)
              + f" | {np.mean([c['hit@1'] for c in cells]):.3f} |")


if __name__ == "__main__":
    sys.exit(main())

"""BM25 over the same chunks as the dense index (bm25s with Snowball stemming), twice: over the
stems ("lexical"), and over the stems plus each adjacent pair of them ("phrase": "charg_twice",
"billing_date"), which rewards a chunk that has the customer's words in the customer's order.
The two are separate channels of the fusion (retrieval.py), each at half the weight of plain BM25:
chosen by leave-one-dataset-out over four sets (bench/retrieval_lab.py, docs/benchmarks.md).

Built at index time and saved beside the Chroma store in a folder named after
the KB version; the manifest names the current one, so a reader never sees a
half-written index and a killed writer leaves the previous one in place.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

_STEMMER = Stemmer.Stemmer("english")
# Part of the folder's name (index_files.py): an index built before the phrase model gets a new
# folder on its next `supportgraph index`; a folder without it is searched without the phrase channel.
LEXICAL_FORMAT = 2


@dataclass(frozen=True)
class LexicalDoc:
    chunk_id: str
    article_id: str
    section: str
    text: str


def _tokenize(texts: list[str]):
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, show_progress=False)


def stems(text: str) -> list[str]:
    """The words BM25 reads: lowercased, English stopwords out, Snowball-stemmed."""
    return bm25s.tokenize([text], stopwords="en", stemmer=_STEMMER, show_progress=False, return_ids=False)[0]


def phrase_terms(text: str) -> list[str]:
    """The stems, then each adjacent pair of them as one more term ("charg_twice")."""
    words = stems(text)
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:])]


class LexicalIndex:
    def __init__(self, model: bm25s.BM25 | None, docs: list[LexicalDoc], phrase: bm25s.BM25 | None = None) -> None:
        self.model = model
        self.docs = docs
        self.phrase = phrase  # None in a folder written before LEXICAL_FORMAT 2

    @classmethod
    def build(cls, docs: list[LexicalDoc], titles: dict[str, str]) -> LexicalIndex:
        texts = [f"{titles.get(d.article_id, '')} {d.section} {d.text}" for d in docs]
        model, phrase = bm25s.BM25(), bm25s.BM25()
        model.index(_tokenize(texts), show_progress=False)
        phrase.index([phrase_terms(text) for text in texts], show_progress=False)
        return cls(model, docs, phrase)

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        self.model.save(str(tmp), show_progress=False)
        if self.phrase is not None:
            self.phrase.save(str(tmp / "phrase"), show_progress=False)
        (tmp / "docs.json").write_text(json.dumps([d.__dict__ for d in self.docs]))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        docs = [LexicalDoc(**d) for d in json.loads((folder / "docs.json").read_text())]
        phrase = bm25s.BM25.load(str(folder / "phrase"), show_progress=False) if (folder / "phrase").is_dir() else None
        return cls(bm25s.BM25.load(str(folder), show_progress=False), docs, phrase)

    def search(self, query: str, k: int, allowed_articles: set[str] | None = None) -> list[tuple[LexicalDoc, float]]:
        """Top chunks with their BM25 scores; only chunks of ``allowed_articles`` when given."""
        tokens = _tokenize([query])
        if not tokens.vocab:
            return []
        return self._top(self.model, tokens, k, allowed_articles)

    def search_phrases(self, query: str, k: int,
                       allowed_articles: set[str] | None = None) -> list[tuple[LexicalDoc, float]]:
        """The same over stems and stem pairs; nothing from a folder without the phrase model."""
        if self.phrase is None:
            return []
        vocab = self.phrase.vocab_dict
        tokens = [t for t in phrase_terms(query) if t in vocab]
        return self._top(self.phrase, [tokens], k, allowed_articles) if tokens else []

    def _top(self, model: bm25s.BM25, tokens, k: int, allowed_articles: set[str] | None) -> list[tuple[LexicalDoc, float]]:
        if not self.docs:
            return []
        mask = None
        if allowed_articles is not None:
            mask = np.array([d.article_id in allowed_articles for d in self.docs], dtype=np.float32)
            if not mask.any():
                return []
        k = min(k, len(self.docs))
        ids, scores = model.retrieve(tokens, k=k, show_progress=False, weight_mask=mask)
        return [(self.docs[i], float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]

"""BM25 over the same chunks as the dense index (bm25s with Snowball stemming).

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


class LexicalIndex:
    def __init__(self, model: bm25s.BM25 | None, docs: list[LexicalDoc]) -> None:
        self.model = model
        self.docs = docs

    @classmethod
    def build(cls, docs: list[LexicalDoc], titles: dict[str, str]) -> LexicalIndex:
        model = bm25s.BM25()
        texts = [f"{titles.get(d.article_id, '')} {d.section} {d.text}" for d in docs]
        model.index(_tokenize(texts), show_progress=False)
        return cls(model, docs)

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        self.model.save(str(tmp), show_progress=False)
        (tmp / "docs.json").write_text(json.dumps([d.__dict__ for d in self.docs]))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        docs = [LexicalDoc(**d) for d in json.loads((folder / "docs.json").read_text())]
        return cls(bm25s.BM25.load(str(folder), show_progress=False), docs)

    def search(self, query: str, k: int, allowed_articles: set[str] | None = None) -> list[tuple[LexicalDoc, float]]:
        """Top chunks with their BM25 scores; only chunks of ``allowed_articles`` when given."""
        tokens = _tokenize([query])
        if not tokens.vocab or not self.docs:
            return []
        mask = None
        if allowed_articles is not None:
            mask = np.array([d.article_id in allowed_articles for d in self.docs], dtype=np.float32)
            if not mask.any():
                return []
        k = min(k, len(self.docs))
        ids, scores = self.model.retrieve(tokens, k=k, show_progress=False, weight_mask=mask)
        return [(self.docs[i], float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]

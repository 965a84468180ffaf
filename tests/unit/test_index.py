"""Incremental indexing and the writer lock, with real Chroma and the hash embedder."""

import pytest
from filelock import FileLock

from supportgraph.errors import IndexBusyError, KnowledgeError
from supportgraph.knowledge.articles import load_articles
from supportgraph.knowledge.chunking import title_texts
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
    # Each article's title, and "Title: Heading" for each of its sections.
    articles = load_articles(kb_settings.knowledge_dir).articles
    assert first.embedded_titles == sum(len(title_texts(a)) for a in articles) > first.articles
    again = build_index(kb_settings, embedder)
    assert again.embedded_chunks == again.embedded_titles == 0 and again.kb_version == first.kb_version

    refunds = kb_settings.knowledge_dir / "policies" / "refunds.md"
    refunds.write_text(refunds.read_text() + "\nAnnual plans: 30 days.\n")
    edited = build_index(kb_settings, embedder)
    refunds_titles = len(title_texts(next(a for a in articles if a.id == "policy-refunds")))
    assert edited.updated == ["policy-refunds"] and edited.embedded_chunks == 1
    assert edited.embedded_titles == refunds_titles
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


def _title_texts_stored(settings, article_id: str) -> list[str]:
    from supportgraph.knowledge.index import get_collection, open_chroma, titles_collection_name

    titles = get_collection(open_chroma(settings), titles_collection_name(settings.collection))
    return sorted(titles.get(where={"article_id": article_id}, include=["documents"])["documents"])


def test_section_headings_are_searched_beside_the_title_and_leave_with_their_article(kb_settings, hash_embedder):
    build_index(kb_settings, hash_embedder)
    assert _title_texts_stored(kb_settings, "ts-sync") == ["The app is not syncing",
                                                          "The app is not syncing: Steps (Android)",
                                                          "The app is not syncing: Steps (iOS)"]
    # A question in a section heading's words is that close to the article's title channel.
    top = Retriever(kb_settings, hash_embedder).search("The app is not syncing: Steps (Android)", k=1)[0]
    assert top.article.id == "ts-sync" and top.title_score == pytest.approx(1.0, abs=1e-3)

    (kb_settings.knowledge_dir / "troubleshooting" / "sync.md").unlink()
    build_index(kb_settings, hash_embedder)
    assert _title_texts_stored(kb_settings, "ts-sync") == []


def test_an_index_whose_titles_channel_holds_titles_only_gets_the_headings_on_the_next_index(kb_settings,
                                                                                            hash_embedder):
    from supportgraph.knowledge.index import get_collection, open_chroma, titles_collection_name

    build_index(kb_settings, hash_embedder)
    titles = get_collection(open_chroma(kb_settings), titles_collection_name(kb_settings.collection))
    # What an index built before headings joined the channel holds: one entry per article, keyed without format.
    everything = titles.get(include=["metadatas"])
    titles.delete(ids=[i for i in everything["ids"] if "#h" in i])
    for entry_id, meta in zip(everything["ids"], everything["metadatas"]):
        if "#h" not in entry_id:
            titles.update(ids=[entry_id], metadatas=[meta | {"article_hash": meta["article_hash"].rsplit(":t", 1)[0]}])
    assert _title_texts_stored(kb_settings, "ts-sync") == ["The app is not syncing"]

    report = build_index(kb_settings, hash_embedder)  # the same articles
    assert report.embedded_chunks == 0 and report.embedded_titles > report.articles
    assert len(_title_texts_stored(kb_settings, "ts-sync")) == 3

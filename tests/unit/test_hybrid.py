"""Hybrid retrieval, filters and KB history over real Chroma + BM25 with the hash embedder."""

import pytest

from supportgraph.knowledge.index import build_index, read_history
from supportgraph.knowledge.retrieval import Filters, Retriever

pytestmark = pytest.mark.unit


@pytest.fixture
def retriever(kb_settings, hash_embedder):
    build_index(kb_settings, hash_embedder)
    return Retriever(kb_settings, hash_embedder)


def test_every_mode_returns_article_level_hits(retriever):
    for mode in ("dense", "lexical", "hybrid"):
        hits = retriever.search("charged twice invoices", k=3, mode=mode)
        ids = [h.article.id for h in hits]
        assert ids[0] == "ts-charged-twice", mode
        assert len(ids) == len(set(ids))


def test_hybrid_hit_carries_both_scores_and_passages(retriever):
    top = retriever.search("charged twice pending authorization", k=1)[0]
    assert top.dense_rank == 1 and top.lexical_rank == 1
    assert top.dense_score > 0 and top.lexical_score > 0 and top.passages


def test_filters_by_type_area_and_tag(retriever):
    assert {h.article.type for h in retriever.search("refund charged twice", filters=Filters(types=("policy",)))} == {"policy"}
    assert [h.article.id for h in retriever.search("charged", filters=Filters(tags=("duplicate",)))] == ["ts-charged-twice"]
    assert retriever.search("charged", filters=Filters(product_areas=("nowhere",))) == []


def test_staff_articles_only_with_the_staff_filter(retriever):
    query = "goodwill credits approval code"
    assert "internal-credits" not in [h.article.id for h in retriever.search(query, k=10)]
    assert "internal-credits" in [h.article.id for h in retriever.search(query, k=10, filters=Filters(audience="staff"))]


def test_confidence_is_a_probability_that_drops_for_unrelated_queries(retriever):
    related = retriever.confidence(retriever.search("I was charged twice"))
    unrelated = retriever.confidence(retriever.search("zebra volcano"))
    assert 0.0 <= unrelated < related <= 1.0


def test_history_records_each_content_change(kb_settings, hash_embedder):
    build_index(kb_settings, hash_embedder)
    (kb_settings.knowledge_dir / "policies" / "refunds.md").unlink()
    build_index(kb_settings, hash_embedder)
    build_index(kb_settings, hash_embedder)  # no change: no new entry
    history = read_history(kb_settings.index_dir)
    assert len(history) == 2
    assert history[1]["removed"] == ["policy-refunds"] and history[1]["previous"] == history[0]["kb_version"]


def test_resolved_chats_with_positive_feedback_support_their_article(kb_settings, hash_embedder):
    from supportgraph.knowledge.chats import index_chats
    from supportgraph.store import FeedbackIn, Store, TurnRecord

    build_index(kb_settings, hash_embedder)
    store = Store(kb_settings.database_url)
    good = store.record_turn("good-thread", TurnRecord(
        customer_message="my phone app will not sync tasks, mail me at ann@example.com", reply="...",
        outcome="answered", citations=[{"id": "ts-sync", "title": "Sync"}]))
    store.record_turn("good-thread", TurnRecord(customer_message="yes", reply="great", outcome="resolved"))
    store.save_feedback(FeedbackIn(turn_id=good, thumb="up"))
    store.record_turn("unrated", TurnRecord(customer_message="phone app will not sync", reply="...",
                                            outcome="answered", citations=[{"id": "ts-sync", "title": "S"}]))
    store.record_turn("unrated", TurnRecord(customer_message="yes", reply="great", outcome="resolved"))

    assert index_chats(kb_settings, hash_embedder, store) == 1
    hit = next(h for h in Retriever(kb_settings, hash_embedder).search("phone app will not sync tasks", k=5)
               if h.article.id == "ts-sync")
    assert hit.chats == ["chat-good-thread"]
    from supportgraph.knowledge.chats import chats_collection
    chats = chats_collection(kb_settings).get(include=["documents"])
    assert chats["ids"] == ["chat-good-thread"]  # the unrated conversation is no source
    stored = chats["documents"][0]
    assert "ann@example.com" not in stored and "[EMAIL]" in stored

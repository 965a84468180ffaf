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
    assert top.dense_rank == 1 and top.lexical_rank == 1 and top.phrase_rank == 1
    assert top.dense_score > 0 and top.lexical_score > 0 and top.phrase_score > 0 and top.passages


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


def test_the_phrase_channel_ranks_the_customer_s_words_in_their_order_first(tmp_path):
    from supportgraph.knowledge.lexical import LexicalDoc, LexicalIndex

    docs = [LexicalDoc("a#0", "in-order", "", "You were charged twice for one order"),
            LexicalDoc("b#0", "same-words", "", "Twice you were charged for one order")]  # the same stems
    index = LexicalIndex.build(docs, {})
    plain = dict((d.article_id, s) for d, s in index.search("I was charged twice", k=2))
    assert plain["in-order"] == pytest.approx(plain["same-words"])  # a bag of words cannot tell them apart
    phrase = index.search_phrases("I was charged twice", k=2)
    assert [d.article_id for d, _ in phrase] == ["in-order", "same-words"] and phrase[0][1] > phrase[1][1]
    assert index.search_phrases("I was charged twice", k=2, allowed_articles={"same-words"})[0][0].article_id \
        == "same-words"

    index.save(tmp_path / "lexical")
    assert LexicalIndex.load(tmp_path / "lexical").search_phrases("charged twice", k=1)[0][0].article_id == "in-order"


def test_a_lexical_folder_from_before_the_phrase_model_still_searches_and_indexing_replaces_it(kb_settings,
                                                                                               hash_embedder):
    import shutil

    from supportgraph.knowledge.index import read_manifest, write_manifest
    from supportgraph.knowledge.lexical import LEXICAL_FORMAT, LexicalIndex

    build_index(kb_settings, hash_embedder)
    manifest = read_manifest(kb_settings.index_dir)
    current = kb_settings.index_dir / manifest["lexical_dir"]
    assert manifest["lexical_dir"].endswith(f"-v{LEXICAL_FORMAT}") and (current / "phrase").is_dir()
    # What an index built before the phrase model holds: a folder of the old name with plain BM25 only.
    old = kb_settings.index_dir / manifest["lexical_dir"].removesuffix(f"-v{LEXICAL_FORMAT}")
    shutil.copytree(current, old)
    shutil.rmtree(old / "phrase")
    shutil.rmtree(current)
    write_manifest(kb_settings.index_dir, manifest | {"lexical_dir": old.name})
    assert LexicalIndex.load(old).search_phrases("charged twice", k=3) == []

    top = Retriever(kb_settings, hash_embedder).search("charged twice pending authorization", k=1)[0]
    assert top.article.id == "ts-charged-twice" and top.lexical_rank == 1 and top.phrase_rank is None

    build_index(kb_settings, hash_embedder)  # the same articles: the new format's folder is built, the old one goes
    assert read_manifest(kb_settings.index_dir)["lexical_dir"] == current.name
    assert (current / "phrase").is_dir() and not old.exists()
    top = Retriever(kb_settings, hash_embedder).search("charged twice pending authorization", k=1)[0]
    assert top.phrase_rank == 1


@pytest.mark.parametrize(("message", "clause"), [
    ("I was charged twice this month for my subscription", "I was charged twice"),
    ("the app crashes when I open it", "the app crashes"),
    ("How do I export data for my team?", None),          # a question: searched as it is
    ("can i undo it since i cancelled yesterday", None),  # a question without its mark
    ("charged twice for it", None),                       # too little before the circumstance
    ("My export never arrived", None),                    # no circumstance to leave out
    ("My export never arrived. I asked for it yesterday", None),  # only the first sentence tells the problem
])
def test_a_told_problem_is_read_without_its_circumstances(message, clause):
    from supportgraph.knowledge.query import problem_clause

    assert problem_clause(message) == clause


def test_a_told_problem_is_matched_by_its_clause_as_well_as_by_the_whole_message(retriever, hash_embedder):
    told = "I was charged twice this month for my subscription"
    top = retriever.search(told, k=1)[0]
    assert top.article.id == "ts-charged-twice"
    # The title "I was charged twice" is the clause word for word; the whole message is much further from it.
    whole = float(hash_embedder.embed([told])[0] @ hash_embedder.embed(["I was charged twice"])[0])
    assert whole < 0.8 and top.title_score == pytest.approx(1.0, abs=1e-3)
    # A question keeps the whole message's match.
    asked = retriever.search("Was I charged twice this month for my subscription?", k=1)[0]
    assert asked.title_score < 0.8

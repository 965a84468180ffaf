"""Replicas with separate home and knowledge folders sharing one index (knowledge/shared.py): real Chroma
(one store for both homes, standing in for a `chroma run` server), a real SQLite store, the hash embedder."""

import shutil

import pytest

from supportgraph.config import Settings
from supportgraph.errors import IndexConflictError
from supportgraph.knowledge import chats, index, retrieval
from supportgraph.knowledge.index import build_index, read_manifest
from supportgraph.knowledge.lexical import LexicalIndex
from supportgraph.knowledge.retrieval import Retriever
from supportgraph.knowledge.shared import follow, shared_store
from supportgraph.knowledge.versions import list_edits, versioned_save
from supportgraph.store.kb_index import read_published
from tests.conftest import REPO
from tests.unit.conftest import write_kb

pytestmark = pytest.mark.unit
STEP = "2. Open Settings > Billing > Invoices and look for two paid invoices."
NEW_STEP = "2. Open Settings > Billing > Invoices and compare the Zorblat ledger."


@pytest.fixture
def replicas(tmp_path, monkeypatch):
    """Settings of replicas A and B: own home, own copy of the knowledge folder, one database, one Chroma."""
    shared_chroma = tmp_path / "chroma"
    monkeypatch.setattr(index, "open_chroma", lambda settings: index._persistent_client(str(shared_chroma)))
    monkeypatch.setattr(retrieval, "open_chroma", index.open_chroma)
    monkeypatch.setattr(chats, "open_chroma", index.open_chroma)
    write_kb(tmp_path / "knowledge-a")
    shutil.copytree(tmp_path / "knowledge-a", tmp_path / "knowledge-b")
    return [Settings(project_dir=REPO, home=tmp_path / f"home-{name}", knowledge_dir=tmp_path / f"knowledge-{name}",
                     database_url=f"sqlite:///{tmp_path / 'shared.db'}", chroma_url="http://chroma.invalid",
                     collection=f"kb-{tmp_path.name[-8:]}".replace("_", "-"), index_check_s=0.01)
            for name in "ab"]


def edit(settings: Settings, old: str, new: str, path: str = "troubleshooting/charged-twice.md") -> None:
    file = settings.knowledge_dir / path
    file.write_text(file.read_text().replace(old, new))


def lexical_ids(settings: Settings, query: str) -> list[str]:
    manifest = read_manifest(settings.index_dir)
    return [doc.article_id for doc, _ in LexicalIndex.load(settings.index_dir / manifest["lexical_dir"]).search(query, 5)]


def test_a_replica_follows_an_edit_published_by_another(replicas, hash_embedder):
    a, b = replicas
    first = build_index(a, hash_embedder)
    joined = build_index(b, hash_embedder)  # the same folder: nothing embedded, nothing published
    assert joined.kb_version == first.kb_version and joined.embedded_chunks == 0
    follower = Retriever(b, hash_embedder)
    assert follower.kb_version == first.kb_version and "Zorblat" not in follower.article("ts-charged-twice").body

    edit(a, STEP, NEW_STEP)
    edited = build_index(a, hash_embedder)
    assert edited.kb_version != first.kb_version
    assert read_published(shared_store(a), a.collection).kb_version == edited.kb_version
    assert lexical_ids(b, "Zorblat ledger") == []  # B's own files, before it looks

    hits = follower.search("Zorblat ledger", mode="lexical")  # the next query looks, rebuilds, reloads
    assert hits[0].article.id == "ts-charged-twice" and follower.kb_version == edited.kb_version
    assert NEW_STEP[3:] in follower.article("ts-charged-twice").body
    assert read_manifest(b.index_dir) == read_manifest(a.index_dir)  # calibration and all
    assert lexical_ids(b, "Zorblat ledger") == ["ts-charged-twice"]
    assert "ts-charged-twice" in (b.index_dir / "history.jsonl").read_text().splitlines()[-1]


def edited_through_a(replicas, embedder):
    """Both replicas index their copy of the folder, then A edits a step and indexes again: A's report."""
    a, b = replicas
    build_index(a, embedder)
    build_index(b, embedder)
    edit(a, STEP, NEW_STEP)
    return build_index(a, embedder)


def test_a_stale_folder_does_not_undo_a_published_edit(replicas, hash_embedder):
    a, b = replicas
    edited = edited_through_a(replicas, hash_embedder)

    again = build_index(b, hash_embedder)  # B's folder still has the old step
    assert again.kb_version == edited.kb_version and again.kept_published == ["ts-charged-twice"]
    assert a.home.name in again.published and edited.kb_version in again.published
    assert read_published(shared_store(a), a.collection).kb_version == edited.kb_version

    # B's own edit of another article is published over A's, and A follows it.
    edit(b, "Monthly plans: 14 days.", "Monthly plans: 21 days.", "policies/refunds.md")
    both = build_index(b, hash_embedder)
    assert both.updated == ["policy-refunds"] and both.kept_published == ["ts-charged-twice"]
    reader = Retriever(a, hash_embedder)
    assert reader.kb_version == both.kb_version
    assert "21 days" in reader.article("policy-refunds").body and NEW_STEP[3:] in reader.article("ts-charged-twice").body


def test_an_article_changed_on_both_replicas_is_refused_unless_forced(replicas, hash_embedder):
    a, b = replicas
    edited = edited_through_a(replicas, hash_embedder)
    edit(b, STEP, "2. Call the bank.")
    with pytest.raises(IndexConflictError) as refused:
        build_index(b, hash_embedder)
    assert "ts-charged-twice" in refused.value.message and edited.kb_version in refused.value.message
    assert read_published(shared_store(a), a.collection).kb_version == edited.kb_version

    forced = build_index(b, hash_embedder, force=True)
    assert read_published(shared_store(a), a.collection).kb_version == forced.kb_version != edited.kb_version
    assert "Call the bank" in Retriever(a, hash_embedder).article("ts-charged-twice").body


def test_an_edit_started_from_a_stale_copy_is_refused_before_anything_is_written(replicas, hash_embedder):
    a, b = replicas
    edited_through_a(replicas, hash_embedder)
    store, file = shared_store(b), b.knowledge_dir / "troubleshooting" / "charged-twice.md"
    stale = file.read_text()
    with pytest.raises(IndexConflictError, match="another replica changed it"):
        versioned_save(b.knowledge_dir, store, stale.replace(STEP, "2. Call the bank."), author="bea", reason="x",
                       relative_path="troubleshooting/charged-twice.md", settings=b)
    assert file.read_text() == stale and list_edits(store) == []

    # Another article, or this one brought up to date with A's text, saves (and indexes) as usual.
    versioned_save(b.knowledge_dir, store, stale.replace(STEP, NEW_STEP), author="bea", reason="catch up",
                   relative_path="troubleshooting/charged-twice.md", settings=b)
    refunds = (b.knowledge_dir / "policies" / "refunds.md").read_text()
    versioned_save(b.knowledge_dir, store, refunds.replace("14 days", "21 days"), author="bea", reason="longer",
                   relative_path="policies/refunds.md", settings=b)
    assert build_index(b, hash_embedder).kept_published == []


def test_a_new_replica_starts_from_the_published_index(replicas, hash_embedder):
    a, b = replicas
    built = build_index(a, hash_embedder)
    assert follow(b) and not follow(b)  # what `serve` does first; then it is this home's own version
    hits = Retriever(b, hash_embedder).search("I was charged twice")
    assert hits[0].article.id == "ts-charged-twice" and read_manifest(b.index_dir)["kb_version"] == built.kb_version
    assert build_index(b, hash_embedder).embedded_chunks == 0  # its folder, the same articles: nothing to do


def test_one_machine_publishes_nothing_and_never_looks(kb_settings, hash_embedder):
    build_index(kb_settings, hash_embedder)
    assert read_published(shared_store(kb_settings), kb_settings.collection) is None
    assert not (kb_settings.index_dir / "folder.json").exists()
    assert Retriever(kb_settings, hash_embedder)._follower is None

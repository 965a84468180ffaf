"""Indexing survives kill -9, refuses a second writer, and works against a real `chroma run` server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

import supportgraph
from supportgraph.config import Settings
from supportgraph.knowledge.articles import load_articles
from supportgraph.knowledge.index import (
    EMBED_BATCH,
    build_index,
    get_collection,
    open_chroma,
    read_manifest,
    reset_chroma_clients,
)
from supportgraph.knowledge.retrieval import Retriever
from supportgraph.params import load_params
from tests.conftest import REPO
from tests.servers import free_port, running

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BIN = Path(sys.executable).parent


def _cli_env(home: Path, knowledge: Path) -> dict:
    return dict(os.environ, SUPPORTGRAPH_HOME=str(home), SUPPORTGRAPH_KNOWLEDGE_DIR=str(knowledge))


@pytest.fixture
def kb_copy(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", knowledge)
    return knowledge


WRITER = Path(__file__).with_name("index_writer.py")


def _review_every_article(knowledge: Path) -> None:
    """Change every article, so the next run deletes and re-embeds every chunk."""
    for path in knowledge.rglob("*.md"):
        if path.name != "README.md":
            path.write_text(path.read_text() + "\nReviewed in November.\n")


@pytest.fixture(scope="module")
def clean_reviewed_build(tmp_path_factory, real_embedder) -> Settings:
    """The reviewed knowledge base indexed from nothing in a home of its own: what a repaired index must equal."""
    root = tmp_path_factory.mktemp("clean-build")
    shutil.copytree(REPO / "knowledge", root / "knowledge")
    _review_every_article(root / "knowledge")
    settings = Settings(project_dir=REPO, home=root / "home", knowledge_dir=root / "knowledge")
    build_index(settings, real_embedder)
    return settings


def _index_contents(settings: Settings) -> dict:
    """Everything a reader gets from an index: chunks (sorted by id), manifest version, lexical documents."""
    got = get_collection(open_chroma(settings), settings.collection).get(
        include=["documents", "metadatas", "embeddings"])
    order = sorted(range(len(got["ids"])), key=got["ids"].__getitem__)
    manifest = read_manifest(settings.index_dir)
    return {"ids": [got["ids"][i] for i in order], "documents": [got["documents"][i] for i in order],
            "metadatas": [got["metadatas"][i] for i in order],
            "embeddings": np.asarray(got["embeddings"])[order], "kb_version": manifest["kb_version"],
            "lexical_docs": json.loads((settings.index_dir / manifest["lexical_dir"] / "docs.json").read_text())}


def _index_then_kill(settings: Settings, batches: int) -> tuple[int, int]:
    """Run the indexer in a subprocess and SIGKILL it once it has stored ``batches`` embedding batches;
    (chunks it had confirmed, chunks it meant to write)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(supportgraph.__file__).parents[1]), str(WRITER.parents[2]), os.environ.get("PYTHONPATH", "")]))
    writer = subprocess.Popen([sys.executable, str(WRITER), str(REPO), str(settings.home), str(settings.knowledge_dir)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    watchdog = threading.Timer(300, writer.kill)
    watchdog.start()
    confirmed, total, lines = -1, 0, []
    try:
        for line in writer.stdout:
            lines.append(line.strip())
            if line.startswith("batch "):
                confirmed, total = map(int, line.split()[1:])
                if confirmed == batches * EMBED_BATCH:
                    writer.send_signal(signal.SIGKILL)  # it is already embedding the next batch
                    break
    finally:
        watchdog.cancel()
        writer.kill()
        writer.wait()
        stderr = writer.stderr.read()
        writer.stdout.close()
        writer.stderr.close()
    assert writer.returncode == -signal.SIGKILL, f"the indexer ended by itself ({writer.returncode}): {stderr}"
    assert confirmed == batches * EMBED_BATCH < total, (lines, stderr)
    return confirmed, total


@pytest.mark.parametrize("kill_after_batches", [1, 4])
def test_kill_9_during_indexing_leaves_a_working_index_that_the_next_run_repairs(
        kb_copy, tmp_path, real_embedder, clean_reviewed_build, kill_after_batches):
    settings = Settings(project_dir=REPO, home=tmp_path / "home", knowledge_dir=kb_copy)
    first = build_index(settings, real_embedder)
    _review_every_article(kb_copy)
    max_words = load_params(REPO).knowledge.chunk_max_words
    new_keys = {a.id: f"{a.content_hash}:{max_words}:{real_embedder.name}" for a in load_articles(kb_copy).articles}

    confirmed, total = _index_then_kill(settings, kill_after_batches)
    reset_chroma_clients()  # this process's client would keep serving what it loaded before the kill

    # Killed mid-write: the manifest still names the old version, the collection holds part of the new one.
    assert read_manifest(settings.index_dir)["kb_version"] == first.kb_version
    metadatas = get_collection(open_chroma(settings), settings.collection).get(include=["metadatas"])["metadatas"]
    new_chunks = sum(meta["article_hash"] == new_keys.get(meta["article_id"]) for meta in metadatas)
    assert confirmed <= new_chunks <= confirmed + EMBED_BATCH and new_chunks < total
    # The index still answers.
    assert Retriever(settings, real_embedder).search("I was charged twice this month", k=1)[0].article.id \
        == "ts-duplicate-charge"

    repaired = build_index(settings, real_embedder)
    got, clean = _index_contents(settings), _index_contents(clean_reviewed_build)
    assert repaired.kb_version == got["kb_version"] == clean["kb_version"] != first.kb_version
    assert got["ids"] == clean["ids"] and len(got["ids"]) == total  # no chunk lost, none left over
    assert got["documents"] == clean["documents"]
    assert got["metadatas"] == clean["metadatas"]
    np.testing.assert_allclose(got["embeddings"], clean["embeddings"], atol=1e-5)
    assert got["lexical_docs"] == clean["lexical_docs"]
    assert build_index(settings, real_embedder).embedded_chunks == 0


def test_a_second_indexer_process_is_refused_with_a_clear_message(kb_copy, tmp_path):
    home = tmp_path / "home"
    (home / "index").mkdir(parents=True)
    with FileLock(str(home / "index" / "index.lock")):
        result = subprocess.run([BIN / "supportgraph", "index", "-q", "--project", str(REPO)],
                                env=_cli_env(home, kb_copy), capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Another `supportgraph index` is writing" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` on loopback, started and stopped here."""
    port = free_port()
    command = [BIN / "chroma", "run", "--path", tmp_path / "chroma-server", "--host", "127.0.0.1", "--port", port]
    with running(command, f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=60):
        yield f"http://127.0.0.1:{port}"


def test_index_and_retrieve_through_a_chroma_server(chroma_server, tmp_path, real_embedder):
    settings = Settings(project_dir=REPO, home=tmp_path / "home", chroma_url=chroma_server)
    report = build_index(settings, real_embedder)
    assert not (settings.index_dir / "chroma").exists()  # nothing went to the embedded store
    assert get_collection(open_chroma(settings), settings.collection).count() == report.chunks
    hits = Retriever(settings, real_embedder).search("I was charged twice this month", k=3)
    assert hits[0].article.id == "ts-duplicate-charge"


def test_an_open_retriever_sees_what_another_process_indexed(kb_copy, tmp_path, real_embedder):
    """The chat app keeps its retriever open while an editor runs `supportgraph index` elsewhere."""
    settings = Settings(project_dir=REPO, home=tmp_path / "home", knowledge_dir=kb_copy)
    build_index(settings, real_embedder)
    retriever = Retriever(settings, real_embedder)
    assert retriever.search("solar panels on the office roof", k=1)[0].article.id != "faq-solar"

    (kb_copy / "faqs" / "faq-solar.md").write_text(
        "---\nid: faq-solar\ntitle: Solar panels on the office roof\n---\nOur office roof has solar panels.\n")
    subprocess.run([BIN / "supportgraph", "index", "-q", "--no-chats", "--project", str(REPO)],
                   env=_cli_env(settings.home, kb_copy), check=True, capture_output=True, timeout=300)
    assert retriever.search("solar panels on the office roof", k=1)[0].article.id == "faq-solar"


BUILT_WITH_CHROMA_DEFAULTS = """
import sys, chromadb, numpy as np
vectors = np.load(sys.argv[2])
client = chromadb.PersistentClient(path=sys.argv[1], settings=chromadb.config.Settings(anonymized_telemetry=False))
collection = client.create_collection("recall-check", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
for start in range(0, len(vectors), 500):
    collection.add(ids=[str(i) for i in range(start, start + 500)], embeddings=vectors[start:start + 500].tolist())
"""


@pytest.mark.parametrize("built_by", ["supportgraph", "an older version with Chroma's defaults"])
def test_dense_search_returns_the_true_nearest_chunks(tmp_path, built_by):
    """What was indexed can be found: top-10 equals exact search. Random vectors are HNSW's hard case;
    with Chroma's default search effort it misses a few percent of them at this size."""
    rng = np.random.default_rng(7)
    vectors, queries = (_unit_vectors(rng, count) for count in (1500, 40))
    settings = Settings(project_dir=REPO, home=tmp_path / "home")
    settings.chroma_dir.mkdir(parents=True)
    if built_by == "supportgraph":
        collection = get_collection(open_chroma(settings), "recall-check")
        for start in range(0, len(vectors), 500):
            collection.add(ids=[str(i) for i in range(start, start + 500)],
                           embeddings=vectors[start:start + 500].tolist())
    else:
        np.save(tmp_path / "vectors.npy", vectors)
        subprocess.run([sys.executable, "-c", BUILT_WITH_CHROMA_DEFAULTS, str(settings.chroma_dir),
                        str(tmp_path / "vectors.npy")], check=True, capture_output=True, timeout=300)
    collection = get_collection(open_chroma(settings), "recall-check")

    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    found = collection.query(query_embeddings=queries.tolist(), n_results=10)["ids"]
    missed = sum(len(set(map(str, best)) - set(got)) for best, got in zip(exact, found))
    assert missed == 0, f"{missed} of {exact.size} true neighbours not returned"


def _unit_vectors(rng, count: int) -> np.ndarray:
    vectors = rng.normal(size=(count, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

"""Indexing survives kill -9, refuses a second writer, and works against a real `chroma run` server."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

from supportgraph.config import Settings
from supportgraph.knowledge.articles import load_articles
from supportgraph.knowledge.chunking import chunk_article
from supportgraph.knowledge.index import (
    build_index,
    get_collection,
    open_chroma,
    read_manifest,
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


@pytest.mark.parametrize("kill_after", [4.0, 7.0, 10.0])
def test_kill_9_during_indexing_leaves_a_working_index_that_the_next_run_repairs(kb_copy, tmp_path, real_embedder,
                                                                                 kill_after):
    settings = Settings(project_dir=REPO, home=tmp_path / "home", knowledge_dir=kb_copy)
    first = build_index(settings, real_embedder)
    for path in kb_copy.rglob("*.md"):  # change every article, so the next run re-embeds everything
        if path.name != "README.md":
            path.write_text(path.read_text() + "\nReviewed in November.\n")

    process = subprocess.Popen([BIN / "supportgraph", "index", "-q", "--project", str(REPO)],
                               env=_cli_env(settings.home, kb_copy), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
    process.wait()

    # The index still opens and answers: the manifest is the old one (or the new one if the run had finished).
    version_after_kill = read_manifest(settings.index_dir)["kb_version"]
    assert Retriever(settings, real_embedder).search("I was charged twice this month", k=3)

    repaired = build_index(settings, real_embedder)
    assert version_after_kill in (first.kb_version, repaired.kb_version)
    collection = get_collection(open_chroma(settings), settings.collection)
    max_words = load_params(REPO).knowledge.chunk_max_words
    expected = sum(len(chunk_article(a, max_words)) for a in load_articles(kb_copy).articles)
    assert collection.count() == expected  # no chunk lost, none left over from the killed run
    assert repaired.kb_version == read_manifest(settings.index_dir)["kb_version"] != first.kb_version
    assert build_index(settings, real_embedder).embedded_chunks == 0
    assert Retriever(settings, real_embedder).search("I was charged twice", k=1)[0].article.id == "ts-duplicate-charge"


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

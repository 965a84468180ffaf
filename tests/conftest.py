"""Shared fixtures. Every test gets its own supportgraph home, and no test can
reach the network by accident: sockets may connect to loopback only."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
# The suite's real-model fixtures (real_embedder) embed with torch, so every process they start (CLI, servers,
# the app) must query with torch too; the ONNX backends, the default, have their own tests
# (tests/*/test_embedding_backends.py), which set the backend explicitly.
os.environ.setdefault("SUPPORTGRAPH_EMBEDDING_BACKEND", "torch")

REPO = Path(__file__).resolve().parent.parent
_real_connect = socket.socket.connect


def _loopback_only(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            allowed = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = False
        if not allowed:
            raise ConnectionRefusedError(f"tests may not reach the network ({host}); use loopback")
    return _real_connect(sock, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Like llm's user folder: never touch the developer's .supportgraph."""
    monkeypatch.setenv("SUPPORTGRAPH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="session")
def real_embedder():
    from supportgraph.knowledge.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="session")
def indexed_home(tmp_path_factory, real_embedder):
    """The sample knowledge base indexed once per session with the real model and real Chroma."""
    from supportgraph.config import Settings
    from supportgraph.knowledge.index import build_index

    home = tmp_path_factory.mktemp("indexed-home")
    report = build_index(Settings(project_dir=REPO, home=home), real_embedder)
    assert not report.problems, report.problems
    return home


@pytest.fixture
def real_settings(indexed_home, tmp_path):
    """Settings over the shared index, with a fresh database and memory per test."""
    from supportgraph.config import Settings

    return Settings(project_dir=REPO, home=indexed_home, database_url=f"sqlite:///{tmp_path / 'test.db'}")


@pytest.fixture
def real_agent(real_settings, real_embedder, tmp_path):
    from supportgraph.agents.service import SupportAgent, open_checkpointer

    memory = real_settings.model_copy(update={"home": tmp_path / "memory-home"})
    return SupportAgent(real_settings, embedder=real_embedder, checkpointer=open_checkpointer(memory))


# A passing evaluation of the sample brief's gates (recall@5 >= 0.85, answered >= 0.80, abstained >= 0.60).
EVALUATED_METRICS = {
    "answer": {"citation_accuracy": 0.87, "rouge_l": 0.18, "scaffold_compliance": 1.0, "semantic_similarity": 0.59},
    "context": {"precision": 0.87, "recall": 0.97}, "count": {"answerable": 179, "questions": 210},
    "latency": {"p50_ms": 50.0, "p95_ms": 63.0},
    "outcome": {"accuracy": 0.82, "answerable_answered": 0.84, "unanswerable_abstained": 0.74},
    "retrieval": {"mrr_at_10": 0.88, "recall_at_1": 0.75, "recall_at_5": 0.97}}


def write_evaluated_project(root: Path, metrics: dict | None = None) -> Path:
    """A project's evaluation state, owned by the test rather than read from the repository (where concluding
    an experiment or committing a failing evaluation would change it): .ci/run, evals/results/metrics.json
    and evals/experiments.jsonl with one concluded experiment, production kept over dense-only."""
    from supportgraph.evals.experiments import ExperimentRecord, VariantResult

    (root / ".ci").mkdir(parents=True, exist_ok=True)
    (root / ".ci" / "run").write_text("#!/usr/bin/env bash\nmake test\n")
    results = root / "evals" / "results"
    results.mkdir(parents=True, exist_ok=True)
    metrics = metrics or EVALUATED_METRICS
    (results / "metrics.json").write_text(json.dumps(metrics, indent=2))
    dense_only = json.loads(json.dumps(metrics))
    dense_only["outcome"]["answerable_answered"] = 0.01
    record = ExperimentRecord(
        date="2026-11-25T03:41:25Z", questions=210, commit="4ecef1f",
        winner=VariantResult(name="production", prompts="production", metrics=metrics),
        loser=VariantResult(name="dense-only", prompts="production", retrieval={"mode": "dense"}, metrics=dense_only),
        learning="Dense retrieval alone answers almost nothing: the calibration is fitted on hybrid features.")
    (root / "evals" / "experiments.jsonl").write_text(record.model_dump_json() + "\n")
    return root


REQUIRED_PARTS = {"postgres": "SUPPORTGRAPH_REQUIRE_POSTGRES", "browser": "SUPPORTGRAPH_REQUIRE_BROWSER"}


def require_part(part: str, installed: bool, reason: str) -> None:
    """A part some tests need and a machine may lack (``REQUIRED_PARTS``): without it the test skips, but
    it fails in CI and under `make test` (which sets SUPPORTGRAPH_REQUIRE_<PART>=1), so a missing part
    never passes as a skip where it should have been installed."""
    if installed:
        return
    variable = REQUIRED_PARTS[part]
    in_ci = os.environ.get("CI", "").lower() not in ("", "0", "false")
    if in_ci or os.environ.get(variable) == "1":
        pytest.fail(f"{reason} (required: CI or {variable}=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster for the session; its base URL. Skips without PostgreSQL, fails when required."""
    from tests.servers import postgres_bindir, postgres_cluster

    bindir = postgres_bindir()
    require_part("postgres", bindir is not None,
                 "PostgreSQL is not installed: `make postgres` (or `apt-get install postgresql`) installs it")
    with postgres_cluster(bindir) as url:
        yield url


@contextlib.contextmanager
def postgres_admin(server: str):
    from sqlalchemy import create_engine

    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


@pytest.fixture
def new_database(request, tmp_path):
    """``new_database("sqlite" | "postgresql")`` -> the URL of a fresh, empty database for this test.

    PostgreSQL gets a new database on the session's cluster, dropped after the test.
    """
    from sqlalchemy import text

    postgres: list[str] = []

    def make(kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / f'store-{uuid.uuid4().hex[:8]}.db'}"
        server = request.getfixturevalue("postgres_server")
        name = f"test_{uuid.uuid4().hex}"
        with postgres_admin(server) as admin:
            admin.execute(text(f"CREATE DATABASE {name}"))
        postgres.append(name)
        return f"{server}/{name}"

    yield make
    if postgres:
        with postgres_admin(request.getfixturevalue("postgres_server")) as admin:
            for name in postgres:
                admin.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(params=[pytest.param("sqlite", marks=pytest.mark.unit),
                        pytest.param("postgresql", marks=pytest.mark.integration)])
def any_store(request, new_database):
    """A fresh Store on each backend: SQLite (a unit test) and the session's PostgreSQL (an integration test)."""
    from supportgraph.store import Store

    store = Store(new_database(request.param))
    yield store
    store.engine.dispose()

"""Shared fixtures. Every test gets its own supportgraph home, and no test can
reach the network by accident: sockets may connect to loopback only."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

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

"""Servers shared by the integration tests that need them (each module starts its own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.llama import LlamaServer, assemble_gguf
from tests.llama import llama_server as start_llama_server


@pytest.fixture(scope="session")
def gguf(tmp_path_factory) -> Path:
    return assemble_gguf(tmp_path_factory.mktemp("gguf"))


@pytest.fixture(scope="module")
def module_llama_server(gguf, tmp_path_factory):
    with start_llama_server(gguf, tmp_path_factory.mktemp("llama") / "server.log") as server:
        yield server


@pytest.fixture
def llama_server(module_llama_server: LlamaServer) -> LlamaServer:
    """llama-cpp-python's OpenAI-compatible server on loopback, serving the GGUF (alive at the start)."""
    notice = module_llama_server.death_notice()
    if notice:
        pytest.fail(notice, pytrace=False)
    return module_llama_server


@pytest.fixture
def own_llama_server(gguf, tmp_path):
    """A server for this test alone (for a test that kills it)."""
    with start_llama_server(gguf, tmp_path / "server.log") as server:
        yield server


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that failed because the model server died says so, with its exit code and last log
    lines, instead of showing only the client's `Connection error`."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for name in ("llama_server", "own_llama_server"):
        server = getattr(item, "funcargs", {}).get(name)
        notice = server.death_notice() if isinstance(server, LlamaServer) else None
        if notice:
            report.longrepr = f"{notice}\n\n{report.longrepr}"
            return

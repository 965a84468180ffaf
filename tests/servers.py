"""Start a real server for a test on loopback, wait until it answers, stop it afterwards."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def describe_exit(code: int) -> str:
    """``exit 1``, or ``exit -4 (SIGILL)`` for a process killed by a signal."""
    return f"exit {code} ({signal.Signals(-code).name})" if code < 0 else f"exit {code}"


@contextlib.contextmanager
def running(command: list, ready_url: str, timeout: float = 180, **popen) -> Iterator[subprocess.Popen]:
    """Run ``command`` in its own process group until ``ready_url`` answers; kill the group on exit."""
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    process = subprocess.Popen([str(part) for part in command], start_new_session=True, **popen)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{Path(str(command[0])).name} {describe_exit(process.returncode)} "
                                   f"before answering {ready_url}")
            try:
                urllib.request.urlopen(ready_url, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{command[0]} did not answer {ready_url} in {timeout:.0f} s") from None
                time.sleep(0.5)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl live: on PATH, else Debian's newest /usr/lib/postgresql/<major>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                    key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0)
    return debian[-1].parent if debian else None


@contextlib.contextmanager
def postgres_cluster(bindir: Path, timeout: float = 60) -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port; yields its base URL (no database).

    initdb and pg_ctl refuse to run as root, so as root the server runs as the
    ``postgres`` OS user (Debian's package creates it), owning a folder under /tmp
    (pytest's own tmp folders are private to root). Unix sockets stay in that folder.
    """
    as_root = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="supportgraph-pg-"))
    prefix: list[str] = []
    if as_root:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log, port = root / "data", root / "server.log", free_port()

    def run(*command: object) -> None:
        subprocess.run([*prefix, *(str(part) for part in command)], check=True, capture_output=True, timeout=timeout)

    started = False
    try:
        run(bindir / "initdb", "--pgdata", data, "--username", "postgres", "--auth", "trust",
            "--encoding", "UTF8", "--no-locale", "--no-sync")
        # A zone far from UTC, so that a datetime the store does not normalise shows up in tests.
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c TimeZone=Pacific/Auckland"
        run(bindir / "pg_ctl", "start", "--pgdata", data, "--log", log, "--wait", "--timeout", int(timeout),
            "--options", options)
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    except subprocess.CalledProcessError as error:
        server_log = log.read_text(errors="replace") if log.exists() else ""
        raise RuntimeError(f"{Path(error.cmd[len(prefix)]).name} failed: {error.stderr.decode(errors='replace')}"
                           f"{server_log}") from None
    finally:
        if started:
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "stop", "--pgdata", str(data), "--mode", "immediate",
                            "--wait"], check=False, capture_output=True, timeout=timeout)
        shutil.rmtree(root, ignore_errors=True)

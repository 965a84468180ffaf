"""API load benchmark (not a test): N concurrent conversations against 1 and 2 replicas of `supportgraph serve`
on one throwaway PostgreSQL and one `chroma run`, all on loopback, bounded in turns and time.

Each conversation runs a three-turn script (a problem, the device the agent asks for, "it still fails") and
sends every turn to the next replica in turn (no sticky sessions). Prints turns/s, latency p50/p95/p99, errors
(any non-200) and lost turns (a 200 whose turn is missing from the thread's history), per replica count, and
the measured scaling ratio.

    .venv/bin/python bench/load.py [--conversations 8] [--rounds 3] [--replicas 1,2] [--max-seconds 120]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from supportgraph.evals.retrieval_metrics import percentile  # noqa: E402
from tests.servers import free_port, postgres_bindir, postgres_cluster, running  # noqa: E402

BIN = Path(sys.executable).parent
SCRIPTS = [["My app is not syncing", "On my iPhone", "it still fails"],
           ["I was charged twice this month", "thanks, that fixed it"],
           ["How do I export my workspace data?", "it still fails", "I want to talk to a person"]]


def _loopback(url: str) -> str:
    assert url.startswith(("http://127.0.0.1:", "postgresql+psycopg://postgres@127.0.0.1:")), url
    return url


@contextlib.contextmanager
def _backends(work: Path):
    """PostgreSQL (a new cluster) and `chroma run`, on loopback; yields the environment replicas share."""
    bindir = postgres_bindir()
    if bindir is None:
        sys.exit("PostgreSQL is not installed: `make postgres` installs it.")
    with postgres_cluster(bindir) as server:
        engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("CREATE DATABASE load"))
        engine.dispose()
        port = free_port()
        with running([BIN / "chroma", "run", "--path", work / "chroma", "--host", "127.0.0.1", "--port", port],
                     f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=60):
            shutil.copytree(REPO / "knowledge", work / "knowledge")
            env = dict(os.environ, SUPPORTGRAPH_DATABASE_URL=_loopback(f"{server}/load"),
                       SUPPORTGRAPH_CHROMA_URL=_loopback(f"http://127.0.0.1:{port}"),
                       SUPPORTGRAPH_HOME=str(work / "home"), SUPPORTGRAPH_KNOWLEDGE_DIR=str(work / "knowledge"),
                       SUPPORTGRAPH_PROJECT_DIR=str(REPO), PYTHONPATH=os.pathsep.join(
                           [str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")]))
            yield env


def _cli(env: dict, *args: str) -> str:
    done = subprocess.run([BIN / "supportgraph", *args], env=env, capture_output=True, text=True, timeout=900)
    if done.returncode:
        sys.exit(f"supportgraph {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout.strip()


@contextlib.contextmanager
def _replicas(env: dict, count: int, work: Path):
    with contextlib.ExitStack() as stack:
        urls = []
        for i in range(count):
            port = free_port()
            log = stack.enter_context(open(work / f"replica-{count}-{i}.log", "w"))
            stack.enter_context(running([BIN / "supportgraph", "serve", "--port", port],
                                        f"http://127.0.0.1:{port}/ok", env=env, stdout=log, stderr=subprocess.STDOUT))
            urls.append(f"http://127.0.0.1:{port}")
        yield urls


def _conversation(client: httpx.Client, urls: list[str], key: str, script: list[str], start: int,
                  deadline: float) -> tuple[str, list[tuple[float, int]]]:
    """One conversation, each turn to the next replica; (thread id, [(latency ms, status)])."""
    user = uuid.uuid4().hex
    headers = {"X-Api-Key": key, "X-End-User": user}
    thread = client.post(f"{urls[start % len(urls)]}/threads", headers=headers, json={}).json()["thread_id"]
    results = []
    for i, message in enumerate(script):
        if time.monotonic() > deadline:
            break
        began = time.perf_counter()
        try:
            status = client.post(f"{urls[(start + i) % len(urls)]}/threads/{thread}/runs/wait", headers=headers,
                                 json={"input": {"message": message}}).status_code
        except httpx.HTTPError:
            status = 0
        results.append(((time.perf_counter() - began) * 1000, status))
    return thread, results


def measure(urls: list[str], key: str, staff: str, conversations: int, rounds: int, max_seconds: float) -> dict:
    deadline = time.monotonic() + max_seconds
    jobs = [(SCRIPTS[i % len(SCRIPTS)], i) for i in range(conversations * rounds)]
    with httpx.Client(timeout=120) as client, ThreadPoolExecutor(conversations) as pool:
        for url in urls:  # warm each replica's first turn out of the figures
            _conversation(client, [url], key, ["hello"], 0, deadline)
        began = time.perf_counter()
        done = list(pool.map(lambda job: _conversation(client, urls, key, job[0], job[1], deadline), jobs))
        seconds = time.perf_counter() - began
        lost = 0
        for thread, results in done:
            ok = sum(status == 200 for _, status in results)
            history = client.get(f"{urls[0]}/threads/{thread}/history", headers={"X-Api-Key": staff}).json()
            lost += max(0, ok - len(history))
    latencies = [ms for _, results in done for ms, status in results if status == 200]
    turns = [status for _, results in done for _, status in results]
    return {"replicas": len(urls), "conversations": conversations, "turns": len(latencies), "seconds": seconds,
            "turns_per_s": len(latencies) / seconds, "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99), "errors": sum(status != 200 for status in turns), "lost": lost}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=8, help="concurrent conversations")
    parser.add_argument("--rounds", type=int, default=3, help="conversations each worker runs, one after another")
    parser.add_argument("--replicas", default="1,2", help="replica counts to measure, e.g. 1,2")
    parser.add_argument("--max-seconds", type=float, default=120, help="per replica count; turns stop after it")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="supportgraph-load-"))
    try:
        with _backends(work) as env:
            _cli(env, "index", "-q", "--no-chats")
            _cli(env, "db", "setup")
            key = _cli(env, "keys", "create", "--tenant", "load", "--rate", "100000", "--end-user-rate", "10000")
            staff = _cli(env, "keys", "create", "--tenant", "load", "--scope", "staff", "--rate", "100000")
            rows = []
            for count in (int(n) for n in args.replicas.split(",")):
                with _replicas(env, count, work) as urls:
                    rows.append(measure(urls, key, staff, args.conversations, args.rounds, args.max_seconds))
                print(_row(rows[-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n| replicas | conversations | turns | turns/s | p50 ms | p95 ms | p99 ms | errors | lost turns |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['replicas']} | {row['conversations']} | {row['turns']} | {row['turns_per_s']:.1f} | "
              f"{row['p50']:.0f} | {row['p95']:.0f} | {row['p99']:.0f} | {row['errors']} | {row['lost']} |")
    for first, other in itertools.pairwise(rows):
        print(f"\nScaling {first['replicas']} -> {other['replicas']} replicas: "
              f"{other['turns_per_s'] / first['turns_per_s']:.2f}x turns/s (CPU cores here: {os.cpu_count()}).")


def _row(row: dict) -> str:
    return (f"{row['replicas']} replica(s): {row['turns']} turns in {row['seconds']:.1f} s, "
            f"{row['turns_per_s']:.1f} turns/s, p50 {row['p50']:.0f} ms, p95 {row['p95']:.0f} ms, "
            f"p99 {row['p99']:.0f} ms, {row['errors']} errors, {row['lost']} lost")


if __name__ == "__main__":
    main()

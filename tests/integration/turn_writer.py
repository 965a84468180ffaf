"""Run two turns of one conversation and get killed between the second turn's memory and its transcript.

``python tests/integration/turn_writer.py PROJECT HOME MEMORY_HOME DATABASE_URL THREAD`` asks "My app is
not syncing" (the agent asks which device), prints ``recorded 1 TURN_ID``, then answers "On my iPhone" with a
store whose ``record_turn`` prints ``memory-written`` and waits: test_memory_crash.py sends SIGKILL there,
the window in which memory already holds the turn and the transcript does not.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from supportgraph.agents.memory import open_checkpointer
from supportgraph.agents.service import SupportAgent
from supportgraph.config import Settings
from supportgraph.store import Store


class StoreKilledBeforeTheTranscript(Store):
    def record_turn(self, *args, **kwargs) -> int:
        print("memory-written", flush=True)
        time.sleep(600)
        raise SystemExit("not killed")


def main(project: str, home: str, memory_home: str, url: str, thread: str) -> None:
    settings = Settings(project_dir=Path(project), home=Path(home), database_url=url)
    memory = open_checkpointer(settings.model_copy(update={"home": Path(memory_home)}))
    first = SupportAgent(settings, checkpointer=memory).ask("My app is not syncing", thread_id=thread)
    print(f"recorded 1 {first.turn_id} {first.outcome}", flush=True)
    agent = SupportAgent(settings, checkpointer=memory, store=StoreKilledBeforeTheTranscript(url))
    agent.ask("On my iPhone", thread_id=thread)


if __name__ == "__main__":
    main(*sys.argv[1:])

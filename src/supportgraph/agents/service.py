"""SupportAgent: the one entry point the CLI and the UI call for a turn.

It prepares the message (guard + redaction), runs the graph with the thread's
memory, stores the turn, and returns a typed result.
"""

from __future__ import annotations

import sqlite3
import time
import uuid

from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel, Field

from supportgraph import privacy
from supportgraph.agents.brief import Brief, load_brief
from supportgraph.agents.graph import build_graph
from supportgraph.agents.guardrails import prepare_message
from supportgraph.agents.intent import IntentClassifier
from supportgraph.agents.models import build_chat_model
from supportgraph.agents.state import AgentContext
from supportgraph.config import Settings
from supportgraph.knowledge.embedding import Embedder, SentenceTransformerEmbedder
from supportgraph.knowledge.retrieval import Retriever
from supportgraph.prompts.history import prompts_dir_for
from supportgraph.prompts.registry import PromptRegistry
from supportgraph.review.flags import review_flags
from supportgraph.store import Store, TurnRecord


class Citation(BaseModel):
    id: str
    title: str
    type: str
    note: str = ""


class TurnResult(BaseModel):
    thread_id: str
    turn_id: int
    outcome: str = Field(description="answered | clarify | escalated | resolved | refused")
    summary: str
    steps: list[str]
    citations: list[Citation]
    answer: str = Field(description="The full reply shown to the customer.")
    kb_version: str
    latency_ms: float
    confidence: float
    retrieved: list[dict]
    flags: list[str]
    handoff: str | None = None
    llm_calls: list[dict] = Field(default_factory=list, description="Model calls: node, prompt identity, "
                                  "status (ok or why it fell back to the twin), latency, tokens.")


def open_checkpointer(settings: Settings) -> SqliteSaver:
    settings.home.mkdir(parents=True, exist_ok=True)
    # One connection shared by threads: SqliteSaver serialises access with its own lock.
    connection = sqlite3.connect(settings.memory_path, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return SqliteSaver(connection)


class SupportAgent:
    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 retriever: Retriever | None = None, store: Store | None = None,
                 brief: Brief | None = None, checkpointer=None, model=None,
                 prompt_label: str = "production") -> None:
        self.settings = settings or Settings()
        self.model = model if model is not None else build_chat_model(self.settings)
        self.prompt_label = prompt_label  # which labelled version of each prompt the nodes render
        self.prompts: PromptRegistry | None = None
        self.embedder = embedder or SentenceTransformerEmbedder(self.settings.embedding_model)
        self.retriever = retriever or Retriever(self.settings, self.embedder)
        self.intents = IntentClassifier(self.embedder)  # reads what each message does, with the same model
        self._store = store
        self._brief = brief
        self._checkpointer = checkpointer
        self._graph = None

    def warm_up(self) -> None:
        """Load the brief, open the index, store and memory, and build the graph (once)."""
        if self._graph is not None:
            return
        self._brief = self._brief or load_brief(self.settings.brief_path)
        self.retriever.warm_up()
        if hasattr(self.embedder, "warm_up"):  # load the models now, not inside the first turn's latency
            self.embedder.warm_up()
        privacy.warm_up()
        self._store = self._store or Store(self.settings.database_url)
        self._checkpointer = self._checkpointer or open_checkpointer(self.settings)
        prompts_dir = prompts_dir_for(self.settings.project_dir)
        self.prompts = PromptRegistry(prompts_dir) if prompts_dir.is_dir() else None
        self.intents.warm_up()
        self._graph = build_graph(self._checkpointer)

    def close(self) -> None:
        """Release the memory and database connections (the index stays shared)."""
        if self._checkpointer is not None and hasattr(self._checkpointer, "conn"):
            self._checkpointer.conn.close()
        if self._store is not None:
            self._store.engine.dispose()
        self._graph = None

    @property
    def store(self) -> Store:
        self.warm_up()
        return self._store

    @property
    def brief(self) -> Brief:
        self.warm_up()
        return self._brief

    @property
    def graph(self):
        self.warm_up()
        return self._graph

    def ask(self, message: str | bytes | None, thread_id: str | None = None, channel: str = "cli") -> TurnResult:
        """One turn. Any message is accepted (invalid Unicode, NUL bytes, nothing at all): it is repaired,
        redacted and screened before the graph or the store sees it (agents/guardrails.py)."""
        self.warm_up()
        started = time.perf_counter()
        thread_id = thread_id or uuid.uuid4().hex
        previous = (self._graph.get_state({"configurable": {"thread_id": thread_id}}).values or {}).get("message", "")
        prepared = prepare_message(message, self._brief.limits.max_message_chars, previous)
        state, node_ms = self._run_graph(prepared, thread_id)
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        retrieved = [{"id": h["id"], "score": h["score"]} for h in state.get("hits", [])]
        llm_calls = state.get("llm_calls", [])
        flags = state.get("flags", []) + [f"fallback:{c['node']}:{c['status']}" for c in llm_calls
                                          if c["status"] != "ok"]
        record = TurnRecord(
            customer_message=prepared.text, reply=state["reply"], summary=state.get("summary", ""),
            outcome=state["outcome"], retrieved=retrieved,
            citations=[{"id": c["id"], "title": c["title"]} for c in state.get("citations", [])],
            confidence=state.get("confidence", 0.0), kb_version=self.retriever.kb_version,
            latency_ms=latency_ms, flags=flags, handoff=state.get("handoff"),
            trace={"llm_calls": llm_calls, "model": self._model_name(), "nodes": node_ms,
                   "prompts": self._prompt_versions()},
        )
        record.flags += [f for f in review_flags(record, self._brief) if f not in record.flags]
        turn_id = self._store.record_turn(thread_id, record, channel=channel)
        return TurnResult(
            thread_id=thread_id, turn_id=turn_id, outcome=record.outcome, summary=record.summary,
            steps=state.get("steps", []) if record.outcome == "answered" else [],
            citations=[Citation(**{k: c[k] for k in ("id", "title", "type", "note")})
                       for c in state.get("citations", [])] if record.outcome == "answered" else [],
            answer=record.reply, kb_version=record.kb_version, latency_ms=latency_ms,
            confidence=record.confidence, retrieved=retrieved, flags=record.flags, handoff=record.handoff,
            llm_calls=llm_calls,
        )

    def _run_graph(self, prepared, thread_id: str) -> tuple[dict, list[dict]]:
        """Run one turn; return the final state and how long each step took (the trace's per-node latency)."""
        context = AgentContext(brief=self._brief, retriever=self.retriever, intents=self.intents, model=self.model,
                               prompts=self.prompts,
                               prompt_label=self.prompt_label, json_mode=self.settings.chat_json_mode)
        state: dict = {}
        node_ms: list[dict] = []
        last = time.perf_counter()
        for mode, chunk in self._graph.stream({"message": prepared.agent_text, "input_flags": prepared.flags},
                                              config={"configurable": {"thread_id": thread_id}}, context=context,
                                              stream_mode=["updates", "values"]):
            if mode == "values":
                state = chunk
                continue
            now = time.perf_counter()
            node_ms += [{"node": node, "ms": round((now - last) * 1000, 1)} for node in chunk]
            last = now
        return state, node_ms

    def _prompt_versions(self) -> dict[str, str]:
        """Prompt name -> version the model path uses this turn (empty when the twins answer)."""
        if self.model is None or self.prompts is None:
            return {}
        return {name: self.prompts.resolve(name, self.prompt_label) for name in sorted(self.prompts.prompts)}

    def _model_name(self) -> str:
        if self.model is None:
            return "twins"
        return self.settings.chat_model or getattr(self.model, "model_name", None) or self.model._llm_type

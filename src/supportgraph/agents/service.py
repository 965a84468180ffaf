"""SupportAgent: the one entry point the CLI, the UI and the API call for a turn.

It prepares the message (guard + redaction), claims the thread (one turn at a time per thread,
across replicas), makes memory agree with the transcript, runs the graph with the thread's memory,
stores the turn, and returns a typed result. ``ask_stream`` yields each step as it finishes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from pydantic import BaseModel, Field

from supportgraph import privacy
from supportgraph.agents.brief import Brief, load_brief
from supportgraph.agents.graph import build_graph
from supportgraph.agents.grounding import GroundingCheck
from supportgraph.agents.guardrails import prepare_message
from supportgraph.agents.handoff import HandoffDesk
from supportgraph.agents.intent import IntentClassifier
from supportgraph.agents.memory import Memory, open_checkpointer, reconcile_thread
from supportgraph.agents.models import build_chat_model
from supportgraph.agents.output_guard import guard_reply
from supportgraph.agents.state import AgentContext
from supportgraph.config import Settings
from supportgraph.errors import ThreadBusyError
from supportgraph.experiments.serving import Arm, Cohorts
from supportgraph.knowledge.calibration import FEATURES, calibration_for
from supportgraph.knowledge.embedding import Embedder, build_embedder
from supportgraph.knowledge.retrieval import Retriever
from supportgraph.prompts.history import prompts_dir_for
from supportgraph.prompts.registry import PromptRegistry
from supportgraph.review.flags import review_flags
from supportgraph.store import Store, TurnRecord
from supportgraph.store.handoffs import active_handoff, open_handoff
from supportgraph.store.threads import claim_thread, new_owner, release_claim, renew_claim

__all__ = ["Citation", "StepEvent", "SupportAgent", "TurnResult", "open_checkpointer"]


class Citation(BaseModel):
    id: str
    title: str
    type: str
    note: str = ""


class TurnResult(BaseModel):
    thread_id: str
    turn_id: int
    outcome: str = Field(description="answered | clarify | escalated | resolved | refused | waiting "
                         "(a person has the thread; the bot did not answer)")
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
    experiment: dict | None = Field(default=None, description="The conversation's online experiment: name, "
                                    "variant assigned, variant served (experiments/serving.py).")


class StepEvent(BaseModel):
    """One graph step of a running turn, as ``ask_stream`` reports it."""

    thread_id: str
    node: str
    ms: float
    flags: list[str] = Field(default_factory=list, description="Step flags this step added (kept on the trace).")


class SupportAgent:
    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 retriever: Retriever | None = None, store: Store | None = None,
                 brief: Brief | None = None, checkpointer=None, model=None,
                 prompt_label: str = "production") -> None:
        self.settings = settings or Settings()
        self.model = model if model is not None else build_chat_model(self.settings)
        self.prompt_label = prompt_label  # which labelled version of each prompt the nodes render
        self.prompts: PromptRegistry | None = None
        self.embedder = embedder or build_embedder(self.settings)
        self.retriever = retriever or Retriever(self.settings, self.embedder)
        self.intents = IntentClassifier(self.embedder)  # reads what each message does, with the same model
        self.grounding = GroundingCheck(self.embedder)  # and checks the model's steps against their article
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
        self.memory = Memory(self._checkpointer)
        prompts_dir = prompts_dir_for(self.settings.project_dir)
        self.prompts = PromptRegistry(prompts_dir) if prompts_dir.is_dir() else None
        self.intents.warm_up()
        self.cohorts = Cohorts(self.settings.project_dir, Arm(self.prompt_label, self.retriever, self._brief),
                               self.embedder)
        self._graph = build_graph(self._checkpointer)

    def close(self) -> None:
        """Release the memory and database connections (the index stays shared)."""
        if self._checkpointer is not None and hasattr(self._checkpointer, "conn"):
            self._checkpointer.conn.close()  # the SQLite connection, or the PostgreSQL pool
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
        result = None
        for event in self.ask_stream(message, thread_id, channel):
            result = event
        return result

    def ask_stream(self, message: str | bytes | None, thread_id: str | None = None, channel: str = "cli",
                   wait_s: float = 0.0, input_flags: list[str] | None = None) -> Iterator[StepEvent | TurnResult]:
        """Run one turn: a StepEvent per finished graph step, then the TurnResult (last).

        ``input_flags``: what was done to a message redacted before its turn (a background run stores
        it redacted, ``guardrails.redact_message``), so its trace says so as if it had been done here.

        Raises ThreadBusyError when another turn of the thread is running anywhere and does not end
        within ``wait_s``. Closing the iterator early abandons the turn (nothing is recorded, and
        the next turn's reconciliation drops whatever memory it wrote)."""
        self.warm_up()
        started = time.perf_counter()
        thread_id = thread_id or uuid.uuid4().hex
        owner = self._claim(thread_id, wait_s)
        try:
            reconcile_thread(self.memory, self._store, thread_id)
            # The previous message, so an attack split across two turns is seen whole.
            previous = (self._graph.get_state({"configurable": {"thread_id": thread_id}}).values or {}).get("message", "")
            prepared = prepare_message(message, self._brief.limits.max_message_chars, previous)
            prepared.flags = list(dict.fromkeys([*(input_flags or []), *prepared.flags]))
            if (handoff := active_handoff(self._store, thread_id)) is not None:
                # A person has (or is about to take) this thread: the bot stays silent, the message waits for them.
                result = self._record_waiting(prepared, handoff, thread_id, channel, started)
            else:
                arm = self.cohorts.arm_for(self._store, thread_id, channel)  # sticky: the same every turn
                state: dict = {}
                node_ms: list[dict] = []
                for step in self._run_graph(prepared, thread_id, arm):
                    if isinstance(step, StepEvent):
                        node_ms.append({"node": step.node, "ms": step.ms, **({"flags": step.flags} if step.flags else {})})
                        renew_claim(self._store, thread_id, owner, self.settings.turn_lease_s)
                        yield step
                    else:
                        state = step
                result = self._record(prepared, state, node_ms, thread_id, channel, started, arm)
        finally:
            release_claim(self._store, thread_id, owner)
        yield result

    def _claim(self, thread_id: str, wait_s: float) -> str:
        owner = new_owner()
        deadline = time.monotonic() + wait_s
        while retry_after := claim_thread(self._store, thread_id, owner, self.settings.turn_lease_s):
            if time.monotonic() >= deadline:
                raise ThreadBusyError(thread_id, retry_after)
            time.sleep(min(0.1, max(deadline - time.monotonic(), 0.01)))
        return owner

    def _record(self, prepared, state: dict, node_ms: list[dict], thread_id: str, channel: str,
                started: float, arm: Arm) -> TurnResult:
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
                   "prompts": self._prompt_versions(arm.prompt_label), "decision": _decision(state, arm),
                   **({"experiment": arm.trace()} if arm.trace() else {})},
            checkpoint_id=self.memory.latest_id(thread_id),
        )
        record.flags += [f for f in review_flags(record, arm.brief) if f not in record.flags]  # the variant's thresholds
        turn_id = self._store.record_turn(thread_id, record, channel=channel)
        if record.outcome == "escalated":
            open_handoff(self._store, thread_id, turn_id, state.get("escalation_reason", ""), record.handoff or "",
                         state.get("slots") or {})
        self.cohorts.after_turn(self._store, arm)
        return TurnResult(
            thread_id=thread_id, turn_id=turn_id, outcome=record.outcome, summary=record.summary,
            steps=state.get("steps", []) if record.outcome == "answered" else [],
            citations=[Citation(**{k: c[k] for k in ("id", "title", "type", "note")})
                       for c in state.get("citations", [])] if record.outcome == "answered" else [],
            answer=record.reply, kb_version=record.kb_version, latency_ms=latency_ms,
            confidence=record.confidence, retrieved=retrieved, flags=record.flags, handoff=record.handoff,
            llm_calls=llm_calls, experiment=arm.trace(),
        )

    def _record_waiting(self, prepared, handoff, thread_id: str, channel: str, started: float) -> TurnResult:
        """The customer's message while a handoff is open: stored for the person, answered with where it stands."""
        notice = HandoffDesk(self._store, self._brief).notice(handoff)
        reply = guard_reply(notice.text, self._brief).text
        record = TurnRecord(customer_message=prepared.text, reply=reply, outcome="waiting",
                            latency_ms=round((time.perf_counter() - started) * 1000, 1),
                            flags=prepared.flags + [f"handoff:{notice.state}"], kb_version=self.retriever.kb_version,
                            trace={"handoff_id": handoff.id}, checkpoint_id=self.memory.latest_id(thread_id))
        turn_id = self._store.record_turn(thread_id, record, channel=channel)
        return TurnResult(thread_id=thread_id, turn_id=turn_id, outcome="waiting", summary="", steps=[], citations=[],
                          answer=reply, kb_version=record.kb_version, latency_ms=record.latency_ms, confidence=0.0,
                          retrieved=[], flags=record.flags)

    def _run_graph(self, prepared, thread_id: str, arm: Arm) -> Iterator[StepEvent | dict]:
        """Run one turn: a StepEvent as each step finishes (its latency goes into the trace), then the final state.

        Memory is written once, when the graph exits (``durability="exit"``): one checkpoint per turn,
        which the transcript row then names."""
        context = AgentContext(brief=arm.brief, retriever=arm.retriever, intents=self.intents, model=self.model,
                               grounding=self.grounding, prompts=self.prompts,
                               prompt_label=arm.prompt_label, json_mode=self.settings.chat_json_mode)
        state: dict = {}
        seen: list[str] = []  # step flags so far, to tell which step added which
        last = time.perf_counter()
        for mode, chunk in self._graph.stream({"message": prepared.agent_text, "input_flags": prepared.flags},
                                              config={"configurable": {"thread_id": thread_id}}, context=context,
                                              stream_mode=["updates", "values"], durability="exit"):
            if mode == "values":
                state = chunk
                continue
            now = time.perf_counter()
            for node, update in chunk.items():
                flags = [f for f in ((update or {}).get("flags") or []) if f not in seen] \
                    if isinstance(update, dict) else []
                seen += flags
                yield StepEvent(thread_id=thread_id, node=node, ms=round((now - last) * 1000, 1), flags=flags)
            last = now
        yield state

    def _prompt_versions(self, label: str) -> dict[str, str]:
        """Prompt name -> version the model path uses this turn (empty when the twins answer)."""
        if self.model is None or self.prompts is None:
            return {}
        return {name: self.prompts.resolve(name, label) for name in sorted(self.prompts.prompts)}

    def _model_name(self) -> str:
        if self.model is None:
            return "twins"
        return self.settings.chat_model or getattr(self.model, "model_name", None) or self.model._llm_type


def _decision(state: dict, arm: Arm) -> dict:
    """What the routing decision saw, for the trace (review/timeline.py explains it to reviewers): the
    threshold this turn's brief set, the reason routing gave, and the best article's confidence features
    with the calibration that weighed them."""
    decision: dict = {"intent": state.get("intent", ""), "min_confidence": arm.brief.escalation.min_confidence,
                      "reason": state.get("escalation_reason", "")}
    hits = state.get("hits") or []
    if hits and hits[0].get("features"):
        calibration = calibration_for(arm.retriever.manifest, arm.retriever.params)
        decision["features"] = hits[0]["features"]
        decision["calibration"] = {"source": calibration.source, "intercept": calibration.intercept,
                                   "weights": dict(zip(FEATURES, calibration.weights()))}
    return decision

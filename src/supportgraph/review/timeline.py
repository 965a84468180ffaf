"""A turn's trace as people read it: one row per graph step in the order it ran (latency, the model
call it made if any, the flags it raised), the passages retrieved, and the confidence explained.

Pure: it reads what the trace recorded (agents/service.py writes ``nodes``, ``llm_calls`` and
``decision``) and decides nothing; the Transcripts page only renders it. Turns recorded before a
fact was on the trace still read, with what is missing said so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from supportgraph.agents import routing
from supportgraph.review.transcripts import TurnView

STEP_LABELS = {
    "guard": "input guard (size, injection)",
    "summarize": "read the message, summarize the issue",
    "retrieve": "retrieve articles",
    "clarify": "ask one question",
    "answer": "draft the fix steps",
    "check": "check the answer against the guardrails",
    "confirm": "compose the reply",
    "escalate": "hand over to a person",
    "chat": "small talk",
    "close": "close the issue",
    "output_guard": "output guard (whole reply)",
}
FEATURE_LABELS = {
    "dense": "best passage cosine",
    "title": "title cosine",
    "coverage": "question words the article contains",
    "passage_coverage": "question words its best passage contains",
    "known": "question words the knowledge base knows",
    "missing": "rarity of the rarest question word the article lacks",
}


@dataclass(frozen=True)
class ModelCall:
    prompt: str              # name@version
    status: str              # ok, or why the twin answered instead (timeout, invalid, refused, ...)
    latency_ms: float
    input_tokens: int
    output_tokens: int
    detail: str = ""

    @property
    def fell_back(self) -> bool:
        return self.status != "ok"

    def describe(self) -> str:
        text = f"{self.prompt}: {self.input_tokens}+{self.output_tokens} tokens, {self.latency_ms:.0f} ms"
        if self.fell_back:
            text += f", fell back to the twin ({self.status}{': ' + self.detail if self.detail else ''})"
        elif self.detail:
            text += f" ({self.detail})"
        return text


@dataclass(frozen=True)
class Step:
    number: int
    node: str
    label: str
    start_ms: float | None   # from the start of the graph run (None: not timed)
    ms: float | None
    model_calls: list[ModelCall] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Passage:
    rank: int
    id: str
    title: str
    score: float
    cited: bool


@dataclass(frozen=True)
class Confidence:
    value: float
    threshold: float | None
    verdict: str          # answered | clarify | escalated | ... : the turn's outcome
    explanation: str      # one sentence: why this outcome, in terms of the scores
    details: list[str]    # the features behind the number, the ranking margin, what the trace lacks


@dataclass(frozen=True)
class Timeline:
    steps: list[Step]
    passages: list[Passage]
    confidence: Confidence
    total_ms: float
    model: str
    overhead_ms: float | None  # the turn's latency outside the graph steps (redaction, memory, store)
    turn_flags: list[str]      # step flags no recorded step raised (model fallbacks, older traces)


def _calls(trace: dict) -> list[tuple[str, ModelCall]]:
    calls = []
    for call in trace.get("llm_calls") or []:
        prompt = call.get("prompt") or {}
        calls.append((call.get("node", ""), ModelCall(
            prompt=f"{prompt.get('name', '?')}@{prompt.get('version', '?')}", status=call.get("status", "?"),
            latency_ms=float(call.get("latency_ms") or 0.0), input_tokens=int(call.get("input_tokens") or 0),
            output_tokens=int(call.get("output_tokens") or 0), detail=call.get("detail") or "")))
    return calls


def steps_of(trace: dict) -> list[Step]:
    """One row per recorded graph step, in order, each with its model calls and the flags it raised.
    A model call whose step was not recorded gets a row of its own (untimed)."""
    calls = _calls(trace)
    steps, start = [], 0.0
    for number, entry in enumerate(trace.get("nodes") or [], 1):
        node, ms = entry.get("node", "?"), float(entry.get("ms") or 0.0)
        mine = [call for owner, call in calls if owner == node]
        calls = [(owner, call) for owner, call in calls if owner != node]
        steps.append(Step(number, node, STEP_LABELS.get(node, node), round(start, 1), ms, mine,
                          list(entry.get("flags") or [])))
        start += ms
    for owner, call in calls:
        steps.append(Step(len(steps) + 1, owner, STEP_LABELS.get(owner, owner), None, None, [call]))
    return steps


def passages_of(turn: TurnView, title_of: Callable[[str], str | None]) -> list[Passage]:
    cited = {c.get("id") for c in turn.citations}
    return [Passage(rank, hit["id"], title_of(hit["id"]) or hit["id"], float(hit.get("score") or 0.0),
                    hit["id"] in cited) for rank, hit in enumerate(turn.retrieved, 1)]


def _features(decision: dict) -> list[str]:
    values, calibration = decision.get("features") or {}, decision.get("calibration") or {}
    weights = calibration.get("weights") or {}
    if not values:
        return []
    parts = []
    for name, value in values.items():
        push = f" ({weights[name] * value:+.2f})" if weights.get(name) else ""
        parts.append(f"{FEATURE_LABELS.get(name, name)} {value:.2f}{push}")
    source = f" ({calibration['source']} calibration)" if calibration.get("source") else ""
    return [f"Confidence is the calibrated probability that the best article is right{source}. Behind it, "
            "with each feature's push on the logistic score: " + "; ".join(parts) + "."]


def explain_confidence(turn: TurnView, steps: list[Step], default_threshold: float | None = None) -> Confidence:
    """Why the turn ended as it did, next to the raw scores. The threshold is the one the turn's own
    brief set (on the trace); older turns fall back to ``default_threshold`` (today's brief), and say so."""
    decision = turn.trace.get("decision") or {}
    recorded = decision.get("min_confidence")
    threshold = recorded if recorded is not None else default_threshold
    value, outcome = turn.confidence, turn.outcome
    nodes = [s.node for s in steps]
    details = _features(decision)
    scores = [float(h.get("score") or 0.0) for h in turn.retrieved]
    if len(scores) >= 2:
        details.append(f"Ranking score of the top article {scores[0]:.3f}; margin over the second article "
                       f"{scores[0] - scores[1]:.3f}.")
    elif len(scores) == 1:
        details.append(f"Ranking score of the only article {scores[0]:.3f}; no second article to compare.")
    if threshold is not None and recorded is None:
        details.append("This turn did not record its threshold: the current brief's is shown.")
    raw_reason = decision.get("reason") or ""
    reason = raw_reason.rstrip(".")
    top = f"confidence {value:.2f}"
    if threshold is not None:
        top += f" {'≥' if value >= threshold else '<'} the answer threshold {threshold:.2f}"
    if outcome == "human":
        text = f"human: {turn.author or 'a person'} wrote this reply; no model or retrieval ran."
    elif outcome == "waiting":
        text = "waiting: a person has (or is about to take) this thread, so the bot did not run."
    elif nodes and "retrieve" not in nodes and not turn.retrieved:
        why = {"refused": "the input guard refused the message", "resolved": "the customer said it is resolved"}
        text = (f"{outcome}: nothing was retrieved, so confidence played no part "
                f"({why.get(outcome, 'answered by the ' + (nodes[-2] if len(nodes) > 1 else nodes[0]) + ' step')}).")
        if reason:
            text = f"{outcome}: {reason} (decided before retrieval; confidence played no part)."
    elif not nodes and not turn.retrieved:
        text = f"{outcome}: this turn's trace records no steps."
    elif outcome == "escalated" and (raw_reason == routing.NO_ARTICLE  # an older trace: no reason recorded
                                     or (not decision and threshold is not None and value < threshold)):
        text = f"escalated: {top}, so no article was trusted to answer."
    elif outcome == "escalated":
        text = f"escalated: {reason or 'handed to a person'} ({top}; confidence was not the reason)."
    elif outcome == "answered":
        text = f"answered: {top}."
    elif "clarify" in nodes:
        text = f"clarify: {top}, but the best article needs a detail the customer had not given."
    elif "chat" in nodes:
        text = f"{outcome}: {top}; the message was read as off topic or small talk, so no article was offered."
    else:
        text = f"{outcome}: {top}."
    return Confidence(value, threshold, outcome, text, details)


def timeline(turn: TurnView, title_of: Callable[[str], str | None], default_threshold: float | None = None) -> Timeline:
    """The readable trace of one turn. ``title_of`` names an article id (None: no longer in the knowledge base)."""
    steps = steps_of(turn.trace)
    timed = [s.ms for s in steps if s.ms is not None]
    raised = {flag for s in steps for flag in s.flags}
    fallbacks = {f"fallback:{s.node}:{c.status}" for s in steps for c in s.model_calls if c.fell_back}
    return Timeline(
        steps=steps, passages=passages_of(turn, title_of),
        confidence=explain_confidence(turn, steps, default_threshold), total_ms=turn.latency_ms,
        model=turn.trace.get("model") or ("person" if turn.outcome == "human" else "none"),
        overhead_ms=round(max(turn.latency_ms - sum(timed), 0.0), 1) if timed else None,
        turn_flags=[f for f in turn.step_flags if f not in raised and f not in fallbacks])

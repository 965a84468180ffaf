"""What flows through the graph, and the typed context every node receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

from langchain_core.language_models import BaseChatModel

from supportgraph.agents.brief import Brief
from supportgraph.agents.grounding import GroundingCheck
from supportgraph.agents.intent import IntentClassifier
from supportgraph.knowledge.retrieval import Retriever
from supportgraph.prompts.registry import PromptRegistry

Outcome = Literal["answered", "clarify", "escalated", "resolved", "refused"]
Awaiting = Literal["clarify", "confirm"]


class SupportState(TypedDict, total=False):
    # Kept across turns of a thread (the checkpointer stores them).
    issue: str                 # the customer's issue, with details given since
    summary: str               # one sentence
    slots: dict[str, str]      # details learned, e.g. {"device": "ios"}
    asked: list[str]           # slots already asked about for this issue
    awaiting: Awaiting | None  # what the last reply asked the customer
    offered: list[str]         # article ids already offered for this issue
    failed_attempts: int
    # Set fresh every turn.
    message: str
    input_flags: list[str]
    intent: str                # agents/intent.py Intent: new_issue | clarify_answer | retry | resolved | ...
    questions: list[str]       # what this turn answers, the main question first
    small_talk: str            # greeting | thanks | ack | later, when the message is small talk
    hits: list[dict]           # retrieved articles: id, title, type, score, passages
    confidence: float
    also: list[dict]           # a second question asked with the first: question, hits, confidence
    also_answers: list[dict]   # its answer: summary, id, title, steps (none: no article had them)
    steps: list[str]
    intro: str                 # the lead sentence(s) before the steps
    numbered: bool             # the steps are the article's own numbered list (else its matched sentences)
    citations: list[dict]      # id, title, type, note
    escalation_reason: str
    handoff: str | None
    outcome: Outcome
    reply: str
    flags: list[str]
    llm_calls: list[dict]      # one per model call: node, prompt identity, status, latency, tokens


# Fields reset at the start of every turn so nothing leaks from the previous one.
TURN_FIELDS: dict = {
    "hits": [], "confidence": 0.0, "steps": [], "intro": "", "numbered": False, "citations": [], "questions": [], "small_talk": "",
    "also": [], "also_answers": [], "escalation_reason": "", "handoff": None, "reply": "", "flags": [], "intent": "",
    "llm_calls": [],
}


@dataclass(frozen=True)
class AgentContext:
    """Typed dependencies handed to every node through ``Runtime[AgentContext]``."""

    brief: Brief
    retriever: Retriever
    intents: IntentClassifier
    grounding: GroundingCheck                 # which model-written steps the cited article supports
    model: BaseChatModel | None = None        # None: every step uses its deterministic twin
    prompts: PromptRegistry | None = None
    prompt_label: str = "production"
    json_mode: str = "text"                   # Settings.chat_json_mode: how prompts ask for JSON

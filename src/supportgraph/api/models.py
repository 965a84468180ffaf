"""Request and response bodies of the API (pydantic at the edge). Shapes follow LangGraph's Agent
Protocol where it fits: threads, runs with ``assistant_id`` and ``input``, ``multitask_strategy``,
``if_not_exists``, history items with ``values``/``metadata``/``checkpoint``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from supportgraph.agents.service import Citation

ASSISTANT_ID = "support"
ThreadId = Field(default=None, pattern=r"^[A-Za-z0-9_-]{8,64}$", description="Your own id (8-64 of A-Z a-z 0-9 _ -); "
                 "default: a new random one.")


class ErrorDetail(BaseModel):
    code: str
    message: str
    fix: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class ThreadCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    thread_id: str | None = ThreadId
    metadata: dict = Field(default_factory=dict)
    if_exists: Literal["raise", "do_nothing"] = "raise"


class Thread(BaseModel):
    thread_id: str
    created_at: dt.datetime
    updated_at: dt.datetime
    metadata: dict
    status: Literal["idle", "busy"]
    end_user: str | None = None


class InputMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str | None = Field(default=None, description="user / human (LangChain's `type` also works)")
    type: str | None = None
    content: str


class RunInput(BaseModel):
    """The customer's message: ``{"message": "..."}``, or LangGraph's ``{"messages": [{"role": "user", ...}]}``
    (the last user message is the one answered; the thread's memory holds the rest)."""

    model_config = ConfigDict(extra="ignore")

    message: str | None = Field(default=None, max_length=20_000)
    messages: list[InputMessage] | None = None

    @model_validator(mode="after")
    def _one_message(self) -> RunInput:
        if self.message is None and not any((m.role or m.type) in ("user", "human") for m in self.messages or []):
            raise ValueError("input needs `message` (text) or `messages` with a user message")
        return self

    def text(self) -> str:
        if self.message is not None:
            return self.message
        return [m.content for m in self.messages if (m.role or m.type) in ("user", "human")][-1]


class RunCreate(BaseModel):
    """A turn. Other Agent Protocol fields (config, stream_mode, on_disconnect...) are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    assistant_id: str = ASSISTANT_ID
    input: RunInput
    metadata: dict = Field(default_factory=dict)
    multitask_strategy: Literal["reject", "enqueue"] = Field(
        default="reject", description="A turn already running on the thread: reject (409) or enqueue "
                                      "(wait for it, up to SUPPORTGRAPH_TURN_WAIT_S, then 409).")
    if_not_exists: Literal["reject", "create"] = Field(
        default="reject", description="The thread does not exist: reject (404) or create it for this end user.")


class RunOutput(BaseModel):
    run_id: str
    thread_id: str
    turn_id: int
    status: Literal["success"] = "success"
    outcome: str = Field(description="answered | clarify | escalated | resolved | refused")
    reply: str = Field(description="The whole reply to show the customer (markdown).")
    summary: str
    steps: list[str]
    citations: list[Citation]
    handoff: str | None = Field(default=None, description="Set when a person takes over: the summary they get.")
    kb_version: str
    latency_ms: float
    experiment: dict | None = Field(default=None, description="The thread's online experiment, when it is in one: "
                                    "name, variant assigned, variant served.")


class RunError(BaseModel):
    status: int = Field(description="The HTTP status /runs/wait would have answered with.")
    code: str
    message: str
    fix: str


class Run(BaseModel):
    """A background run, as the Agent Protocol shows one (``POST /threads/{id}/runs``)."""

    run_id: str
    thread_id: str
    assistant_id: str
    status: Literal["pending", "running", "success", "error", "interrupted"] = Field(
        description="pending (accepted, waiting for a worker or for the thread's earlier runs), running, "
                    "success (GET .../join has the reply), error (see `error`), interrupted (cancelled).")
    created_at: dt.datetime
    updated_at: dt.datetime
    metadata: dict
    multitask_strategy: Literal["reject", "enqueue"]
    attempts: int = Field(description="Times a worker started it (more than one: a server died while running it).")
    turn_id: int | None = Field(default=None, description="The turn it recorded, once it succeeded.")
    error: RunError | None = None


class FeedbackBody(BaseModel):
    thumb: Literal["up", "down"] | None = None
    stars: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = Field(default=None, max_length=4000)


class FeedbackOut(FeedbackBody):
    turn_id: int


class TurnValues(BaseModel):
    message: str
    reply: str
    outcome: str
    summary: str
    citations: list[dict]


class HistoryItem(BaseModel):
    """One turn, as a state of the thread (newest first, like Agent Protocol's history)."""

    values: TurnValues
    metadata: dict = Field(description="turn_id, kb_version, feedback")
    created_at: dt.datetime
    checkpoint: dict = Field(description="thread_id, checkpoint_id: the memory this turn ended on")


class ArticleBody(BaseModel):
    text: str = Field(description="The whole article file: front matter, then markdown (knowledge/README.md).",
                      max_length=200_000)
    reason: str = Field(description="Why, in a few words: kept in the KB history with the key's name as author.",
                        min_length=1, max_length=200)


class RevertBody(BaseModel):
    reason: str = Field("", description="Added to the recorded reason 'revert #N (its reason)'.", max_length=150)


class EditOut(BaseModel):
    """One saved edit of the knowledge base (its texts: GET .../diff)."""

    id: int
    article_id: str
    path: str
    author: str
    reason: str
    kind: Literal["created", "edited", "removed"]
    reverts: int | None = None
    created_at: dt.datetime


class EditDiff(EditOut):
    diff: str = Field(description="A unified diff of the file, before -> after this edit.")


class IndexOut(BaseModel):
    article_id: str | None = None
    edit_id: int | None = Field(None, description="The KB history entry of this save; none when nothing changed.")
    kb_version: str
    embedded_chunks: int
    articles: int
    kept_published: list[str] = Field(default_factory=list, description=(
        "Articles this replica's knowledge folder has older copies of: the version another replica published "
        "was kept (update this folder)."))


class Assistant(BaseModel):
    assistant_id: str = ASSISTANT_ID
    graph_id: str = ASSISTANT_ID
    name: str = "Support agent"
    description: str = "Answers from cited help articles, asks one clarifying question, hands over to a person."
    metadata: dict = Field(default_factory=dict)


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Learning = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class StopBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="Why it is stopped, for the record (with who stopped it).")


class ConcludeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    learning: Learning = Field(description="What the experiment showed, for the log (evals/EXPERIMENTS.md).")
    winner: str | None = Field(default=None, description="The variant that becomes production; default: the "
                               "significant one. Needed with force.")
    force: bool = Field(default=False, description="Decide without a significant result (the log says forced).")

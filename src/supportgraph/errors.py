"""Errors meant for people. Each one says what went wrong and how to fix it.

Only the CLI and the UI format these for display; library code raises them.
"""

from __future__ import annotations

from dataclasses import dataclass


class SupportGraphError(Exception):
    """Base class: ``message`` says what happened, ``fix`` what to do about it."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} Fix: {self.fix}" if self.fix else self.message


class ConfigError(SupportGraphError):
    """A settings file or value is missing or invalid."""


class ExperimentStateError(ConfigError):
    """An experiment action that does not fit the experiment's state: starting a concluded or running
    one, stopping one that is not running, concluding without a significant result (the API answers 409)."""


class IndexNotBuiltError(SupportGraphError):
    def __init__(self, where: object) -> None:
        super().__init__(
            f"No knowledge index at {where}.",
            "run `supportgraph index` (or `make run`, which builds it) first.",
        )


class IndexBusyError(SupportGraphError):
    def __init__(self, lock_path: object) -> None:
        super().__init__(
            f"Another `supportgraph index` is writing the index (lock: {lock_path}).",
            "wait for it to finish and run the command again; only one indexer may write at a time.",
        )


class EmbeddingBackendMismatchError(ConfigError):
    """The index was embedded by one backend and this process would embed queries with another."""

    def __init__(self, where: object, built: str, asked: str) -> None:
        super().__init__(
            f"The index at {where} was embedded with the {built!r} embedding backend, but this process embeds "
            f"queries with {asked!r}: their vectors would not match.",
            f"set SUPPORTGRAPH_EMBEDDING_BACKEND={built}, or keep {asked!r} and rebuild the index with "
            "`supportgraph index` (it re-embeds every chunk with the new backend).")


class IndexConflictError(SupportGraphError):
    """This knowledge folder's copy of an article would undo another replica's published edit of it
    (knowledge/shared.py says which and how to fix it; the API answers 409)."""


class KnowledgeError(SupportGraphError):
    """The knowledge folder is missing or holds no valid article."""


class StoreError(SupportGraphError):
    """The conversation store could not be read or written."""


class NotFoundError(SupportGraphError):
    """A conversation, turn or article that was asked for does not exist."""


class HandoffError(SupportGraphError):
    """A handoff action that does not fit the handoff's state (already claimed, not yours, ended) or the person's role."""


class ReplyRejectedError(SupportGraphError):
    """A person's reply that was not sent: empty, too long, or blocked by the output guard."""


@dataclass(frozen=True)
class FileProblem:
    """One problem in one file (an article, a prompt), reported without stopping the others."""

    path: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} Fix: {self.fix}"


class ThreadBusyError(SupportGraphError):
    """Another turn of the same conversation is running (on this replica or another one)."""

    def __init__(self, thread_id: str, retry_after_s: float) -> None:
        super().__init__(f"Conversation {thread_id} is answering another message.",
                         "wait for that reply, then send this message again.")
        self.thread_id = thread_id
        self.retry_after_s = retry_after_s

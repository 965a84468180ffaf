"""A replaying fake chat model for fast unit tests (shipped with the package,
like llm's MockModel and pydantic-ai's TestModel). Real models are tested
against a real server in the integration tests."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field


class ReplayChatModel(BaseChatModel):
    """Answers with the queued replies in order (an Exception instance is raised instead, an
    AIMessage returned as it is),
    and keeps every list of messages it was sent in ``received`` and its call options
    (temperature, max_tokens, ...) in ``options``."""

    replies: list[Any] = Field(default_factory=list)
    received: list[list[BaseMessage]] = Field(default_factory=list)
    options: list[dict[str, Any]] = Field(default_factory=list)  # the call options of each call

    @property
    def _llm_type(self) -> str:
        return "replay"

    def enqueue(self, *replies: Any) -> ReplayChatModel:
        self.replies.extend(replies)
        return self

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        self.received.append(list(messages))
        self.options.append(dict(kwargs))
        if not self.replies:
            raise RuntimeError("ReplayChatModel has no reply queued")
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, AIMessage):
            return ChatResult(generations=[ChatGeneration(message=reply)])
        message = AIMessage(content=reply, usage_metadata={"input_tokens": sum(len(m.content) // 4 for m in messages),
                                                           "output_tokens": len(reply) // 4,
                                                           "total_tokens": 0})
        return ChatResult(generations=[ChatGeneration(message=message)])

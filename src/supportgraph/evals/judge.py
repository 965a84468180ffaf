"""The models RAGAS metrics are given, always explicitly.

- `LocalRagasEmbeddings`: supportgraph's local embedder in RAGAS' modern
  embedding interface. It sends nothing anywhere (RAGAS' own LangChain wrapper
  posts a usage event to its analytics server on every call).
- `ChatModelJudge`: the configured LangChain chat model in RAGAS' structured
  output interface (what `llm_factory` returns, without an Instructor client):
  the prompt goes out as one user message, the reply must hold a JSON object
  that parses into the metric's output model, else `JudgeError`.
- `build_judge(settings)`: the judge for the configured chat model, or None
  when no model is configured (the LLM-judged metrics are then skipped).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, ValidationError
from ragas.embeddings.base import BaseRagasEmbedding
from ragas.llms.base import InstructorBaseRagasLLM

from supportgraph.agents.models import JsonMode, build_chat_model, call_options, parse_json_object
from supportgraph.config import Settings
from supportgraph.knowledge.embedding import Embedder

T = TypeVar("T", bound=BaseModel)


class JudgeError(Exception):
    """One judgement that produced no score. ``kind``: unparsable | truncated | timeout | error | no_score."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


class LocalRagasEmbeddings(BaseRagasEmbedding):
    def __init__(self, embedder: Embedder) -> None:
        super().__init__(cache=None)
        self.embedder = embedder

    def embed_text(self, text: str, **kwargs: Any) -> list[float]:
        return self.embedder.embed([text])[0].tolist()

    async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
        return self.embed_text(text)

    def embed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        return np.asarray(self.embedder.embed(list(texts))).tolist()

    async def aembed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        return self.embed_texts(texts)


def _provider_error(error: Exception) -> JudgeError:
    timed_out = "timeout" in type(error).__name__.lower() or "timed out" in str(error).lower()
    return JudgeError("timeout" if timed_out else "error", f"{type(error).__name__}: {error}"[:300])


JUDGE_MAX_TOKENS = 512  # RAGAS' longest outputs (statement lists) fit; a rambling judge is cut off


class ChatModelJudge(InstructorBaseRagasLLM):
    """A LangChain chat model answering RAGAS' prompts with its output models: deterministic,
    length-capped calls, decoding constrained to the output model's schema when ``json_mode``
    says the server can (Settings.chat_json_mode)."""

    def __init__(self, model: BaseChatModel, name: str = "", max_tokens: int = JUDGE_MAX_TOKENS,
                 json_mode: JsonMode = "text") -> None:
        self.model = model
        self.name = name or getattr(model, "model_name", None) or type(model).__name__
        self.max_tokens, self.json_mode = max_tokens, json_mode
        self.calls = 0

    def _options(self, response_model: type[BaseModel]) -> dict:
        return call_options(self.model, {"temperature": 0.0, "max_tokens": self.max_tokens},
                            response_model.model_json_schema(), response_model.__name__, self.json_mode)

    def _parse(self, reply: Any, response_model: type[T]) -> T:
        text = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
        parsed = parse_json_object(text)
        cut = reply.response_metadata.get("finish_reason") == "length"
        if cut and (parsed is None or not _validates(response_model, parsed)):
            raise JudgeError("truncated", f"{response_model.__name__}: the reply reached max_tokens="
                             f"{self.max_tokens} before its JSON ended (a judge that repeats itself, or a "
                             "limit too low for this metric)")
        if parsed is None:
            raise JudgeError("unparsable", f"no JSON object in the reply: {text[:120]!r}")
        try:
            return response_model.model_validate(parsed)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(root)"
            raise JudgeError("unparsable", f"{response_model.__name__}: {where}: {first['msg']}; reply "
                             f"{text[:120]!r}"[:300]) from None

    def generate(self, prompt: str, response_model: type[T]) -> T:
        self.calls += 1
        try:
            reply = self.model.invoke([HumanMessage(content=prompt)], **self._options(response_model))
        except Exception as error:  # noqa: BLE001 - a provider failure is this judgement's error, not the run's
            raise _provider_error(error) from None
        return self._parse(reply, response_model)

    async def agenerate(self, prompt: str, response_model: type[T]) -> T:
        self.calls += 1
        try:
            reply = await self.model.ainvoke([HumanMessage(content=prompt)], **self._options(response_model))
        except Exception as error:  # noqa: BLE001
            raise _provider_error(error) from None
        return self._parse(reply, response_model)


def _validates(response_model: type[BaseModel], parsed: dict) -> bool:
    try:
        response_model.model_validate(parsed)
    except ValidationError:
        return False
    return True


def build_judge(settings: Settings) -> ChatModelJudge | None:
    """The configured chat model as a RAGAS judge; None when no model is configured."""
    model = build_chat_model(settings)
    if model is None:
        return None
    return ChatModelJudge(model, settings.chat_model or "", json_mode=settings.chat_json_mode)

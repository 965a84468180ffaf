"""The model layer: any LangChain chat model, called with a versioned prompt,
its output validated; anything wrong is reported, never raised.

A node asks `call_prompt(...)`; it gets an `LLMCall` whose `status` is `ok`
with parsed output, or why not (`timeout`, `error`, `invalid`, `refused`,
`empty`). The node then falls back to its deterministic twin and the trace
keeps the reason.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Literal

import jsonschema
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from supportgraph.config import Settings
from supportgraph.errors import ConfigError
from supportgraph.prompts.registry import PromptFile

REFUSAL = re.compile(r"^\W*(i('m| am) (sorry|unable)|i can(no|')t (help|assist|do)|as an ai)", re.IGNORECASE)
_ROLES = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured chat model, or None (the deterministic twins answer)."""
    if settings.chat_base_url:
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(base_url=settings.chat_base_url, model=settings.chat_model or "local",
                          api_key=os.environ.get(settings.chat_api_key_env) or "not-needed",
                          timeout=settings.llm_timeout_s, max_retries=settings.llm_retries)
    if settings.chat_model:
        from langchain.chat_models import init_chat_model

        try:
            return init_chat_model(settings.chat_model, timeout=settings.llm_timeout_s,
                                   max_retries=settings.llm_retries)
        except (ImportError, ValueError) as error:
            raise ConfigError(f"Cannot use chat model '{settings.chat_model}': {error}",
                              "install the provider's LangChain package (e.g. langchain-openai) or fix "
                              "SUPPORTGRAPH_CHAT_MODEL (provider:model).") from None
    return None


@dataclass
class LLMCall:
    node: str
    prompt: dict[str, str]          # name, version, hash
    status: str                     # ok | timeout | error | invalid | refused | empty | ungrounded
    latency_ms: float
    input_tokens: int = 0
    output_tokens: int = 0
    detail: str = ""
    output: dict = field(default_factory=dict)

    def trace(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "output"}


def parse_json_object(text: str) -> dict | None:
    """The first JSON object in a reply (models like to wrap it in prose or code fences)."""
    text = re.sub(r"^```(?:json)?|```$", "", text.strip(), flags=re.MULTILINE)
    start = text.find("{")
    while start != -1:
        try:
            value, _ = json.JSONDecoder().raw_decode(text[start:])
            if isinstance(value, dict):
                return value
        except json.JSONDecodeError:
            pass
        start = text.find("{", start + 1)
    return None


# The prompt-file model settings passed on each call; anything else in `model:` is documentation.
CALL_SETTINGS = ("temperature", "top_p", "max_tokens")
JsonMode = Literal["text", "json_object", "json_schema"]


def _compatible_server(model: BaseChatModel) -> bool:
    """An OpenAI-compatible server at a custom base URL (llama.cpp, vLLM, ...), not OpenAI itself."""
    return bool(getattr(model, "openai_api_base", None))


def call_options(model: BaseChatModel, settings: dict, schema: dict | None = None, name: str = "output",
                 json_mode: JsonMode = "text") -> dict:
    """Model settings (temperature, max_tokens, ...) and, when asked, an output schema as
    ``model.invoke`` options, in the form this model's API takes them.

    langchain-openai sends ``max_tokens`` as ``max_completion_tokens``, which llama.cpp's and
    other OpenAI-compatible servers ignore: for a custom base URL it goes in the request body as
    ``max_tokens`` instead. Without the cap a chatty model generates until its context is full,
    long after the client has given up on it.

    ``json_mode`` constrains decoding to ``schema`` where the server can: ``json_object`` is
    llama.cpp's form (``{"type": "json_object", "schema": ...}``), ``json_schema`` OpenAI's
    structured outputs (also vLLM and llama.cpp's own server).
    """
    options: dict = {key: settings[key] for key in CALL_SETTINGS if key in settings}
    body: dict = {}
    if "max_tokens" in options and _compatible_server(model):
        body["max_tokens"] = int(options.pop("max_tokens"))
    if schema and json_mode == "json_object":
        body["response_format"] = {"type": "json_object", "schema": schema}
    elif schema and json_mode == "json_schema":
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
    if body and _compatible_server(model):
        options["extra_body"] = body
    elif "response_format" in body:
        options["response_format"] = body["response_format"]
    return options


def call_prompt(model: BaseChatModel, node: str, prompt: PromptFile, values: dict,
                json_mode: JsonMode = "text") -> LLMCall:
    messages: list[BaseMessage] = [_ROLES[m["role"]](content=m["content"]) for m in prompt.render(**values)]
    if prompt.output_schema:
        messages[0] = SystemMessage(content=messages[0].content + "\nReply with only a JSON object matching: "
                                    + json.dumps(prompt.output_schema))
    started = time.perf_counter()
    call = LLMCall(node=node, prompt=prompt.identity, status="ok", latency_ms=0.0)
    try:
        options = call_options(model, prompt.model, prompt.output_schema, prompt.name.replace(".", "_"), json_mode)
        reply = model.invoke(messages, **options)
    except Exception as error:  # noqa: BLE001 - any provider failure becomes a fallback, with its reason
        call.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        timed_out = "timeout" in type(error).__name__.lower() or "timed out" in str(error).lower()
        call.status, call.detail = ("timeout" if timed_out else "error"), f"{type(error).__name__}: {error}"[:300]
        return call
    call.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    usage = getattr(reply, "usage_metadata", None) or {}
    call.input_tokens, call.output_tokens = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
    text = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
    if not text.strip():
        call.status = "empty"
    elif REFUSAL.match(text):
        call.status, call.detail = "refused", text[:200]
    elif prompt.output_schema:
        parsed = parse_json_object(text)
        try:
            jsonschema.validate(parsed, prompt.output_schema)
            call.output = parsed
        except jsonschema.ValidationError as error:
            call.status, call.detail = "invalid", (error.message if parsed is not None else "no JSON object")[:300]
    else:
        call.output = {"text": text}
    return call

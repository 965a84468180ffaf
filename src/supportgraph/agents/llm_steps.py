"""The LLM side of each scaffold step: render the node's prompt (by label), call the
model, check the output; return None whenever the twin should answer instead.

Every attempt is appended to ``calls`` (the turn's trace), including why it fell back.
"""

from __future__ import annotations

import re

from supportgraph.agents import twins
from supportgraph.agents.models import LLMCall, call_prompt
from supportgraph.agents.state import AgentContext
from supportgraph.prompts.history import get_version


def _run(context: AgentContext, node: str, name: str, values: dict, calls: list[dict]) -> LLMCall | None:
    if context.model is None or context.prompts is None or name not in context.prompts.prompts:
        return None
    prompt = get_version(context.prompts, name, context.prompts.resolve(name, context.prompt_label))
    call = call_prompt(context.model, node, prompt, values, context.json_mode)
    calls.append(call.trace())
    return call


def summary(context: AgentContext, message: str, calls: list[dict]) -> str | None:
    call = _run(context, "summarize", "support.summarize", {"message": message, "history": ""}, calls)
    if call is None or call.status != "ok":
        return None
    text = " ".join(call.output["summary"].split())
    if len(re.findall(r"[^\W\d_]{2,}", text)) < 3:
        return _fail(calls, "invalid", "not a sentence")
    return text if len(twins.sentences(text)) == 1 else _fail(calls, "invalid", "not one sentence")


def question(context: AgentContext, summary_text: str, slot: str, calls: list[dict]) -> str | None:
    allowed = ", ".join(context.brief.slots[slot].values)
    call = _run(context, "clarify", "support.clarify", {"summary": summary_text,
                                                        "missing_detail": f"{slot}: {allowed}"}, calls)
    if call is None or call.status != "ok":
        return None
    text = call.output["question"].strip()
    return text if text.count("?") == 1 else _fail(calls, "invalid", "not exactly one question")


def steps(context: AgentContext, summary_text: str, top, passages: list[str], calls: list[dict]) -> list[str] | None:
    values = {"summary": summary_text, "article_title": top.title, "article_id": top.id, "passages": passages,
              "tone": context.brief.tone,
              "forbidden": "; ".join(r.description for r in context.brief.guardrails.forbidden_actions)}
    call = _run(context, "answer", "support.answer", values, calls)
    if call is None or call.status != "ok":
        return None
    proposed = [" ".join(s.split()) for s in call.output["steps"] if s.strip()]
    verdicts = context.grounding.verdicts(proposed, passages + [top.body])
    kept = [v.step for v in verdicts if v.accepted]
    dropped = [v.reason for v in verdicts if not v.accepted]
    if dropped:  # the steps the article does not support go; the rest of the answer stays
        calls[-1].update(dropped=len(dropped), detail=f"dropped {len(dropped)} of {len(proposed)} steps "
                         f"the article does not support ({', '.join(sorted(set(dropped)))})")
    return kept or _fail(calls, "ungrounded", calls[-1].get("detail", "no steps"))


def handoff_note(context: AgentContext, values: dict, calls: list[dict]) -> str | None:
    call = _run(context, "escalate", "support.escalate", values, calls)
    return call.output["note"].strip() if call is not None and call.status == "ok" else None


def _fail(calls: list[dict], status: str, detail: str) -> None:
    calls[-1].update(status=status, detail=detail)
    return None

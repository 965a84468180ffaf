"""The scaffold steps, one LangGraph node each.

Nodes read the typed context (brief, retriever) from ``Runtime[AgentContext]``
and return partial state updates. Each step here uses its deterministic twin.
"""

from __future__ import annotations

import re

from langgraph.runtime import Runtime

from supportgraph.agents import llm_steps, twins
from supportgraph.agents.state import TURN_FIELDS, AgentContext, SupportState

RESOLVED = re.compile(r"^\W*(yes|yep|yeah|yup|it (did|worked|works)|that (worked|did it|fixed it|helped)|"
                      r"(all )?(fixed|solved|sorted|resolved)|works( now)?|perfect|great|thanks?|thank you)\b",
                      re.IGNORECASE)
STILL_FAILING = re.compile(r"\b(no|nope|still|didn'?t|did not|doesn'?t|does not|not (fixed|working|work)|"
                           r"same (problem|issue|error)|no luck|nothing changed)\b", re.IGNORECASE)
DEVICE_LABELS = {"ios": "iOS", "android": "Android", "windows": "Windows", "mac": "Mac", "web": "Web"}
RETRIEVE_K = 5
RELATED_MARGIN = 0.08  # a policy this close (cosine) to the best article is cited beside it


def guard(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """Reset per-turn fields; answer empty, oversized or manipulative messages directly."""
    update = dict(TURN_FIELDS)
    flags = list(state.get("input_flags", []))
    update["flags"] = flags
    limit = runtime.context.brief.limits.max_message_chars
    if "empty_message" in flags:
        update.update(outcome="clarify", reply="I didn't get a message. What can I help you with today?")
    elif "message_too_long" in flags:
        update.update(outcome="clarify", reply=(
            f"Your message is longer than the {limit:,} characters I can read. Could you describe the "
            "problem in a few sentences? You can leave out logs and long pasted text."))
    elif "prompt_injection" in flags:
        update.update(outcome="refused", flags=flags + ["refused"], reply=(
            "I can't change how I work or share internal information. I'm happy to help with a question "
            "about your Kitebase account, billing or apps."))
    return update


def summarize(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """Decide what the message is doing, learn details from it, and restate the issue in one sentence."""
    brief = runtime.context.brief
    message = state["message"]
    slots = dict(state.get("slots") or {})
    for name, slot in brief.slots.items():
        value = slot.find(message)
        if value:
            slots[name] = value
    awaiting = state.get("awaiting")
    update: dict = {"slots": slots}
    if brief.escalation.wants_human(message):
        in_progress = state.get("awaiting") and state.get("summary")
        return update | {"intent": "human", "summary": state["summary"] if in_progress else twins.summarize_issue(message),
                         "escalation_reason": "You asked to talk to a person."}
    topic = brief.escalation.forbidden_topic(message)
    if topic:
        return update | {"intent": "forbidden", "summary": twins.summarize_issue(message),
                         "escalation_reason": topic.reason, "flags": state["flags"] + [f"topic:{topic.id}"]}
    if awaiting == "confirm" and RESOLVED.match(message) and not STILL_FAILING.search(message):
        return update | {"intent": "resolved"}
    if state.get("offered") and (awaiting == "confirm" or len(message.split()) <= 8) and STILL_FAILING.search(message):
        return update | {"intent": "retry", "failed_attempts": state.get("failed_attempts", 0) + 1,
                         "issue": f"{state['issue']} {message}"}
    if awaiting == "clarify":
        return update | {"intent": "clarify_answer", "issue": f"{state['issue']} {message}"}
    calls = list(state.get("llm_calls", []))
    summary = llm_steps.summary(runtime.context, message, calls) or twins.summarize_issue(message)
    return update | {"intent": "new_issue", "issue": message, "summary": summary, "llm_calls": calls,
                     "asked": [], "offered": [], "failed_attempts": 0}


def retrieve(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """Find the articles for the issue; on a retry, skip the ones already offered."""
    query = state["issue"]
    device = (state.get("slots") or {}).get("device")
    if device:
        query = f"{query} ({DEVICE_LABELS.get(device, device)})"
    exclude = state.get("offered", []) if state.get("intent") == "retry" else []
    retriever = runtime.context.retriever
    hits = retriever.search(query, k=RETRIEVE_K, exclude=exclude)
    return {
        "hits": [{"id": h.article.id, "title": h.article.title, "type": h.article.type, "score": round(h.score, 4),
                  "dense": h.dense_score, "requires": h.article.requires, "chats": h.chats,
                  "passages": [p.text for p in h.passages[:3]]} for h in hits],
        "confidence": retriever.confidence(hits),
    }


def missing_slot(state: SupportState, brief) -> str | None:
    """The first detail the best article needs that the customer hasn't given (asked once at most)."""
    known = state.get("slots") or {}
    return next((s for s in state["hits"][0]["requires"]
                 if s in brief.slots and s not in known and s not in state.get("asked", [])), None)


def clarify(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """Ask exactly one question for the detail the best article needs."""
    slot = missing_slot(state, runtime.context.brief)
    calls = list(state.get("llm_calls", []))
    question = (llm_steps.question(runtime.context, state["summary"], slot, calls)
                or runtime.context.brief.slots[slot].question)
    return {"outcome": "clarify", "llm_calls": calls, "awaiting": "clarify", "asked": state.get("asked", []) + [slot],
            "reply": f"**Summary:** {state['summary']}\n\n{question}"}


def answer(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """Numbered fix steps from the best article, plus a closely related policy."""
    retriever = runtime.context.retriever
    top = retriever.article(state["hits"][0]["id"])
    calls = list(state.get("llm_calls", []))
    steps = llm_steps.steps(runtime.context, state["summary"], top, state["hits"][0]["passages"], calls)
    if steps is None:
        steps = twins.steps_from_article(top, state.get("slots") or {}, DEVICE_LABELS)
    citations = [{"id": top.id, "title": top.title, "type": top.type, "note": ""}]
    for hit in state["hits"][1:]:
        if hit["type"] == "policy" and top.type != "policy" and hit["dense"] >= state["hits"][0]["dense"] - RELATED_MARGIN:
            first = twins.sentences(re.sub(r"^\s*([-*]|\d+[.)])\s+", "", hit["passages"][0]).replace("\n", " "))
            citations.append({"id": hit["id"], "title": hit["title"], "type": hit["type"],
                              "note": first[0] if first else ""})
            break
    if state["hits"][0].get("chats"):  # cited apart from articles; transcripts are never shown
        chats = state["hits"][0]["chats"]
        citations.append({"id": chats[0], "type": "chat", "note": "",
                          "title": f"the same fix resolved {len(chats)} similar conversation{'s' * (len(chats) > 1)}"})
    grounded_sources = [top.body] + [h["passages"][0] for h in state["hits"][1:] if h["passages"]]
    flags = list(state["flags"])
    kept = [s for s in steps if twins.is_grounded(s, grounded_sources)]
    if len(kept) < len(steps):
        flags.append("ungrounded")
    return {"steps": kept, "intro": twins.intro_sentence(top), "citations": citations, "flags": flags,
            "llm_calls": calls,
            "offered": state.get("offered", []) + [top.id], "outcome": "answered"}


def check(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """Output guard: a reply that breaks a guardrail is never shown; it becomes a handoff."""
    text = "\n".join([state.get("intro", "")] + state.get("steps", []) + [c["note"] for c in state["citations"]])
    broken = runtime.context.brief.guardrails.violations(text)
    if not state.get("steps"):
        return {"escalation_reason": "The article had no steps I could offer.", "flags": state["flags"] + ["no_steps"]}
    if broken:
        return {"escalation_reason": "The drafted answer broke a guardrail.",
                "flags": state["flags"] + [f"guardrail:{rule}" for rule in broken]}
    return {}


def confirm(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """Compose the reply and close with the resolution question."""
    lines = [f"**Summary:** {state['summary']}", ""]
    if state.get("intent") == "retry":
        lines += ["Sorry that didn't fix it. Let's try this instead.", ""]
    if state.get("intro"):
        lines += [state["intro"], ""]
    lines.append(f"Here's what to do (from *{state['citations'][0]['title']}*):")
    lines += [f"{number}. {step}" for number, step in enumerate(state["steps"], 1)]
    for citation in state["citations"][1:]:
        if citation["type"] == "policy":
            lines += ["", f"Policy to know — *{citation['title']}*: {citation['note']}"]
    sources = "; ".join(f"{c['title']} [{c['id']}]" for c in state["citations"] if c["type"] != "chat")
    chats = [c["title"] for c in state["citations"] if c["type"] == "chat"]
    if chats:
        sources += f" ({chats[0]})"
    lines += ["", f"Sources: {sources}"]
    if runtime.context.brief.scaffold.confirm:
        lines += ["", "Did that resolve your issue?"]
    return {"reply": "\n".join(lines), "awaiting": "confirm" if runtime.context.brief.scaffold.confirm else None}


def escalate(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """Hand over to a person with a summary they can act on."""
    brief = runtime.context.brief
    reason = state.get("escalation_reason") or "I couldn't find a help article that covers this."
    if state.get("intent") == "retry" and state.get("failed_attempts", 0) >= brief.escalation.max_failed_attempts:
        reason = "The suggested fixes did not resolve the issue."
    elif not state.get("escalation_reason") and state.get("intent") not in ("human", "forbidden"):
        reason = "I couldn't find a help article that covers this with enough confidence."
    details = ", ".join(f"{k}={v}" for k, v in (state.get("slots") or {}).items()) or "none"
    tried = ", ".join(state.get("offered", [])) or "none"
    handoff = (f"Issue: {state.get('summary', '')} Reason: {reason} Details: {details}. "
               f"Articles tried: {tried}. Last message: {state['message'][:500]}")
    calls = list(state.get("llm_calls", []))
    note = llm_steps.handoff_note(runtime.context, {"summary": state.get("summary", ""), "reason": reason,
                                                    "tried": tried, "details": details}, calls)
    if note:  # the model's note leads; the structured facts stay for the human
        handoff = f"{note}\n\n{handoff}"
    reply = f"**Summary:** {state.get('summary', '')}\n\n{reason} {' '.join(brief.escalation.message.split())}"
    return {"outcome": "escalated", "awaiting": None, "handoff": handoff, "reply": reply, "llm_calls": calls,
            "escalation_reason": reason, "flags": state["flags"] + ["escalated"]}


def close(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    return {"outcome": "resolved", "awaiting": None, "offered": [], "failed_attempts": 0,
            "reply": "Great, I'm glad that's sorted. Is there anything else I can help with?"}

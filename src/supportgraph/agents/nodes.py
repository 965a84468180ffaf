"""The scaffold steps, one LangGraph node each.

Nodes read the typed context (brief, retriever, intent reader) from ``Runtime[AgentContext]``
and return partial state updates. Where a turn can go several ways, the node asks the routing
module and goes where it says (``Command(goto=...)``).
"""

from __future__ import annotations

import re

from langgraph.runtime import Runtime
from langgraph.types import Command

from supportgraph.agents import llm_steps, routing, twins
from supportgraph.agents.intent import says_what
from supportgraph.agents.state import TURN_FIELDS, AgentContext, SupportState
from supportgraph.knowledge.calibration import FEATURES, features

DEVICE_LABELS = {"ios": "iOS", "android": "Android", "windows": "Windows", "mac": "Mac", "web": "Web"}
RETRIEVE_K = 5
RELATED_MARGIN = 0.08  # a policy this close (cosine) to the best article is cited beside it
MAX_QUESTIONS = 2      # questions answered in one reply; more are asked to come one at a time
ISSUE = "issue"        # in ``asked``: we asked what the issue is (the message said nothing about it)
NOTHING_SAID = "nothing_said"  # the chat reply's kind for that question


def guard(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """Reset per-turn fields; answer empty, oversized or manipulative messages directly."""
    update = dict(TURN_FIELDS)
    flags = list(state.get("input_flags", []))
    update["flags"] = flags
    brief = runtime.context.brief
    limit = brief.limits.max_message_chars
    if "empty_message" in flags:
        update.update(outcome="clarify", reply="I didn't get a message. What can I help you with today?")
    elif "message_too_long" in flags:
        update.update(outcome="clarify", reply=(
            f"Your message is longer than the {limit:,} characters I can read. Could you describe the "
            "problem in a few sentences? You can leave out logs and long pasted text."))
    elif "prompt_injection" in flags:
        update.update(outcome="refused", flags=flags + ["refused"], reply=(
            f"I can't change how I work or share internal information. I'm happy to help with a question "
            f"about {brief.scope}."))
    return update


def summarize(state: SupportState, runtime: Runtime[AgentContext]) -> Command:
    """Read what the message does, learn details from it, and restate a new issue in one sentence."""
    context = runtime.context
    brief = context.brief
    message = state["message"]
    slots = dict(state.get("slots") or {})
    for name, slot in brief.slots.items():
        value = slot.find(message)
        if value:
            slots[name] = value
    # After an answer the customer reports how it went, even when the brief asks no confirmation.
    awaiting = state.get("awaiting") or ("confirm" if state.get("offered") else None)
    asked = (state.get("asked") or [None])[-1]
    # The detail just asked for ("iPhone"), or after an answer a bare detail alone ("iphone"): the same
    # issue on that device, not a new issue summarised as "Iphone.".
    gave_detail = (awaiting == "clarify" and asked in brief.slots and brief.slots[asked].find(message) is not None) \
        or (awaiting == "confirm" and _only_a_detail(message, brief.slots.values()))
    reading = context.intents.read(message, awaiting, state.get("issue", ""), brief.escalation.human_request,
                                   context.retriever.words, brief.product, gave_detail)
    intent = reading.intent
    topic = brief.escalation.forbidden_topic(message)
    update: dict = {"slots": slots, "intent": intent, "questions": [], "small_talk": reading.small_talk}
    if topic:
        update["flags"] = state["flags"] + [f"topic:{topic.id}"]
    in_progress = bool(state.get("awaiting") and state.get("summary"))
    # "It doesn't work", "I need help": ask what about, once; asked again, retrieval tries what there is.
    says_nothing = intent == "new_issue" and not says_what(reading.text or message) \
        and ISSUE not in (state.get("asked") or [])
    if says_nothing:
        update.update(small_talk=NOTHING_SAID, asked=[ISSUE])
    elif intent == "human" or topic:
        update["summary"] = state["summary"] if in_progress else twins.summarize_issue(reading.text or message)
        if not in_progress:
            update["issue"] = reading.text or message
    elif intent == "retry":
        update.update(failed_attempts=state.get("failed_attempts", 0) + 1, issue=f"{state['issue']} {message}")
    elif intent == "clarify_answer":
        update["issue"] = f"{state['issue']} {message}"
    elif intent in ("new_issue", "off_topic", "resolved_and_new"):
        questions = reading.questions or [reading.text or message]
        calls = list(state.get("llm_calls", []))
        summary = _summary(context, questions[0], calls)
        update.update(issue=questions[0], questions=questions[:MAX_QUESTIONS], summary=summary, llm_calls=calls,
                      asked=[], offered=[], failed_attempts=0)
        if intent == "resolved_and_new":
            update["flags"] = update.get("flags", state["flags"]) + ["resolved_previous"]
        if len(questions) > MAX_QUESTIONS:
            update["flags"] = update.get("flags", state["flags"]) + ["more_questions"]
    route = routing.after_understanding(intent, topic.reason if topic else None, says_nothing)
    return Command(goto=route.next, update=update | ({"escalation_reason": route.reason} if route.reason else {}))


def _summary(context: AgentContext, question: str, calls: list[dict]) -> str:
    return llm_steps.summary(context, question, calls) or twins.summarize_issue(question)


_FILLER = re.compile(r"\b(?:on|in|with|from|my|the|an?|i(?:'m| am)?|use|using|it'?s|its|it is|via|through)\b|[^\w\s]",
                     re.IGNORECASE)


def _only_a_detail(message: str, slots) -> bool:
    """The message is a detail's value and nothing else ("iphone", "on my iPhone"), not a problem told."""
    for slot in slots:
        value = slot.find(message)
        if value:
            rest = message.lower()
            for alias in sorted(slot.values[value], key=len, reverse=True):
                rest = re.sub(rf"\b{re.escape(alias)}\b", " ", rest)
            return not _FILLER.sub(" ", rest).split()
    return False


def _hits(retriever, query: str, exclude: list[str]) -> tuple[list[dict], float]:
    hits = retriever.search(query, k=RETRIEVE_K, exclude=exclude)
    rows = [{"id": h.article.id, "title": h.article.title, "type": h.article.type, "score": round(h.score, 4),
             "dense": h.dense_score, "requires": h.article.requires, "chats": h.chats,
             "passages": [p.text for p in h.passages[:3]], "sections": [p.section for p in h.passages[:3]]}
            for h in hits]
    if rows:  # what confidence weighs: the best hit's features only (the trace's decision reads them)
        rows[0]["features"] = dict(zip(FEATURES, (round(x, 4) for x in features(hits))))
    return rows, retriever.confidence(hits)


def retrieve(state: SupportState, runtime: Runtime[AgentContext]) -> Command:
    """Find the articles for the issue (and for a second question asked with it); on a retry,
    skip the ones already offered."""
    brief = runtime.context.brief
    retriever = runtime.context.retriever
    query = state["issue"]
    device = (state.get("slots") or {}).get("device")
    if device:
        query = f"{query} ({DEVICE_LABELS.get(device, device)})"
    exclude = state.get("offered", []) if state.get("intent") == "retry" else []
    hits, confidence = _hits(retriever, query, exclude)
    also = []

    def first_article(found: list[dict]) -> bool:
        return bool(found and hits and found[0]["id"] == hits[0]["id"])

    for question in (state.get("questions") or [])[1:]:
        other, other_confidence = _hits(retriever, question, exclude)
        if other_confidence < brief.escalation.min_confidence:
            # Not found alone, it may lean on the first question ("..., and how do they differ?"): with its words.
            joint, joint_confidence = _hits(retriever, f"{query} {question}", exclude)
            if joint_confidence > other_confidence or first_article(joint):
                other, other_confidence = joint, joint_confidence
        also.append({"question": question, "hits": other, "confidence": other_confidence,
                     "same_article": first_article(other)})  # one article answers both
    update = {}
    if also and also[0]["confidence"] > confidence and also[0]["hits"] and not also[0]["same_article"]:
        # Lead with the question we can answer (its summary leads too); the other gets its own (honest) line.
        first = {"question": state["issue"], "hits": hits, "confidence": confidence, "same_article": False}
        leading = also[0]["question"]
        calls = list(state.get("llm_calls", []))
        update = {"issue": leading, "summary": _summary(runtime.context, leading, calls), "llm_calls": calls}
        hits, confidence, also = also[0]["hits"], also[0]["confidence"], [first] + also[1:]
    update |= {"hits": hits, "confidence": confidence, "also": also}
    route = routing.after_retrieval({**state, **update}, brief, missing_slot({**state, **update}, brief))
    return Command(goto=route.next, update=update | ({"escalation_reason": route.reason} if route.reason else {}))


def missing_slot(state: SupportState, brief) -> str | None:
    """The first detail the best article needs that the customer hasn't given (asked once at most)."""
    if not state.get("hits"):
        return None
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


def _draft(context: AgentContext, summary: str, article, hit: dict, slots: dict, calls: list[dict],
           question: str = "") -> tuple[str, list[str], bool]:
    """(lead, steps, from a numbered list): the model's steps when it is configured and they hold
    up, else the article's own (the passage that matched the question leads)."""
    steps = llm_steps.steps(context, summary, article, hit["passages"], calls)
    if steps is not None:
        return twins.intro_sentence(article), steps, True
    section = (hit.get("sections") or [""])[0]
    lead, steps = twins.answer_from_article(article, slots, DEVICE_LABELS, section, (hit["passages"] or [""])[0],
                                            question or summary)
    return lead, steps, bool(steps) and any(steps[0] in twins.numbered_steps(s.text) for s in article.sections())


def _related_policy(policy, top, policy_dense: float, top_dense: float) -> bool:
    """A policy worth citing beside the answer: about as close to the question as the answer's article, and
    about the same part of the product (a failed-payment policy has nothing to add to a sync fix)."""
    return (policy is not None and policy.type == "policy" and top.type != "policy"
            and policy_dense >= top_dense - RELATED_MARGIN
            and policy.product_area in (top.product_area, "general"))


def answer(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """Numbered fix steps from the best article, plus a closely related policy; a second
    question asked with the first gets its own steps, or an honest line when no article has them."""
    retriever = runtime.context.retriever
    brief = runtime.context.brief
    top = retriever.article(state["hits"][0]["id"])
    calls = list(state.get("llm_calls", []))
    slots = state.get("slots") or {}
    lead, steps, numbered = _draft(runtime.context, state["summary"], top, state["hits"][0], slots, calls,
                                   state.get("issue", ""))
    citations = [{"id": top.id, "title": top.title, "type": top.type, "note": ""}]
    for hit in state["hits"][1:]:
        if _related_policy(retriever.article(hit["id"]), top, hit["dense"], state["hits"][0]["dense"]):
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
    kept = runtime.context.grounding.keep(steps, grounded_sources)
    offered = state.get("offered", []) + [top.id]
    also_answers = []
    for other in state.get("also", []):
        block = {"summary": twins.summarize_issue(other["question"]), "id": "", "title": "", "lead": "", "steps": [],
                 "numbered": False}
        if other.get("same_article"):
            # What the answer above does not already say about it, from the same article; nothing new, no block.
            more = runtime.context.grounding.keep(twins.more_from_article(top, other["question"], [lead] + kept),
                                                  [top.body])
            if more:
                block.update(id=top.id, title=top.title, steps=more)
                also_answers.append(block)
            continue
        if other["hits"] and other["confidence"] >= brief.escalation.min_confidence:
            article = retriever.article(other["hits"][0]["id"])
            other_lead, other_steps, other_numbered = _draft(runtime.context, block["summary"], article,
                                                             other["hits"][0], slots, calls, other["question"])
            block.update(id=article.id, title=article.title, lead=other_lead, numbered=other_numbered,
                         steps=runtime.context.grounding.keep(other_steps, [article.body]))
            if block["steps"]:
                if article.id not in {c["id"] for c in citations}:
                    citations.append({"id": article.id, "title": article.title, "type": article.type, "note": ""})
                offered.append(article.id)
        also_answers.append(block)
    if len(kept) < len(steps):
        flags.append("ungrounded")
    return {"steps": kept, "intro": lead, "numbered": numbered, "citations": citations, "flags": flags,
            "llm_calls": calls, "also_answers": also_answers, "offered": offered, "outcome": "answered"}


def check(state: SupportState, runtime: Runtime[AgentContext]) -> Command:
    """Output guard: a reply that breaks a guardrail is never shown; it becomes a handoff."""
    blocks = [b["steps"] for b in state.get("also_answers", [])]
    text = "\n".join([state.get("intro", "")] + state.get("steps", []) + [s for b in blocks for s in b]
                     + [c["note"] for c in state["citations"]])
    broken = runtime.context.brief.guardrails.violations(text)
    route = routing.after_check(bool(state.get("steps")), broken)
    update: dict = {}
    if route.reason:
        extra = ["no_steps"] if not state.get("steps") else [f"guardrail:{rule}" for rule in broken]
        update = {"escalation_reason": route.reason, "flags": state["flags"] + extra}
    return Command(goto=route.next, update=update)


def confirm(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """Compose the reply and close with the resolution question."""
    lines = []
    if state.get("intent") == "resolved_and_new":
        lines += ["Great, I'm glad that's sorted. Now, your other question.", ""]
    lines += [f"**Summary:** {state['summary']}", ""]
    if state.get("intent") == "retry":
        lines += ["Sorry that didn't fix it. Let's try this instead.", ""]
    if state.get("intro"):
        lines += [state["intro"], ""]
    title = state["citations"][0]["title"]
    lines.append(f"Here's what to do (from *{title}*):" if state.get("numbered") else f"From *{title}*:")
    lines += [f"{number}. {step}" for number, step in enumerate(state["steps"], 1)]
    for citation in state["citations"][1:]:
        if citation["type"] == "policy" and citation["note"]:  # a second answer's policy is cited, not quoted
            lines += ["", f"Policy to know — *{citation['title']}*: {citation['note']}"]
    for block in state.get("also_answers", []):
        lines += ["", f"**{twins.also_asked(block['summary'])}**", ""]
        if block["steps"]:
            if block.get("lead"):
                lines += [block["lead"], ""]
            lines.append(f"Here's what to do (from *{block['title']}*):" if block.get("numbered")
                         else f"From *{block['title']}*:")
            lines += [f"{number}. {step}" for number, step in enumerate(block["steps"], 1)]
        else:
            lines.append("I couldn't find a help article on that. Ask me again in other words, or ask for a person.")
    if "more_questions" in state["flags"]:
        lines += ["", "You asked a few more things: send them one at a time and I'll take each in turn."]
    sources = "; ".join(c["title"] for c in state["citations"] if c["type"] != "chat")  # no internal ids
    chats = [c["title"] for c in state["citations"] if c["type"] == "chat"]
    if chats:
        sources += f" ({chats[0]})"
    lines += ["", f"Sources: {sources}"]
    if runtime.context.brief.scaffold.confirm:
        lines += ["", "Did that resolve your issue?"]
    return {"reply": "\n".join(lines), "awaiting": "confirm" if runtime.context.brief.scaffold.confirm else None}


def escalate(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """Hand over to a person with a summary they can act on, for the reason routing gave."""
    brief = runtime.context.brief
    reason = state["escalation_reason"]
    details = ", ".join(f"{k}={v}" for k, v in (state.get("slots") or {}).items()) or "none"
    tried = ", ".join(state.get("offered", [])) or "none"
    handoff = (f"Issue: {state.get('summary', '')} Reason: {reason} Details: {details}. "
               f"Articles tried: {tried}. Last message: {state['message'][:500]}")
    calls = list(state.get("llm_calls", []))
    note = llm_steps.handoff_note(runtime.context, {"summary": state.get("summary", ""), "reason": reason,
                                                    "tried": tried, "details": details}, calls)
    if note:  # the model's note leads; the structured facts stay for the human
        handoff = f"{note}\n\n{handoff}"
    opening = "Great, I'm glad that's sorted. " if state.get("intent") == "resolved_and_new" else ""
    reply = (f"{opening}**Summary:** {state.get('summary', '')}\n\n{reason} "
             f"{' '.join(brief.escalation.message.split())}")
    if reason == routing.WANTS_PERSON and state.get("hits") and state["confidence"] >= brief.escalation.min_confidence:
        reply += f"\n\nIn the meantime, this article may help: *{state['hits'][0]['title']}*."
    return {"outcome": "escalated", "awaiting": None, "handoff": handoff, "reply": reply, "llm_calls": calls,
            "flags": state["flags"] + ["escalated"]}


def chat(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """A short, polite reply to small talk or an off-topic message: no handoff, one question."""
    brief = runtime.context.brief
    name = f"the {brief.product} support assistant" if brief.product else "the support assistant"
    kind = state.get("small_talk", "")
    awaiting = state.get("awaiting")
    if state.get("intent") == "off_topic":
        reply, flag = (f"That's outside what I can help with here. I'm {name}: I can answer questions about "
                       f"{brief.scope}. What can I help you with?"), "off_topic"
    elif kind == "later" and awaiting == "confirm":
        reply, flag = "No problem, take your time. Did it work? Just tell me here when you've tried it.", "small_talk"
    elif kind == "greeting":
        reply, flag = f"Hi! I'm {name}: I can help with {brief.scope}. What can I help you with?", "small_talk"
    elif kind == NOTHING_SAID:
        reply, flag = ("I'm happy to help. What were you trying to do, and what happened? A sentence or two is "
                       "enough, and the exact error message if you saw one."), "asked_what_about"
    else:
        reply, flag = "You're welcome. Is there anything else I can help with?", "small_talk"
    return {"outcome": "clarify", "reply": reply, "flags": state["flags"] + [flag],
            "awaiting": awaiting if awaiting == "confirm" and kind != NOTHING_SAID else None}


def close(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    return {"outcome": "resolved", "awaiting": None, "offered": [], "failed_attempts": 0,
            "reply": "Great, I'm glad that's sorted. Is there anything else I can help with?"}


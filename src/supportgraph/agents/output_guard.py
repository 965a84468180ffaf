"""The output guard: every word a customer is shown passes here first, whoever wrote it.

:func:`guard_reply` checks one reply (the whole of it: summary line, steps, clarifying question,
handoff message, small talk; and a person's reply, when a human agent answers in the thread):

- blocked (the reply is not shown; the turn becomes a handoff): the brief's forbidden actions
  (``guardrails.forbidden_actions``); a request for a secret in any wording (security/secrets.py);
  a run of words, or a code, from the system prompts (``protected``); an answer left with no step
  once the lines below are removed;
- removed (the line goes, the rest is shown, numbered steps renumbered): a line that copies an
  article passage the article check flagged (knowledge/safety.py);
- rewritten (shown, changed, flagged): links, images and e-mail addresses at hosts the brief's
  ``guard.allowed_hosts`` does not allow become plain text naming the host; raw HTML tags are
  dropped; control characters, ANSI escapes and invisible characters are removed.

:func:`output_guard` is the graph's last node, which every path to the end passes through. It
gathers what the check needs from the turn (the articles retrieved, the prompts in use), rewrites
a summary line that repeats a suspicious message word for word, and turns a blocked reply into a
safe handoff. Each finding is a step flag on the trace (``output_guard:...``), and a turn that
retrieved a flagged article is flagged ``unsafe_article:<id>``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from langgraph.runtime import Runtime

from supportgraph.agents.brief import Brief
from supportgraph.agents.state import AgentContext, SupportState
from supportgraph.knowledge.safety import unsafe_sentences
from supportgraph.security import markup
from supportgraph.security.secrets import secret_requests
from supportgraph.security.text import clean_text

COPIED_SHARE = 0.8   # of a flagged sentence's words in one reply sentence: it was copied
LEAK_RUN = 8         # consecutive words of a system prompt in a reply: the prompt leaked
ECHO_RUN = 5         # consecutive words of a suspicious message in the summary line: it was echoed
_WORDS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CODE = re.compile(r"\b(?=[A-Z0-9_-]*\d)(?=[A-Z0-9_-]*[A-Z])[A-Z0-9][A-Z0-9_-]{5,}\b")  # GW-2026-0001, ZEBRA-7731


@dataclass(frozen=True)
class GuardResult:
    text: str                                         # what may be shown (rewritten), or "" when blocked
    blocked: bool
    reasons: list[str] = field(default_factory=list)  # why it was blocked: forbidden:<rule>, secret_request:<kind>, ...
    changes: list[str] = field(default_factory=list)  # what was rewritten: outside_link:<host>, html, control_characters

    @property
    def flags(self) -> list[str]:
        return [f"output_guard:{item}" for item in self.reasons + self.changes]


def guard_reply(text: str | None, brief: Brief, unsafe_passages: Iterable[str] = (),
                protected: Iterable[str] = ()) -> GuardResult:
    """Check and clean one reply before it is shown or stored; see the module docstring."""
    cleaned = clean_text(text)
    reply = cleaned.text
    changes = ["control_characters"] if cleaned.problems and cleaned.problems != ["invalid_unicode"] else []
    if "invalid_unicode" in cleaned.problems:
        changes.append("invalid_unicode")
    unsafe_passages = list(unsafe_passages)
    if unsafe_passages:
        reply, removed = _drop_copied(reply, unsafe_passages)
        if removed:
            changes.append("unsafe_passage")
            if had_steps(text or "") and not had_steps(reply):
                return GuardResult("", True, ["unsafe_passage"], changes)
    reasons = [f"forbidden:{rule}" for rule in brief.guardrails.violations(reply)]
    reasons += [f"secret_request:{kind}" for kind in secret_requests(reply)]
    if _leaks(reply, protected):
        reasons.append("prompt_leak")
    hosts = brief.guard.allowed_hosts
    outside = markup.outside_hosts(reply, hosts, code=True)
    tags = markup.html_tags(reply)
    if outside or tags:
        reply = markup.plain_links(reply, hosts)
        changes += [f"outside_link:{host}" for host in outside] + (["html"] if tags else [])
    if reasons:
        return GuardResult("", True, reasons, changes)
    return GuardResult(reply, False, [], changes)


_STEP = re.compile(r"^(\s*)\d+([.)])\s+", re.MULTILINE)


def had_steps(text: str) -> bool:
    return bool(_STEP.search(text))


def _drop_copied(reply: str, flagged: list[str]) -> tuple[str, int]:
    """The reply without the lines that copy a flagged passage, numbered steps renumbered; and how many went."""
    kept, removed = [], 0
    for line in reply.split("\n"):
        if line.strip() and any(_copied(sentence, line) for sentence in flagged):
            removed += 1
            continue
        kept.append(line)
    if not removed:
        return reply, 0
    number, out = 0, []
    for line in kept:
        match = _STEP.match(line)
        if match:
            number += 1
            line = f"{match.group(1)}{number}{match.group(2)} " + line[match.end():]
        elif line.strip():
            number = 0 if not line.startswith(" ") else number
        out.append(line)
    return "\n".join(out), removed


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def _copied(sentence: str, reply: str) -> bool:
    """Whether most of a flagged sentence's words appear in one sentence of the reply."""
    wanted = set(_words(sentence))
    if len(wanted) < 4:
        return False
    return any(len(wanted & set(_words(part))) / len(wanted) >= COPIED_SHARE
               for part in re.split(r"(?<=[.!?])\s+|\n+", reply) if part.strip())


def _runs(words: list[str], size: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


def _leaks(reply: str, protected: Iterable[str]) -> bool:
    """A system prompt's words (LEAK_RUN in a row) or one of its codes in the reply."""
    reply_runs = _runs(_words(reply), LEAK_RUN)
    for prompt in protected:
        if reply_runs & _runs(_words(prompt), LEAK_RUN):
            return True
        if any(code in reply for code in _CODE.findall(prompt)):
            return True
    return False


def echoes(reply_part: str, message: str, run: int = ECHO_RUN) -> bool:
    """Whether ``reply_part`` repeats ``run`` consecutive words of ``message`` (persons swapped count too)."""
    swap = {"my": "your", "your": "our", "i": "you", "me": "you", "our": "your", "you": "we", "us": "you"}
    said = [swap.get(w, w) for w in _words(message)]
    plain = _words(message)
    part = _words(reply_part)
    return bool(_runs(part, run) & (_runs(said, run) | _runs(plain, run)))


@functools.lru_cache(maxsize=512)
def _unsafe_sentences(body: str, hosts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(unsafe_sentences(body, hosts))


def article_findings(bodies: dict[str, str], hosts: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Article id -> its flagged sentences, for the articles that have any (cached per article text)."""
    hosts = tuple(hosts)
    found = {article_id: _unsafe_sentences(body, hosts) for article_id, body in bodies.items()}
    return {article_id: sentences for article_id, sentences in found.items() if sentences}


# --- the graph node ----------------------------------------------------------------------------
BLOCKED_REPLY = "I'm sorry, I couldn't put together a safe answer to that here."
SUSPICIOUS_FLAGS = ("suspicious_message", "prompt_injection_removed")


def output_guard(state: SupportState, runtime: Runtime[AgentContext]) -> dict:
    """The graph's last step: guard the reply and the handoff note of every turn (see the module docstring)."""
    from supportgraph.agents import routing

    context = runtime.context
    brief: Brief = context.brief
    flags = list(state.get("flags") or [])
    findings = article_findings(_retrieved_bodies(state, context.retriever), brief.guard.allowed_hosts)
    flags += [f"unsafe_article:{article_id}" for article_id in findings if f"unsafe_article:{article_id}" not in flags]
    unsafe = [sentence for sentences in findings.values() for sentence in sentences]
    protected = system_prompts(context)
    reply = state.get("reply") or ""
    summary = state.get("summary") or ""
    if summary and summary in reply and any(f in flags for f in SUSPICIOUS_FLAGS) \
            and echoes(summary, state.get("message") or ""):
        reply = reply.replace(summary, _neutral_summary(state))
        flags.append("output_guard:echo")
    result = guard_reply(reply, brief, unsafe, protected)
    flags += [f for f in result.flags if f not in flags]
    update: dict = {"flags": flags, "reply": result.text}
    handoff = state.get("handoff")
    if handoff:
        update["handoff"], dropped = _guard_handoff(handoff, brief, unsafe, protected)
        if dropped:
            flags.append("output_guard:handoff_note_dropped")
    if result.blocked:
        reasons = ", ".join(result.reasons)
        flags += [f"guardrail:{reason}" for reason in result.reasons] + (["escalated"] if "escalated" not in flags else [])
        update.update(
            reply=f"{BLOCKED_REPLY} {' '.join(brief.escalation.message.split())}", outcome="escalated",
            awaiting=None, escalation_reason=routing.GUARDRAIL,
            handoff=(f"The output guard blocked the drafted reply ({reasons}); nothing of it was shown. "
                     f"Last message: {(state.get('message') or '')[:500]}"))
    return update


def system_prompts(context) -> list[str]:
    """The system messages of the prompts this turn may render (none when no model is configured)."""
    from supportgraph.prompts.history import get_version

    if context.model is None or context.prompts is None:
        return []
    found = []
    for name in sorted(context.prompts.prompts):
        try:
            prompt = get_version(context.prompts, name, context.prompts.resolve(name, context.prompt_label))
        except Exception:  # a prompt with no such label is never rendered, so it cannot leak either
            continue
        found += [m.content for m in prompt.messages if m.role == "system"]
    return found


def _retrieved_bodies(state: dict, retriever) -> dict[str, str]:
    ids = [h["id"] for h in state.get("hits") or []]
    ids += [h["id"] for other in state.get("also") or [] for h in other.get("hits", [])]
    bodies = {}
    for article_id in dict.fromkeys(ids):
        article = retriever.article(article_id)
        if article is not None:
            bodies[article_id] = article.body
    return bodies


def _neutral_summary(state: dict) -> str:
    citations = [c for c in state.get("citations") or [] if c.get("type") != "chat"]
    if state.get("outcome") == "answered" and citations:
        return f"Your question is covered in *{citations[0]['title']}*."
    return "You got in touch with a question."


def _guard_handoff(handoff: str, brief: Brief, unsafe: list[str], protected: list[str]) -> tuple[str, bool]:
    """The note a person reads: model-written paragraphs that fail the guard are dropped; the structured
    facts (from "Issue:") stay, cleaned. Returns the note and whether anything was dropped."""
    kept, dropped = [], False
    for paragraph in handoff.split("\n\n"):
        if paragraph.startswith("Issue:"):
            kept.append(markup.plain_links(clean_text(paragraph).text, brief.guard.allowed_hosts))
            continue
        result = guard_reply(paragraph, brief, unsafe, protected)
        if result.blocked:
            dropped = True
        else:
            kept.append(result.text)
    return "\n\n".join(kept), dropped

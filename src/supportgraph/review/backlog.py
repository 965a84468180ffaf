"""Backlog items from review tags: one item per tag seen in the window, with evidence links to the
transcripts and the team that owns the fix (from the brief's tag list)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from pydantic import BaseModel

from supportgraph.agents.brief import Brief
from supportgraph.review.transcripts import TranscriptFilter, list_conversations
from supportgraph.store.repository import Store

NEXT_STEP = {
    "knowledge": "Fix or write the article, then add the question to the golden set.",
    "prompt": "Change the prompt (new version + changelog line) and add a golden case that shows it.",
    "retrieval": "Add the question to the golden set and tune retrieval (chunking, weights, synonyms).",
    "platform": "Profile the slow turns (per-step latency is in each trace).",
    "triage": "Read the notes and decide who owns it.",
}


class Evidence(BaseModel):
    conversation_id: str
    url: str
    summary: str
    note: str
    cited: list[str]
    tagged_at: dt.datetime


class BacklogItem(BaseModel):
    title: str
    tag: str
    owner_area: str
    count: int
    articles: dict[str, int]   # cited article id -> conversations citing it
    next_step: str
    evidence: list[Evidence]


def transcript_url(app_url: str, conversation_id: str) -> str:
    """A link that opens the conversation after a staff sign-in (a new tab is a new, signed-out session)."""
    return f"{app_url.rstrip('/')}/staff?conversation={conversation_id}"


def build_backlog(store: Store, brief: Brief, since: dt.datetime, app_url: str) -> list[BacklogItem]:
    """Tags added since ``since``, grouped by tag, biggest first."""
    evidence: dict[str, list[Evidence]] = {}
    for view in list_conversations(store, brief, TranscriptFilter(tagged_since=since, limit=None)):
        for tag in view.tags:
            if tag.created_at < since:
                continue
            turn = next((t for t in view.turns if t.id == tag.turn_id), None) or view.turns[-1]
            evidence.setdefault(tag.tag, []).append(Evidence(
                conversation_id=view.id, url=transcript_url(app_url, view.id), summary=turn.summary or view.summary,
                note=tag.note, cited=[c["id"] for c in turn.citations], tagged_at=tag.created_at))
    items = []
    for tag_id, rows in evidence.items():
        config = next((t for t in brief.review.tags if t.id == tag_id), None)
        label, owner = (config.label, config.owner) if config else (tag_id, "triage")
        conversations = {row.conversation_id for row in rows}
        articles = Counter(a for row in {r.conversation_id: r for r in rows}.values() for a in set(row.cited))
        title = f"{label}: {len(conversations)} conversation{'s' if len(conversations) != 1 else ''}"
        if articles and articles.most_common(1)[0][1] * 2 >= len(conversations):
            title += f", mostly citing `{articles.most_common(1)[0][0]}`"
        items.append(BacklogItem(title=title, tag=tag_id, owner_area=owner, count=len(conversations),
                                 articles=dict(articles.most_common()), next_step=NEXT_STEP[owner],
                                 evidence=sorted(rows, key=lambda r: r.tagged_at, reverse=True)))
    return sorted(items, key=lambda item: (-item.count, item.tag))


def render_markdown(items: list[BacklogItem], since: dt.datetime) -> str:
    lines = [f"# Review backlog since {since:%Y-%m-%d %H:%M} UTC", ""]
    if not items:
        return "\n".join(lines + ["No tagged conversations in this window: review the queue first "
                                  "(`supportgraph review queue`).", ""])
    for item in items:
        lines += [f"## {item.title}", "", f"- **Owner:** {item.owner_area}", f"- **Next step:** {item.next_step}"]
        if item.articles:
            lines.append("- **Cited articles:** " + ", ".join(f"`{a}` ({n})" for a, n in item.articles.items()))
        lines += ["- **Evidence:**"]
        lines += [f"  - [{e.summary or e.conversation_id}]({e.url})" + (f": {e.note}" if e.note else "")
                  for e in item.evidence]
        lines.append("")
    return "\n".join(lines)


def render_json(items: list[BacklogItem], since: dt.datetime) -> str:
    return json.dumps({"since": since.isoformat(), "items": [item.model_dump(mode="json") for item in items]},
                      indent=2) + "\n"

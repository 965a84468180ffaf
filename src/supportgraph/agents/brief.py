"""The agent's one-page brief, validated at load time."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from supportgraph.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatternRule(_Strict):
    id: str
    patterns: list[str]
    reason: str = ""
    description: str = ""

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {error}") from None
        return value

    def matches(self, text: str) -> bool:
        return any(re.search(p, text, re.IGNORECASE) for p in self.patterns)


class Slot(_Strict):
    question: str
    values: dict[str, list[str]]

    def find(self, text: str) -> str | None:
        """The slot value mentioned in ``text`` (by any alias), if any."""
        lowered = text.lower()
        for value, aliases in self.values.items():
            if any(re.search(rf"\b{re.escape(a)}\b", lowered) for a in aliases):
                return value
        return None


class Escalation(_Strict):
    min_confidence: float = Field(ge=0, le=1)
    max_failed_attempts: int = Field(ge=1)
    message: str
    human_request: list[str] = Field(default_factory=list)
    topics: list[PatternRule] = Field(default_factory=list)

    def wants_human(self, text: str) -> bool:
        return any(re.search(p, text, re.IGNORECASE) for p in self.human_request)

    def forbidden_topic(self, text: str) -> PatternRule | None:
        return next((t for t in self.topics if t.matches(text)), None)


class Guardrails(_Strict):
    forbidden_actions: list[PatternRule] = Field(default_factory=list)

    def violations(self, reply: str) -> list[str]:
        return [rule.id for rule in self.forbidden_actions if rule.matches(reply)]


class Guard(_Strict):
    """The output guard (agents/output_guard.py): what a reply may link to."""

    allowed_hosts: list[str] = Field(default_factory=list, description=(
        "Hosts a reply may link to or show images from; an entry allows its subdomains. Links elsewhere are "
        "shown as plain text."))

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not re.fullmatch(r"(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+", host.lower()):
                raise ValueError(f"{host!r} is not a host name (write e.g. help.example.com, without https://)")
        return [h.lower().removeprefix("*.") for h in value]


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Hours(_Strict):
    """When people answer handoffs: the same window on each listed day, in one time zone."""

    timezone: str = "Europe/Berlin"
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"], min_length=1)
    opens: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    closes: str = Field(default="20:00", pattern=r"^([01]\d|2[0-4]):[0-5]\d$")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone (write e.g. Europe/Berlin or America/New_York)") from None
        return value

    def open_at(self, when: dt.datetime) -> bool:
        from zoneinfo import ZoneInfo

        local = when.astimezone(ZoneInfo(self.timezone))
        return DAYS[local.weekday()] in self.days and self.opens <= local.strftime("%H:%M") < self.closes

    def describe(self) -> str:
        picked = sorted(DAYS.index(d) for d in set(self.days))
        names = [DAY_NAMES[i] for i in picked]
        consecutive = len(picked) > 2 and picked[-1] - picked[0] == len(picked) - 1
        return f"{f'{names[0]} to {names[-1]}' if consecutive else ', '.join(names)}, {self.opens}-{self.closes} " \
               f"({self.timezone} time)"


class Handoff(_Strict):
    """The human side of a handoff: when people are there, and how long a customer may wait for one."""

    hours: Hours = Hours()
    max_wait_minutes: int = Field(default=15, ge=1, description=(
        "Nobody claimed the conversation within this: the customer is told so, honestly."))


class SuccessMetric(_Strict):
    description: str
    thresholds: dict[str, float]


class Scaffold(_Strict):
    clarify: bool = True
    confirm: bool = True


class Limits(_Strict):
    max_message_chars: int = Field(default=4000, ge=100)


class ReviewTag(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    owner: Literal["knowledge", "prompt", "retrieval", "platform", "triage"]  # who gets the backlog item
    description: str = ""


DEFAULT_TAGS = [
    ReviewTag(id="policy", label="Policy", owner="knowledge", description="Misstates or contradicts a policy."),
    ReviewTag(id="tone", label="Tone", owner="prompt", description="Off-brand, cold, blaming or wordy."),
    ReviewTag(id="latency", label="Latency", owner="platform", description="Too slow for a chat."),
    ReviewTag(id="retrieval_miss", label="Retrieval miss", owner="retrieval",
              description="The right article exists but was not retrieved."),
    ReviewTag(id="missing_article", label="Missing article", owner="knowledge", description="No article covers it."),
    ReviewTag(id="wrong_article", label="Wrong article", owner="retrieval", description="A wrong article was cited."),
    ReviewTag(id="hallucination", label="Hallucination", owner="prompt",
              description="Says something the cited article does not."),
    ReviewTag(id="other", label="Other", owner="triage"),
]


class Review(_Strict):
    """How transcripts are reviewed: the latency budget behind the `slow` flag and the tag list."""

    latency_budget_ms: float = Field(default=3000, gt=0)
    tags: list[ReviewTag] = Field(default_factory=lambda: list(DEFAULT_TAGS), min_length=1)

    def tag(self, tag_id: str) -> ReviewTag:
        found = next((t for t in self.tags if t.id == tag_id), None)
        if found is None:
            raise ConfigError(f"Unknown review tag '{tag_id}'.",
                              f"use one of: {', '.join(t.id for t in self.tags)} (brief.yaml, review.tags).")
        return found


class Brief(_Strict):
    name: str
    title: str
    product: str = Field(default="", description="What customers call the product (questions naming it are on topic).")
    scope: str = Field(default="your account and our product",
                       description="What the assistant helps with, as its small-talk and off-topic replies say it.")
    owner: str
    business_goal: str
    success_metric: SuccessMetric
    tone: str
    compliance_wording: str = ""
    scaffold: Scaffold = Scaffold()
    limits: Limits = Limits()
    escalation: Escalation
    guardrails: Guardrails = Guardrails()
    guard: Guard = Guard()
    slots: dict[str, Slot] = Field(default_factory=dict)
    review: Review = Review()
    handoff: Handoff = Handoff()


def render_markdown(brief: Brief) -> str:
    """The one-page brief a lead reviews: goal, metric gates, guardrails, escalation, tone."""
    lines = [f"# {brief.title}", "", f"**Owner:** {brief.owner}", "", "## Business goal", "",
             " ".join(brief.business_goal.split()), "", "## Success metric", "", brief.success_metric.description, "",
             "| metric (evaluation gate) | at least |", "|---|---|"]
    lines += [f"| `{name}` | {value} |" for name, value in brief.success_metric.thresholds.items()]
    lines += ["", "## Guardrails", "", "Never, whoever writes the reply (checked on every answer):", ""]
    lines += [f"- {rule.description} (`{rule.id}`)" for rule in brief.guardrails.forbidden_actions]
    lines += ["- Ask for a password, a full card number, a security code, a one-time or recovery code, or an API token, "
              "in any wording.", "- Copy a passage that an article check flagged (instructions, secret requests, "
              "outside links, HTML).", "",
              "Links and images only to " + (", ".join(f"`{h}`" for h in brief.guard.allowed_hosts) or "no host")
              + "; other links are shown as plain text.", ""]
    lines += [f"**Tone:** {brief.tone}", ""]
    if brief.compliance_wording:
        lines += [f"**Compliance:** {brief.compliance_wording}", ""]
    e = brief.escalation
    lines += ["## Escalation", "", f"- Confidence below {e.min_confidence} (calibrated P(best article is right)).",
              f"- {e.max_failed_attempts} failed fixes in one conversation.", "- The customer asks for a person."]
    lines += [f"- {topic.reason} (`{topic.id}`)" for topic in e.topics]
    lines += ["", f"People answer handoffs {brief.handoff.hours.describe()}; a customer not picked up within "
              f"{brief.handoff.max_wait_minutes} minutes is told so."]
    lines += ["", "## Details the agent asks for", ""]
    lines += [f"- `{name}`: {slot.question}" for name, slot in brief.slots.items()]
    steps = ["summarize", "retrieve"] + (["clarify"] if brief.scaffold.clarify else []) + ["answer", "check"] + \
        (["confirm"] if brief.scaffold.confirm else []) + ["escalate"]
    lines += ["", f"**Scaffold:** {' -> '.join(steps)}; messages over {brief.limits.max_message_chars:,} "
              "characters are declined.", ""]
    lines += ["## Review", "", f"Turns slower than {brief.review.latency_budget_ms:,.0f} ms are flagged `slow`. "
              "Reviewers tag conversations with:", ""]
    lines += [f"- `{t.id}` {t.label} (to {t.owner}){': ' + t.description if t.description else ''}"
              for t in brief.review.tags]
    return "\n".join(lines) + "\n"


def load_brief(path: Path) -> Brief:
    if not path.exists():
        raise ConfigError(f"Brief {path} does not exist.",
                          "create agents/<name>/brief.yaml or set SUPPORTGRAPH_BRIEF_PATH.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Brief(**(data or {}))
    except yaml.YAMLError as error:
        raise ConfigError(f"Brief {path} is not valid YAML: {error}.", "fix the YAML syntax.") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"Brief {path}: '{where}' {first['msg']}.",
                          "see docs/brief.md for the fields a brief takes.") from None

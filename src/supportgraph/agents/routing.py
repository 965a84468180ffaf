"""What happens next in a turn: the one place that decides whether the agent answers, asks one
question, hands over to a person, replies to small talk, or closes the issue.

Nodes call these functions and go where they say (LangGraph ``Command(goto=...)``); they never
re-derive a decision. An escalation carries its reason, which the escalate node shows as given.
"""

from __future__ import annotations

from dataclasses import dataclass

from supportgraph.agents.brief import Brief

NO_ARTICLE = "I couldn't find a help article that covers this with enough confidence."
FIXES_FAILED = "The suggested fixes did not resolve the issue."
WANTS_PERSON = "You asked to talk to a person."
NO_STEPS = "The article had no steps I could offer."
GUARDRAIL = "The drafted answer broke a guardrail."


@dataclass(frozen=True)
class Route:
    next: str        # the node to run next: answer | clarify | escalate | chat | close | retrieve | confirm
    reason: str = ""  # for an escalation: why, shown to the customer and to the person taking over


def after_understanding(intent: str, forbidden_reason: str | None, says_nothing: bool = False) -> Route:
    """After reading the message: what it asks for decides whether retrieval is needed at all.
    (A request for a person still retrieves: the handoff can point at an article meanwhile.) A new issue
    that says nothing about what ("It doesn't work") gets one question back, not a guess."""
    if forbidden_reason:
        return Route("escalate", forbidden_reason)
    if intent == "resolved":
        return Route("close")
    if intent == "small_talk" or says_nothing:
        return Route("chat")
    return Route("retrieve")


def after_retrieval(state: dict, brief: Brief, missing_detail: str | None) -> Route:
    """With the articles found: answer, ask for the one missing detail, reply that it is not our
    topic, or hand over."""
    confident = bool(state.get("hits")) and state.get("confidence", 0.0) >= brief.escalation.min_confidence
    if state.get("intent") == "human":
        return Route("escalate", WANTS_PERSON)
    if state.get("intent") == "retry" and state.get("failed_attempts", 0) >= brief.escalation.max_failed_attempts:
        return Route("escalate", FIXES_FAILED)
    if not confident:
        # Not about us (and the help centre agrees): say what we can help with; no person needed.
        return Route("chat") if state.get("intent") == "off_topic" else Route("escalate", NO_ARTICLE)
    if brief.scaffold.clarify and missing_detail:
        return Route("clarify")
    return Route("answer")


def after_check(has_steps: bool, broken_rules: list[str]) -> Route:
    """After the output guard over the drafted answer."""
    if not has_steps:
        return Route("escalate", NO_STEPS)
    if broken_rules:
        return Route("escalate", GUARDRAIL)
    return Route("confirm")

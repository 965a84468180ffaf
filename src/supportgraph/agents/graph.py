"""The support agent's LangGraph: scaffold steps wired by routing rules from the brief."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.types import Checkpointer

from supportgraph.agents import nodes
from supportgraph.agents.brief import Brief
from supportgraph.agents.state import AgentContext, SupportState


def after_guard(state: SupportState) -> str:
    return END if state.get("reply") else "summarize"


def after_summarize(state: SupportState) -> str:
    return {"resolved": "close", "human": "escalate", "forbidden": "escalate"}.get(state["intent"], "retrieve")


def route_after_retrieve(brief: Brief):
    def route(state: SupportState) -> str:
        if state.get("intent") == "retry" and state.get("failed_attempts", 0) >= brief.escalation.max_failed_attempts:
            return "escalate"
        if not state.get("hits") or state["confidence"] < brief.escalation.min_confidence:
            return "escalate"
        if brief.scaffold.clarify and nodes.missing_slot(state, brief):
            return "clarify"
        return "answer"
    return route


def after_check(state: SupportState) -> str:
    return "escalate" if state.get("escalation_reason") else "confirm"


def build_graph(brief: Brief, checkpointer: Checkpointer = None):
    graph = StateGraph(SupportState, context_schema=AgentContext)
    graph.add_node("guard", nodes.guard)
    graph.add_node("summarize", nodes.summarize)
    graph.add_node("retrieve", nodes.retrieve)
    graph.add_node("clarify", nodes.clarify)
    graph.add_node("answer", nodes.answer)
    graph.add_node("check", nodes.check)
    graph.add_node("confirm", nodes.confirm)
    graph.add_node("escalate", nodes.escalate)
    graph.add_node("close", nodes.close)
    graph.add_edge(START, "guard")
    graph.add_conditional_edges("guard", after_guard, ["summarize", END])
    graph.add_conditional_edges("summarize", after_summarize, ["close", "escalate", "retrieve"])
    graph.add_conditional_edges("retrieve", route_after_retrieve(brief), ["escalate", "clarify", "answer"])
    graph.add_edge("answer", "check")
    graph.add_conditional_edges("check", after_check, ["escalate", "confirm"])
    for last in ("clarify", "confirm", "escalate", "close"):
        graph.add_edge(last, END)
    return graph.compile(checkpointer=checkpointer)

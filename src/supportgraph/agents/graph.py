"""The support agent's LangGraph: the scaffold steps, wired as the routing module decides.

Branching nodes (summarize, retrieve, check) return ``Command(goto=...)`` with the route that
``agents/routing.py`` chose; ``destinations`` declares where each can go, so the drawn graph
shows every path. Every path ends in ``output_guard`` (agents/output_guard.py), which checks the whole reply.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.types import Checkpointer

from supportgraph.agents import nodes
from supportgraph.agents.output_guard import output_guard
from supportgraph.agents.state import AgentContext, SupportState


def after_guard(state: SupportState) -> str:
    return "output_guard" if state.get("reply") else "summarize"


def build_graph(checkpointer: Checkpointer = None):
    graph = StateGraph(SupportState, context_schema=AgentContext)
    graph.add_node("guard", nodes.guard)
    graph.add_node("summarize", nodes.summarize, destinations=("close", "escalate", "chat", "retrieve"))
    graph.add_node("retrieve", nodes.retrieve, destinations=("escalate", "chat", "clarify", "answer"))
    graph.add_node("clarify", nodes.clarify)
    graph.add_node("answer", nodes.answer)
    graph.add_node("check", nodes.check, destinations=("escalate", "confirm"))
    graph.add_node("confirm", nodes.confirm)
    graph.add_node("escalate", nodes.escalate)
    graph.add_node("chat", nodes.chat)
    graph.add_node("close", nodes.close)
    graph.add_node("output_guard", output_guard)  # every reply, whoever wrote it, passes here before it is shown
    graph.add_edge(START, "guard")
    graph.add_conditional_edges("guard", after_guard, ["summarize", "output_guard"])
    graph.add_edge("answer", "check")
    for last in ("clarify", "confirm", "escalate", "chat", "close"):
        graph.add_edge(last, "output_guard")
    graph.add_edge("output_guard", END)
    return graph.compile(checkpointer=checkpointer)

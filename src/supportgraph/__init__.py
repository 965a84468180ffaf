"""supportgraph: customer-support agents on LangGraph, with prompts, knowledge
and evaluations treated like products."""

__version__ = "0.1.0"

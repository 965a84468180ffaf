"""The support agent: brief, guardrails, LangGraph scaffold and its service."""

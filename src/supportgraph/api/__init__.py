"""The HTTP API (`supportgraph serve`): threads and runs after LangGraph's Agent Protocol, streamed
runs over server-sent events, history, feedback, API keys with rate limits, signed webhooks, and
the embeddable chat page. A thin front: every decision is made in the package it calls."""

from supportgraph.api.app import create_app

__all__ = ["create_app"]

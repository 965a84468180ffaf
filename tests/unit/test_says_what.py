"""Whether a customer's first message says what it is about (agents/intent.py::says_what)."""

from __future__ import annotations

import pytest

from supportgraph.agents.intent import says_what

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("message", ["It doesn't work", "help", "I need help", "Can you help me?", "I have a problem",
                                     "it's broken", "Something is wrong", "error", "not working", "Hi, I have a question",
                                     "I have another problem"])
def test_a_bare_request_for_help_says_nothing_about_what(message):
    assert not says_what(message)


@pytest.mark.parametrize("message", ["I can't log in", "refund", "Sync doesn't work", "error 403 on export",
                                     "Can you help me with my invoice?", "VGLI"])
def test_one_word_that_names_something_is_enough(message):
    assert says_what(message)

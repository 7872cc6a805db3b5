# Anthropic's Python SDK against the server's Messages API: a whole message, a stream (its text events and
# final message), count_tokens and a tool call, printed as one JSON line.
import json
import sys

import anthropic

client = anthropic.Anthropic(base_url=sys.argv[1], api_key="none", max_retries=0)
messages = [{"role": "user", "content": sys.argv[2]}]
whole = client.messages.create(model="Qwen/Qwen3-0.6B", max_tokens=256, messages=messages)
streamed = ""
with client.messages.stream(model="Qwen/Qwen3-0.6B", max_tokens=256, messages=messages) as stream:
    for text in stream.text_stream:
        streamed += text
    final = stream.get_final_message()
counted = client.messages.count_tokens(model="Qwen/Qwen3-0.6B", messages=messages)
weather = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
called = client.messages.create(
    model="Qwen/Qwen3-0.6B",
    max_tokens=256,
    tools=[weather],
    messages=[{"role": "user", "content": "What is the weather in Paris?"}],
)
tool = next(b for b in called.content if b.type == "tool_use")
print(json.dumps({
    "version": anthropic.__version__,
    "whole": whole.content[0].text,
    "stop": whole.stop_reason,
    "streamed": streamed,
    "final": final.content[0].text,
    "input_tokens": whole.usage.input_tokens,
    "counted": counted.input_tokens,
    "tool": {"name": tool.name, "input": tool.input},
}))

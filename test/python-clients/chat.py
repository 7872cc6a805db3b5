# OpenAI's Python SDK against the server's chat completions: a whole answer and a stream, printed as one JSON line.
import json
import sys

import openai

client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="none", max_retries=0)
messages = [{"role": "user", "content": sys.argv[2]}]
whole = client.chat.completions.create(model="Qwen/Qwen3-0.6B", messages=messages)
text = ""
usage = None
with client.chat.completions.create(
    model="Qwen/Qwen3-0.6B", messages=messages, stream=True, stream_options={"include_usage": True}
) as stream:
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.usage:
            usage = chunk.usage.model_dump()
print(json.dumps({
    "version": openai.__version__,
    "whole": whole.choices[0].message.content,
    "finish": whole.choices[0].finish_reason,
    "streamed": text,
    "usage": usage,
}))

# OpenAI's Python SDK against the server's Responses API: a whole answer, the stream helper's final response,
# a tool call round trip through previous_response_id, and responses.parse with a pydantic model; one JSON line.
import json
import sys

import openai
from pydantic import BaseModel

MODEL = "Qwen/Qwen3-0.6B"
client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="none", max_retries=0)
prompt = sys.argv[2]

whole = client.responses.create(model=MODEL, input=prompt, instructions="Be terse.")

deltas = ""
with client.responses.stream(model=MODEL, input=prompt, reasoning={"effort": "low"}) as stream:
    for event in stream:
        if event.type == "response.output_text.delta":
            deltas += event.delta
    final = stream.get_final_response()

tools = [{
    "type": "function",
    "name": "get_weather",
    "strict": True,
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False},
}]
first = client.responses.create(model=MODEL, input="What is the weather in Paris?", tools=tools)
call = next(o for o in first.output if o.type == "function_call")
second = client.responses.create(
    model=MODEL,
    previous_response_id=first.id,
    tools=tools,
    input=[{"type": "function_call_output", "call_id": call.call_id, "output": "21 C"}],
)


class Person(BaseModel):
    name: str
    age: int


parsed = client.responses.parse(model=MODEL, input=prompt, text_format=Person)

print(json.dumps({
    "version": openai.__version__,
    "whole": whole.output_text,
    "status": whole.status,
    "usage": whole.usage.model_dump(),
    "streamed": deltas,
    "final": final.output_text,
    "final_types": [o.type for o in final.output],
    "reasoning_tokens": final.usage.output_tokens_details.reasoning_tokens,
    "call": {"name": call.name, "arguments": json.loads(call.arguments)},
    "after_call": second.output_text,
    "parsed": parsed.output_parsed.model_dump(),
}))

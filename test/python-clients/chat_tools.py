# OpenAI's Python SDK against chat tool calls and structured outputs: a call whole and streamed (the stream
# helper's argument events), the round trip with the tool's result, and parse() with pydantic models (a response
# format, and a tool's parsed arguments). Prints one JSON line.
import json
import sys
from typing import List, Literal

import openai
from pydantic import BaseModel

MODEL = "Qwen/Qwen3-0.6B"
client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="none", max_retries=0)


class Weather(BaseModel):
    city: str
    unit: Literal["celsius", "fahrenheit"]


class Person(BaseModel):
    name: str
    age: int
    tags: List[Literal["a", "b"]]


weather_tool = openai.pydantic_function_tool(Weather, name="get_weather", description="The weather in a city")
messages = [{"role": "user", "content": "What is the weather in Oslo?"}]

whole = client.chat.completions.create(model=MODEL, messages=messages, tools=[weather_tool])
call = whole.choices[0].message.tool_calls[0]

deltas = ""
done = None
with client.chat.completions.stream(model=MODEL, messages=messages, tools=[weather_tool]) as stream:
    for event in stream:
        if event.type == "tool_calls.function.arguments.delta":
            deltas += event.arguments_delta
        elif event.type == "tool_calls.function.arguments.done":
            done = event.parsed_arguments
    final = stream.get_final_completion()

back = client.chat.completions.create(
    model=MODEL,
    messages=messages
    + [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temperature": 21})},
    ],
    tools=[weather_tool],
)

parsed = client.chat.completions.parse(model=MODEL, messages=[{"role": "user", "content": "Make up a person."}], response_format=Person)
parsed_call = client.chat.completions.parse(model=MODEL, messages=messages, tools=[weather_tool])

print(json.dumps({
    "finish": whole.choices[0].finish_reason,
    "content": whole.choices[0].message.content,
    "call": {"id": call.id, "name": call.function.name, "arguments": call.function.arguments},
    "streamed": {
        "finish": final.choices[0].finish_reason,
        "arguments": final.choices[0].message.tool_calls[0].function.arguments,
        "deltas": deltas,
        "done": done.model_dump() if done is not None else None,
    },
    "back": {"finish": back.choices[0].finish_reason, "content": back.choices[0].message.content},
    "person": parsed.choices[0].message.parsed.model_dump(),
    "person_json": parsed.choices[0].message.content,
    "weather": parsed_call.choices[0].message.tool_calls[0].function.parsed_arguments.model_dump(),
}))

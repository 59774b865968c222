"""The official `ollama` Python client against `hearth serve`: structured
output with Pydantic models and a tools round trip.

The tiny model has random weights, so these tests give it its "skills" with
structured output: `format=<JSON schema>` makes Hearth constrain sampling
with a grammar, so the answer always parses and validates. Enums, consts and
bounded integers keep the grammar finite, so generation ends on its own well
before num_predict. Fixtures live in conftest.py.
"""

from __future__ import annotations

from typing import Literal

import ollama
import pytest
from pydantic import BaseModel, ConfigDict, Field
from tool_fixtures import CALL_SCHEMA, CITIES, TOOL_TEMPLATE, WEATHER_TOOL

TOOLS_MODEL = "tiny-tools:latest"
CONSTRAINED = {"temperature": 0, "num_predict": 300, "num_thread": 1}


def get_weather(city: str) -> str:
    """Get the current weather in a city.

    Args:
      city: The city, Paris or Tokyo

    Returns:
      str: The weather
    """
    return {"Paris": "18 degrees, cloudy", "Tokyo": "24 degrees, sunny"}[city]


# --- structured output --------------------------------------------------------


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Literal["yes", "no", "maybe"]
    confidence: int = Field(ge=0, le=9)
    tags: list[Literal["a", "b"]] = Field(max_length=2)


class Country(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Literal["France", "Japan"]
    capital: Literal["Paris", "Tokyo"]


class Countries(BaseModel):
    """Nested models: Pydantic emits `$defs` and `$ref`."""

    model_config = ConfigDict(extra="forbid")

    countries: list[Country] = Field(min_length=1, max_length=2)
    done: bool


def test_structured_output_chat_pydantic(client: ollama.Client, tiny_model: str) -> None:
    resp = client.chat(
        model=tiny_model,
        messages=[{"role": "user", "content": "Is the hearth warm? Answer in JSON."}],
        format=Verdict.model_json_schema(),
        options=CONSTRAINED,
    )
    assert resp.done is True
    assert resp.done_reason == "stop", f"grammar did not finish: {resp.message.content!r}"
    verdict = Verdict.model_validate_json(resp.message.content)
    assert verdict.answer in ("yes", "no", "maybe")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_structured_output_generate_pydantic_sampled(client: ollama.Client, tiny_model: str, seed: int) -> None:
    # Sampling at temperature 1 still validates: the grammar, not luck, does it.
    resp = client.generate(
        model=tiny_model,
        prompt="Answer in JSON",
        format=Verdict.model_json_schema(),
        options={"temperature": 1.0, "seed": seed, "num_predict": 300, "num_thread": 1},
    )
    assert resp.done_reason == "stop", f"grammar did not finish: {resp.response!r}"
    Verdict.model_validate_json(resp.response)


def test_structured_output_nested_pydantic(client: ollama.Client, tiny_model: str) -> None:
    schema = Countries.model_json_schema()
    assert "$defs" in schema  # the point of this test: references resolve
    resp = client.chat(
        model=tiny_model,
        messages=[{"role": "user", "content": "Name countries and capitals in JSON."}],
        format=schema,
        options=CONSTRAINED,
    )
    assert resp.done_reason == "stop", f"grammar did not finish: {resp.message.content!r}"
    countries = Countries.model_validate_json(resp.message.content)
    assert 1 <= len(countries.countries) <= 2


def test_structured_output_streamed_pydantic(client: ollama.Client, tiny_model: str) -> None:
    chunks = list(
        client.chat(
            model=tiny_model,
            messages=[{"role": "user", "content": "Answer in JSON."}],
            format=Verdict.model_json_schema(),
            options=CONSTRAINED,
            stream=True,
        )
    )
    assert len(chunks) >= 2
    assert chunks[-1].done is True and chunks[-1].done_reason == "stop"
    Verdict.model_validate_json("".join(c.message.content or "" for c in chunks))


# --- tools --------------------------------------------------------------------


@pytest.fixture(scope="module")
def tools_model(client: ollama.Client, tiny_model: str) -> str:
    """'tiny-tools:latest': tiny with a template that renders tools."""
    resp = client.create(model="tiny-tools", from_=tiny_model, template=TOOL_TEMPLATE)
    assert resp.status == "success", repr(resp)
    caps = client.show(TOOLS_MODEL).capabilities or []
    assert "tools" in caps, f"capabilities: {caps}"
    return TOOLS_MODEL


def _check_call(call) -> str:
    assert call.function.name == "get_weather"
    assert set(call.function.arguments) == {"city"}
    city = call.function.arguments["city"]
    assert city in CITIES
    return city


def test_tools_round_trip(client: ollama.Client, tools_model: str) -> None:
    ask = {"role": "user", "content": "What is the weather in Paris?"}
    first = client.chat(
        model=tools_model,
        messages=[ask],
        tools=[WEATHER_TOOL],
        format=CALL_SCHEMA,
        options=CONSTRAINED,
    )
    assert first.done is True
    assert first.message.role == "assistant"
    assert first.message.content == ""
    assert first.message.tool_calls and len(first.message.tool_calls) == 1, repr(first.message)
    city = _check_call(first.message.tool_calls[0])

    # Send the call and its result back (the assistant message as the client
    # parsed it, then a tool message); the model answers normally.
    second = client.chat(
        model=tools_model,
        messages=[
            ask,
            first.message,
            {"role": "tool", "content": get_weather(city), "tool_name": "get_weather"},
        ],
        tools=[WEATHER_TOOL],
        options={"temperature": 0, "num_predict": 6, "num_thread": 1},
    )
    assert second.done is True
    assert second.message.role == "assistant"
    assert isinstance(second.message.content, str)
    assert second.eval_count is not None and second.eval_count >= 1


def test_tools_python_function(client: ollama.Client, tools_model: str) -> None:
    """A plain Python function as a tool: the client builds its schema from
    the signature and docstring; the call that comes back is dispatched to it."""
    available = {"get_weather": get_weather}
    messages: list = [{"role": "user", "content": "Weather in Tokyo?"}]
    first = client.chat(
        model=tools_model,
        messages=messages,
        tools=[get_weather],
        format=CALL_SCHEMA,
        options=CONSTRAINED,
    )
    assert first.message.tool_calls, repr(first.message)
    messages.append(first.message)
    for call in first.message.tool_calls:
        _check_call(call)
        result = available[call.function.name](**call.function.arguments)
        messages.append({"role": "tool", "content": result, "tool_name": call.function.name})

    # The final answer, itself constrained, comes back as content, not a call.
    final = client.chat(
        model=tools_model,
        messages=messages,
        tools=[get_weather],
        format=Verdict.model_json_schema(),
        options=CONSTRAINED,
    )
    assert not final.message.tool_calls, repr(final.message)
    Verdict.model_validate_json(final.message.content)


def test_tools_streamed(client: ollama.Client, tools_model: str) -> None:
    chunks = list(
        client.chat(
            model=tools_model,
            messages=[{"role": "user", "content": "Weather in Paris?"}],
            tools=[WEATHER_TOOL],
            format=CALL_SCHEMA,
            options=CONSTRAINED,
            stream=True,
        )
    )
    with_calls = [c for c in chunks if c.message.tool_calls]
    assert len(with_calls) == 1, [c.message for c in chunks]
    assert with_calls[0].message.content == ""
    _check_call(with_calls[0].message.tool_calls[0])
    assert chunks[-1].done is True
    # The call's JSON is not also streamed as text.
    assert "get_weather" not in "".join(c.message.content or "" for c in chunks)


def test_tools_refused_by_model_without_tool_template(client: ollama.Client, tiny_model: str) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(
            model=tiny_model,
            messages=[{"role": "user", "content": "x"}],
            tools=[WEATHER_TOOL],
        )
    assert info.value.status_code == 400, str(info.value)
    assert "does not support tools" in str(info.value)


"""End-to-end tests: the official `openai` Python SDK against `hearth serve`.

Only the base URL changes (`http://<host>/v1`); the API key is ignored.
Everything runs on the tiny random-weight model with temperature 0 and small
token budgets (it never ends a turn by itself, so answers run to the budget
and finish with "length"), except the test marked `gemma`. Structured
output works even on the tiny model: the JSON schema becomes a grammar.
Fixtures live in conftest.py.
"""

from __future__ import annotations

import json
from typing import Literal

import openai
import pytest
from pydantic import BaseModel
from tool_fixtures import CALL_SCHEMA, TOOL_TEMPLATE, WEATHER_TOOL

class Verdict(BaseModel):
    color: Literal["red", "green", "blue"]
    ok: bool


@pytest.fixture(scope="session")
def oai(hearth_server) -> openai.OpenAI:
    c = openai.OpenAI(base_url=hearth_server.url + "/v1", api_key="hearth", timeout=120, max_retries=0)
    yield c
    c.close()


def _hello(model: str):
    return {"model": model, "messages": [{"role": "user", "content": "Hello"}], "temperature": 0}


def test_chat_not_streamed(oai: openai.OpenAI, tiny_model: str) -> None:
    resp = oai.chat.completions.create(**_hello(tiny_model), max_tokens=4)
    assert resp.id.startswith("chatcmpl-")
    assert resp.object == "chat.completion"
    assert resp.system_fingerprint == "fp_ollama"
    assert resp.model == tiny_model
    choice = resp.choices[0]
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content
    assert choice.finish_reason == "length"
    assert resp.usage is not None
    assert resp.usage.completion_tokens == 4
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + 4


def test_chat_streamed(oai: openai.OpenAI, tiny_model: str) -> None:
    whole = oai.chat.completions.create(**_hello(tiny_model), max_tokens=5)
    chunks = list(
        oai.chat.completions.create(
            **_hello(tiny_model), max_tokens=5, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({c.id for c in chunks}) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "length" and all(f is None for f in finishes[:-1])
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 5


def test_chat_parse_structured_output(oai: openai.OpenAI, tiny_model: str) -> None:
    resp = oai.chat.completions.parse(
        model=tiny_model,
        messages=[{"role": "user", "content": "Pick a color."}],
        response_format=Verdict,
        temperature=0,
        max_tokens=300,
    )
    choice = resp.choices[0]
    assert choice.finish_reason == "stop"
    assert isinstance(choice.message.parsed, Verdict)
    assert Verdict.model_validate_json(choice.message.content) == choice.message.parsed


@pytest.mark.gemma
def test_gemma_parse_structured_output(oai: openai.OpenAI, gemma_model: str) -> None:
    resp = oai.chat.completions.parse(
        model=gemma_model,
        messages=[{"role": "user", "content": "Is the sky blue? Answer with a color and ok=true."}],
        response_format=Verdict,
        temperature=0,
        max_tokens=200,
    )
    assert isinstance(resp.choices[0].message.parsed, Verdict)


def test_tool_call_round_trip(oai: openai.OpenAI, client, tiny_model: str) -> None:
    client.create(model="tooly-openai", from_=tiny_model, template=TOOL_TEMPLATE)
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    resp = oai.chat.completions.create(
        model="tooly-openai",
        messages=messages,
        tools=[WEATHER_TOOL],
        temperature=0,
        max_tokens=256,
        response_format={"type": "json_schema", "json_schema": {"name": "call", "schema": CALL_SCHEMA}},
    )
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["city"] in ("Paris", "Tokyo")
    messages += [choice.message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    again = oai.chat.completions.create(model="tooly-openai", messages=messages, tools=[WEATHER_TOOL], temperature=0, max_tokens=2)
    assert again.choices[0].finish_reason == "length"


def test_completions(oai: openai.OpenAI, tiny_model: str) -> None:
    resp = oai.completions.create(model=tiny_model, prompt="Once upon", max_tokens=3, temperature=0)
    assert resp.object == "text_completion"
    assert resp.choices[0].finish_reason == "length"
    assert resp.usage is not None and resp.usage.completion_tokens == 3
    streamed = "".join(
        c.choices[0].text
        for c in oai.completions.create(model=tiny_model, prompt="Once upon", max_tokens=3, temperature=0, stream=True)
        if c.choices
    )
    assert streamed == resp.choices[0].text


def test_models_list_and_retrieve(oai: openai.OpenAI, tiny_model: str) -> None:
    ids = [m.id for m in oai.models.list()]
    assert tiny_model in ids
    model = oai.models.retrieve(tiny_model)
    assert model.id == tiny_model and model.owned_by == "library" and model.object == "model"
    with pytest.raises(openai.NotFoundError):
        oai.models.retrieve("no-such-model:latest")


def test_responses_not_streamed(oai: openai.OpenAI, tiny_model: str) -> None:
    resp = oai.responses.create(
        model=tiny_model, input="Hello", instructions="Be brief.", max_output_tokens=4, temperature=0
    )
    assert resp.status == "completed"
    assert resp.output[0].type == "message"
    assert resp.output[0].content[0].type == "output_text"
    assert resp.output_text == resp.output[0].content[0].text
    assert resp.usage is not None and resp.usage.output_tokens == 4


def test_responses_streamed(oai: openai.OpenAI, tiny_model: str) -> None:
    whole = oai.responses.create(model=tiny_model, input="Hello", max_output_tokens=4, temperature=0)
    with oai.responses.stream(model=tiny_model, input="Hello", max_output_tokens=4, temperature=0) as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    numbers = [e.sequence_number for e in events]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == whole.output_text == final.output_text


def test_unknown_model_is_not_found(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        oai.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 404
    assert "not found" in info.value.message


def test_empty_messages_is_bad_request(oai: openai.OpenAI, tiny_model: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        oai.chat.completions.create(model=tiny_model, messages=[])
    assert info.value.body["message"] == "[] is too short - 'messages'"
    assert info.value.body["type"] == "invalid_request_error"


def test_embeddings_float_and_base64_agree(oai: openai.OpenAI, tiny_embed_model: str) -> None:
    floats = oai.embeddings.create(model=tiny_embed_model, input=["hello", "world"], encoding_format="float")
    # Without encoding_format the SDK asks for base64 and decodes it itself.
    decoded = oai.embeddings.create(model=tiny_embed_model, input=["hello", "world"])
    assert [d.index for d in floats.data] == [0, 1]
    assert floats.usage.prompt_tokens > 0
    for a, b in zip(floats.data, decoded.data):
        assert len(a.embedding) == len(b.embedding) > 0
        assert all(abs(x - y) < 1e-6 for x, y in zip(a.embedding, b.embedding))
    short = oai.embeddings.create(model=tiny_embed_model, input="hi", dimensions=8, encoding_format="float")
    assert len(short.data[0].embedding) == 8

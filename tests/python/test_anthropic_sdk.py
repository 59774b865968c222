"""End-to-end tests: the official `anthropic` Python SDK against
`hearth serve`'s `/v1/messages`.

Only the base URL changes; the API key is sent and ignored. The tiny model
runs with temperature 0 (sent as an extra body field: this SDK version has
no `temperature` argument) and small budgets, so answers end at max_tokens.
Fixtures live in conftest.py.
"""

from __future__ import annotations

import anthropic
import pytest

GREEDY = {"temperature": 0}


@pytest.fixture(scope="session")
def claude(hearth_server) -> anthropic.Anthropic:
    c = anthropic.Anthropic(base_url=hearth_server.url, api_key="hearth", timeout=120, max_retries=0)
    yield c
    c.close()


def test_message_not_streamed(claude: anthropic.Anthropic, tiny_model: str) -> None:
    msg = claude.messages.create(
        model=tiny_model,
        max_tokens=4,
        system="Be brief.",
        messages=[{"role": "user", "content": "Hello"}],
        extra_body=GREEDY,
    )
    assert msg.id.startswith("msg_")
    assert msg.role == "assistant" and msg.type == "message"
    assert msg.content[0].type == "text" and msg.content[0].text
    assert msg.stop_reason == "max_tokens"
    assert msg.usage.output_tokens == 4 and msg.usage.input_tokens > 0


def test_message_streamed(claude: anthropic.Anthropic, tiny_model: str) -> None:
    whole = claude.messages.create(
        model=tiny_model, max_tokens=5, messages=[{"role": "user", "content": "Hello"}], extra_body=GREEDY
    )
    with claude.messages.stream(
        model=tiny_model, max_tokens=5, messages=[{"role": "user", "content": "Hello"}], extra_body=GREEDY
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == whole.content[0].text == final.content[0].text
    assert final.stop_reason == "max_tokens"
    assert final.usage.output_tokens == 5


def test_errors(claude: anthropic.Anthropic, tiny_model: str) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        claude.messages.create(model="no-such-model", max_tokens=4, messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 404
    assert info.value.body["type"] == "error"
    assert info.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.BadRequestError):
        claude.messages.create(
            model=tiny_model,
            max_tokens=4,
            messages=[{"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]}],
        )

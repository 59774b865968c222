"""End-to-end tests: the official `ollama` Python client against `hearth serve`.

Everything runs on the tiny random-weight llama model from
scripts/make_tiny_gguf.py (created as `tiny:latest`), except the tests marked
`gemma`, which need the real Gemma 3 270M GGUF and are skipped without it,
and the embedding tests, which use its `--embedding` variant (`tiny-embed`).
Fixtures live in conftest.py; see its docstring for how to run these.

The tiny model's output rows for control and byte tokens are zero, so greedy
decoding never stops early: with temperature 0 a generation always runs to
num_predict and ends with done_reason "length".
"""

from __future__ import annotations

import math
import re

import ollama
import pytest

HEX64 = re.compile(r"[0-9a-f]{64}")
GREEDY = {"temperature": 0, "num_thread": 1}


def _names(models) -> list[str]:
    return [m.model for m in models]


def _final_metrics_ok(resp, max_tokens: int) -> None:
    assert resp.done is True
    assert resp.total_duration is not None and resp.total_duration > 0
    assert resp.load_duration is not None and resp.load_duration >= 0
    assert resp.prompt_eval_count is not None and resp.prompt_eval_count >= 1
    assert resp.prompt_eval_duration is not None and resp.prompt_eval_duration >= 0
    assert resp.eval_count is not None and 1 <= resp.eval_count <= max_tokens
    assert resp.eval_duration is not None and resp.eval_duration >= 0


def test_list_shows_tiny(client: ollama.Client, tiny_model: str, tiny_gguf) -> None:
    models = client.list().models
    by_name = {m.model: m for m in models}
    assert tiny_model in by_name, f"list: {_names(models)}"
    m = by_name[tiny_model]
    assert m.digest is not None and HEX64.fullmatch(m.digest), m.digest
    assert m.details is not None and m.details.format == "gguf"
    assert m.size is not None and m.size >= tiny_gguf.stat().st_size
    assert m.modified_at is not None


def test_show_tiny(client: ollama.Client, tiny_model: str) -> None:
    resp = client.show(tiny_model)
    assert resp.modelinfo is not None
    assert resp.modelinfo["general.architecture"] == "llama"
    assert resp.modelinfo["llama.context_length"] == 512
    assert resp.modelinfo["llama.embedding_length"] == 128
    assert resp.template, "show returned no template"
    assert "<|im_start|>" in resp.template
    assert resp.details is not None
    assert resp.details.format == "gguf"
    assert resp.details.family == "llama"
    # created with parameters={'num_thread': 1}
    assert resp.parameters is not None and "num_thread" in resp.parameters


def test_generate_not_streamed(client: ollama.Client, tiny_model: str) -> None:
    resp = client.generate(
        model=tiny_model,
        prompt="The fire in the hearth",
        options={**GREEDY, "num_predict": 4},
    )
    assert resp.model == tiny_model
    assert resp.done is True
    assert resp.done_reason == "length"
    assert isinstance(resp.response, str)
    assert resp.eval_count is not None and 1 <= resp.eval_count <= 4
    _final_metrics_ok(resp, 4)


def test_generate_streamed(client: ollama.Client, tiny_model: str) -> None:
    chunks = list(
        client.generate(
            model=tiny_model,
            prompt="Hello! How are you today?",
            options={**GREEDY, "num_predict": 8},
            stream=True,
        )
    )
    assert len(chunks) >= 3, f"expected several chunks, got {len(chunks)}"
    *body, final = chunks
    for c in body:
        assert c.done is False
        assert c.model == tiny_model
        assert isinstance(c.response, str)
    assert final.done_reason == "length"
    _final_metrics_ok(final, 8)


def test_stream_and_non_stream_agree(client: ollama.Client, tiny_model: str) -> None:
    opts = {**GREEDY, "num_predict": 8}
    prompt = "Let us write a list"
    whole = client.generate(model=tiny_model, prompt=prompt, options=opts)
    streamed = "".join(c.response or "" for c in client.generate(model=tiny_model, prompt=prompt, options=opts, stream=True))
    assert streamed == whole.response


def test_chat_not_streamed(client: ollama.Client, tiny_model: str) -> None:
    resp = client.chat(
        model=tiny_model,
        messages=[{"role": "user", "content": "Hello! What would you like to do?"}],
        options={**GREEDY, "num_predict": 8},
    )
    assert resp.model == tiny_model
    assert resp.done is True
    assert resp.done_reason == "length"
    assert resp.message.role == "assistant"
    assert isinstance(resp.message.content, str)
    _final_metrics_ok(resp, 8)


def test_chat_streamed(client: ollama.Client, tiny_model: str) -> None:
    chunks = list(
        client.chat(
            model=tiny_model,
            messages=[
                {"role": "system", "content": "You answer in short sentences."},
                {"role": "user", "content": "Tell me a story about the sea."},
            ],
            options={**GREEDY, "num_predict": 8},
            stream=True,
        )
    )
    assert len(chunks) >= 2, f"expected several chunks, got {len(chunks)}"
    for c in chunks:
        assert c.message.role == "assistant"
    assert all(c.done is False for c in chunks[:-1])
    final = chunks[-1]
    assert final.done_reason == "length"
    _final_metrics_ok(final, 8)
    text = "".join(c.message.content or "" for c in chunks)
    assert isinstance(text, str)


def test_ps_lists_loaded_model(client: ollama.Client, tiny_model: str) -> None:
    client.generate(model=tiny_model, prompt="Hi", options={**GREEDY, "num_predict": 1})
    running = client.ps().models
    assert tiny_model in _names(running), f"ps: {_names(running)}"
    m = next(m for m in running if m.model == tiny_model)
    assert m.digest is not None and HEX64.fullmatch(m.digest), m.digest
    assert m.expires_at is not None


def test_copy_then_delete(client: ollama.Client, tiny_model: str) -> None:
    copy_name = "tiny-copy:latest"
    assert client.copy(tiny_model, copy_name).status == "success"
    try:
        listed = {m.model: m for m in client.list().models}
        assert tiny_model in listed and copy_name in listed, f"list: {sorted(listed)}"
        assert listed[copy_name].digest == listed[tiny_model].digest
    finally:
        assert client.delete(copy_name).status == "success"
    names = _names(client.list().models)
    assert copy_name not in names
    assert tiny_model in names


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.generate(model="no-such-model:latest", prompt="hi"), id="generate"),
        pytest.param(
            lambda c: c.chat(model="no-such-model:latest", messages=[{"role": "user", "content": "hi"}]),
            id="chat",
        ),
        pytest.param(lambda c: c.show("no-such-model:latest"), id="show"),
    ],
)
def test_unknown_model_is_404(client: ollama.Client, call) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        call(client)
    assert info.value.status_code == 404, str(info.value)


def test_seeded_sampling_is_reproducible(client: ollama.Client, tiny_model: str) -> None:
    opts = {"temperature": 0.8, "seed": 42, "num_predict": 8, "num_thread": 1}
    prompt = "When the sun goes down"
    first = client.generate(model=tiny_model, prompt=prompt, options=opts)
    second = client.generate(model=tiny_model, prompt=prompt, options=opts)
    assert first.done is True and second.done is True
    assert first.response == second.response
    assert first.eval_count == second.eval_count


def test_generate_logprobs(client: ollama.Client, tiny_model: str) -> None:
    resp = client.generate(
        model=tiny_model,
        prompt="Hello",
        options={**GREEDY, "num_predict": 5},
        logprobs=True,
        top_logprobs=2,
    )
    assert resp.logprobs is not None and len(resp.logprobs) == resp.eval_count == 5
    assert "".join(lp.token for lp in resp.logprobs) == resp.response
    for lp in resp.logprobs:
        assert lp.logprob <= 0
        assert lp.top_logprobs is not None and len(lp.top_logprobs) == 2
        assert lp.top_logprobs[0].token == lp.token  # greedy picks the most likely


def test_chat_logprobs_streamed(client: ollama.Client, tiny_model: str) -> None:
    chunks = list(
        client.chat(
            model=tiny_model,
            messages=[{"role": "user", "content": "Hi"}],
            options={**GREEDY, "num_predict": 4},
            logprobs=True,
            stream=True,
        )
    )
    entries = [lp for c in chunks for lp in (c.logprobs or [])]
    assert len(entries) == 4
    assert "".join(lp.token for lp in entries) == "".join(c.message.content or "" for c in chunks)


def test_embed(client: ollama.Client, tiny_embed_model: str) -> None:
    inputs = ["The fire in the hearth", "warm bread", "The fire in the hearth"]
    resp = client.embed(model=tiny_embed_model, input=inputs)
    assert resp.model == tiny_embed_model
    assert len(resp.embeddings) == 3
    for v in resp.embeddings:
        assert len(v) == 128
        assert math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, abs_tol=1e-4)
    assert max(abs(a - b) for a, b in zip(resp.embeddings[0], resp.embeddings[2])) < 1e-3
    assert resp.prompt_eval_count is not None and resp.prompt_eval_count >= 3
    assert resp.total_duration is not None and resp.total_duration > 0

    cut = client.embed(model=tiny_embed_model, input="warm bread", dimensions=8)
    assert len(cut.embeddings) == 1 and len(cut.embeddings[0]) == 8

    legacy = client.embeddings(model=tiny_embed_model, prompt="warm bread")
    assert len(legacy.embedding) == 128


def test_embed_refused_by_completion_model(client: ollama.Client, tiny_model: str) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.embed(model=tiny_model, input="hi")
    assert info.value.status_code == 501, str(info.value)
    assert "does not support embeddings" in str(info.value)


@pytest.mark.gemma
def test_gemma_chat_answers(client: ollama.Client, gemma_model: str) -> None:
    resp = client.chat(
        model=gemma_model,
        messages=[{"role": "user", "content": "What is the capital of France? Answer in one word."}],
        options={"temperature": 0, "num_predict": 16},
    )
    assert resp.done is True
    assert resp.message.role == "assistant"
    assert resp.message.content and resp.message.content.strip(), repr(resp.message.content)

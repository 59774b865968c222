"""`ollama.Client.pull` against Hearth pulling from a local registry that
speaks Ollama's dialect (registry_server.py): the streamed progress the
official client parses (statuses, digest, total, completed), the
non-streamed answer, and that the pulled model runs."""

from __future__ import annotations

from pathlib import Path

import ollama
import pytest
from conftest import _make_tiny_gguf
from registry_server import OllamaRegistry


@pytest.fixture(scope="module")
def registry():
    r = OllamaRegistry()
    yield r
    r.close()


@pytest.fixture(scope="module")
def own_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GGUF no other test creates (seed 4242): the session's shared
    store must not already hold its blob, or the pull has nothing to fetch."""
    out = tmp_path_factory.mktemp("pull-model") / "pull.gguf"
    return _make_tiny_gguf(out, "--seed", "4242")


def test_pull_streams_progress(client: ollama.Client, registry: OllamaRegistry, own_gguf: Path) -> None:
    weights = own_gguf.read_bytes()
    digest, _ = registry.add_model("ns/pulled", "latest", weights)
    name = f"{registry.host}/ns/pulled:latest"

    updates = list(client.pull(name, insecure=True, stream=True))

    statuses = [u.status for u in updates]
    assert statuses[0] == "pulling manifest"
    assert statuses[-1] == "success"
    for phase in ("verifying sha256 digest", "writing manifest"):
        assert phase in statuses, statuses
    layer = [u for u in updates if u.digest == digest]
    assert layer, statuses
    assert all(u.status == f"pulling {digest[7:19]}" for u in layer)
    assert all(u.total == len(weights) for u in layer)
    completed = [u.completed or 0 for u in layer]
    assert completed == sorted(completed), completed
    assert completed[-1] == len(weights)
    # The registry serves slowly: the client saw the download in progress.
    assert any(0 < c < len(weights) for c in completed), completed
    assert not registry.auth_seen_by_cdn

    listed = [m.model for m in client.list().models]
    assert name in listed, listed
    answer = client.generate(model=name, prompt="hi", options={"num_predict": 2, "num_thread": 1})
    assert answer.done


def test_pull_not_streamed_and_already_present(client: ollama.Client, registry: OllamaRegistry, tiny_gguf: Path) -> None:
    registry.add_model("ns/again", "v1", tiny_gguf.read_bytes())
    name = f"{registry.host}/ns/again:v1"
    assert client.pull(name, insecure=True).status == "success"
    served = registry.served
    # Everything is present: nothing is fetched, every layer is complete.
    updates = list(client.pull(name, insecure=True, stream=True))
    assert updates[-1].status == "success"
    assert registry.served == served
    for u in updates:
        if u.digest:
            assert u.completed == u.total


def test_pull_of_a_missing_model_is_ollamas_error(client: ollama.Client, registry: OllamaRegistry) -> None:
    with pytest.raises(ollama.ResponseError) as err:
        client.pull(f"{registry.host}/ns/missing", insecure=True)
    assert "file does not exist" in str(err.value)

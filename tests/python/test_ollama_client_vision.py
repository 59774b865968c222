"""Images through the official `ollama` Python client: `images=[path]`.

The vision model is the tiny text GGUF plus the tiny CLIP projector of
scripts/make_tiny_mmproj.py, created the way `ollama create` does for a
Modelfile with two FROM lines (both files uploaded, one create call). The
client reads the image file and sends it base64-encoded; the PNG is written
here with the standard library only.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import ollama
import pytest

MAKE_TINY_MMPROJ = Path(__file__).resolve().parents[2] / "scripts" / "make_tiny_mmproj.py"
IMAGE_TOKENS = 16  # the tiny projector: 56x56 pixels in 14x14 patches
GREEDY = {"temperature": 0, "num_predict": 3}


def _png(path: Path, width: int, height: int, shade: int) -> Path:
    """An RGB PNG: a gradient whose blue channel is `shade`."""
    rows = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in ((x * 6) % 256, (y * 8) % 256, shade))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture(scope="session")
def vision_model(client: ollama.Client, tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("tiny-mmproj") / "mmproj.gguf"
    proc = subprocess.run(
        [sys.executable, str(MAKE_TINY_MMPROJ), str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    files = {"model.gguf": client.create_blob(tiny_gguf), "mmproj.gguf": client.create_blob(out)}
    resp = client.create(model="tiny-vision", files=files, parameters={"num_thread": 1})
    assert resp.status == "success"
    return "tiny-vision:latest"


def test_show_says_vision(client: ollama.Client, vision_model: str) -> None:
    shown = client.show(vision_model)
    # The client's ShowResponse has no projector_info field (tests/vision.rs checks it).
    assert "vision" in (shown.capabilities or [])
    assert "completion" in (shown.capabilities or [])


def test_generate_and_chat_take_image_paths(client: ollama.Client, vision_model: str, tmp_path: Path) -> None:
    red = _png(tmp_path / "red.png", 32, 32, 10)
    blue = _png(tmp_path / "blue.png", 32, 32, 240)
    plain = client.generate(model=vision_model, prompt="What is it?", options=GREEDY)
    seen = client.generate(model=vision_model, prompt="What is it?", images=[red], options=GREEDY)
    assert seen.prompt_eval_count == plain.prompt_eval_count + IMAGE_TOKENS

    def chat(image: Path):
        return client.chat(
            model=vision_model,
            messages=[{"role": "user", "content": "Describe it.", "images": [image]}],
            options=GREEDY,
            logprobs=True,
            top_logprobs=2,
        )

    a, b, a_again = chat(red), chat(blue), chat(red)
    assert a.done and a.prompt_eval_count > IMAGE_TOKENS
    numbers = lambda r: [(t.token, t.logprob) for t in r.logprobs]  # noqa: E731
    assert numbers(a) == numbers(a_again)
    assert numbers(a) != numbers(b)


def test_text_model_refuses_images(client: ollama.Client, tiny_model: str, tmp_path: Path) -> None:
    with pytest.raises(ollama.ResponseError) as e:
        client.generate(model=tiny_model, prompt="x", images=[_png(tmp_path / "p.png", 8, 8, 0)])
    assert e.value.status_code == 400
    assert "does not support vision" in e.value.error


def test_mmproj_script_is_deterministic(tmp_path: Path) -> None:
    outs = [tmp_path / "a.gguf", tmp_path / "b.gguf"]
    for out in outs:
        subprocess.run([sys.executable, str(MAKE_TINY_MMPROJ), str(out), "--seed", "3"], check=True, timeout=120)
    assert outs[0].read_bytes() == outs[1].read_bytes()

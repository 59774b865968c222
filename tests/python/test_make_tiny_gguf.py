"""Checks of scripts/make_tiny_gguf.py: structure, determinism, variants.

These read the file back with gguf-py's GGUFReader; they need no server.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_tiny_gguf.py"


def make(out: Path, *args: str) -> Path:
    subprocess.run([sys.executable, str(SCRIPT), str(out), *args], check=True, capture_output=True, timeout=120)
    return out


def kv(reader, key: str):
    field = reader.get_field(key)
    return None if field is None else field.contents()


def kv_type(reader, key: str):
    field = reader.get_field(key)
    assert field is not None, key
    return field.types


@pytest.fixture(scope="module")
def default_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


def test_metadata(default_model: Path) -> None:
    r = gguf.GGUFReader(default_model)
    T = gguf.GGUFValueType
    expect = {
        "general.architecture": ("llama", T.STRING),
        "general.name": ("hearth-tiny", T.STRING),
        "general.file_type": (0, T.UINT32),
        "llama.context_length": (512, T.UINT32),
        "llama.embedding_length": (128, T.UINT32),
        "llama.block_count": (2, T.UINT32),
        "llama.feed_forward_length": (256, T.UINT32),
        "llama.attention.head_count": (4, T.UINT32),
        "llama.attention.head_count_kv": (2, T.UINT32),
        "llama.rope.dimension_count": (32, T.UINT32),
        "tokenizer.ggml.model": ("llama", T.STRING),
        "tokenizer.ggml.bos_token_id": (1, T.UINT32),
        "tokenizer.ggml.eos_token_id": (2, T.UINT32),
        "tokenizer.ggml.unknown_token_id": (0, T.UINT32),
        "tokenizer.ggml.add_bos_token": (True, T.BOOL),
        "tokenizer.ggml.add_space_prefix": (False, T.BOOL),
    }
    for key, (value, vtype) in expect.items():
        assert kv(r, key) == value, key
        assert kv_type(r, key) == [vtype], key
    assert kv(r, "llama.attention.layer_norm_rms_epsilon") == pytest.approx(1e-5)
    assert kv(r, "llama.rope.freq_base") == pytest.approx(10000.0)
    assert kv(r, "llama.pooling_type") is None
    template = kv(r, "tokenizer.chat_template")
    assert "<|im_start|>" in template and "add_generation_prompt" in template
    # llama.cpp only accepts these element types
    assert kv_type(r, "tokenizer.ggml.tokens") == [T.ARRAY, T.STRING]
    assert kv_type(r, "tokenizer.ggml.scores") == [T.ARRAY, T.FLOAT32]
    assert kv_type(r, "tokenizer.ggml.token_type") == [T.ARRAY, T.INT32]


def test_vocabulary(default_model: Path) -> None:
    r = gguf.GGUFReader(default_model)
    tokens = kv(r, "tokenizer.ggml.tokens")
    types = kv(r, "tokenizer.ggml.token_type")
    scores = kv(r, "tokenizer.ggml.scores")
    n = len(tokens)
    assert len(types) == n and len(scores) == n
    assert kv(r, "llama.vocab_size") == n
    assert len(set(tokens)) == n, "token strings must be unique"
    assert tokens[:5] == ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    TT = gguf.TokenType
    assert types[:5] == [TT.UNKNOWN, TT.CONTROL, TT.CONTROL, TT.CONTROL, TT.CONTROL]
    assert tokens[5:261] == [f"<0x{b:02X}>" for b in range(256)]
    assert set(types[5:261]) == {TT.BYTE}
    normal = [(t, s) for t, s, ty in zip(tokens, scores, types) if ty == TT.NORMAL]
    assert n == 261 + len(normal)
    assert "\u2581" in [t for t, _ in normal]
    assert all(ch in tokens for ch in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    pieces = [(t, s) for t, s in normal if len(t) > 1]
    assert len(pieces) == 300
    # score = -rank, ranks 1..300 in vocab order
    assert [s for _, s in pieces] == [-float(i) for i in range(1, 301)]
    assert any(t.startswith("\u2581") for t, _ in pieces)


def test_tensors(default_model: Path) -> None:
    r = gguf.GGUFReader(default_model)
    n_vocab = kv(r, "llama.vocab_size")
    # ggml ne order (innermost first), as llama.cpp's loader checks them
    want = {
        "token_embd.weight": [128, n_vocab],
        "output_norm.weight": [128],
        "output.weight": [128, n_vocab],
    }
    for i in range(2):
        want.update(
            {
                f"blk.{i}.attn_norm.weight": [128],
                f"blk.{i}.attn_q.weight": [128, 128],
                f"blk.{i}.attn_k.weight": [128, 64],
                f"blk.{i}.attn_v.weight": [128, 64],
                f"blk.{i}.attn_output.weight": [128, 128],
                f"blk.{i}.ffn_norm.weight": [128],
                f"blk.{i}.ffn_gate.weight": [128, 256],
                f"blk.{i}.ffn_up.weight": [128, 256],
                f"blk.{i}.ffn_down.weight": [256, 128],
            }
        )
    got = {t.name: t for t in r.tensors}
    assert set(got) == set(want)
    for name, ne in want.items():
        t = got[name]
        assert [int(x) for x in t.shape] == ne, name
        assert t.tensor_type == gguf.GGMLQuantizationType.F32, name
        assert np.isfinite(t.data).all(), name
    assert np.all(got["blk.0.attn_norm.weight"].data == 1.0)
    emb = got["token_embd.weight"].data
    assert emb.shape == (n_vocab, 128)  # the reader gives numpy (rows, cols)
    assert 0.015 < float(emb.std()) < 0.025
    out = got["output.weight"].data
    types = kv(r, "tokenizer.ggml.token_type")
    special = [i for i, ty in enumerate(types) if ty != gguf.TokenType.NORMAL]
    assert np.all(out[special] == 0.0)
    assert float(np.abs(out[len(special):]).min(axis=1).max()) > 0.0


def test_deterministic(tmp_path: Path, default_model: Path) -> None:
    again = make(tmp_path / "again.gguf")
    assert again.read_bytes() == default_model.read_bytes()
    other = make(tmp_path / "seed1.gguf", "--seed", "1")
    assert other.read_bytes() != default_model.read_bytes()
    assert other.stat().st_size == default_model.stat().st_size


def test_options(tmp_path: Path) -> None:
    p = make(tmp_path / "small.gguf", "--embd", "64", "--layers", "3", "--ctx", "256", "--no-template")
    r = gguf.GGUFReader(p)
    assert kv(r, "llama.embedding_length") == 64
    assert kv(r, "llama.block_count") == 3
    assert kv(r, "llama.context_length") == 256
    assert kv(r, "llama.rope.dimension_count") == 16
    assert kv(r, "tokenizer.chat_template") is None
    assert len([t for t in r.tensors if t.name.startswith("blk.")]) == 27

    tpl = tmp_path / "tpl.jinja"
    tpl.write_text("{{ messages[0]['content'] }}", encoding="utf-8")
    r = gguf.GGUFReader(make(tmp_path / "tpl.gguf", "--template-file", str(tpl)))
    assert kv(r, "tokenizer.chat_template") == "{{ messages[0]['content'] }}"


def test_embedding_variant(tmp_path: Path) -> None:
    r = gguf.GGUFReader(make(tmp_path / "embed.gguf", "--embedding"))
    assert kv(r, "general.architecture") == "llama"
    assert kv(r, "general.name") == "hearth-tiny-embed"
    assert kv(r, "llama.pooling_type") == 1
    assert kv_type(r, "llama.pooling_type") == [gguf.GGUFValueType.UINT32]
    assert kv(r, "tokenizer.chat_template") is None


def test_no_temp_files_left(tmp_path: Path) -> None:
    make(tmp_path / "m.gguf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.gguf"]

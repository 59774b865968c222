#!/usr/bin/env python3
"""Write a tiny, deterministic CLIP projector GGUF (an "mmproj") with random weights.

For Hearth's vision tests: a projector that llama.cpp's multimodal library
(tools/mtmd, clip.cpp) loads next to the tiny text model of
scripts/make_tiny_gguf.py, so a model "sees" images without downloading one.
Needs only the `gguf` and `numpy` packages (scripts/requirements-test.txt).

    python3 scripts/make_tiny_mmproj.py OUT.gguf [--seed 0] [--text-embd 128]
        [--image-size 56] [--patch 14] [--embd 32] [--layers 2]

--text-embd must equal the text model's n_embd (make_tiny_gguf.py --embd;
128 by default): llama.cpp refuses a projector whose output width differs.
The same arguments always give a byte-identical file; it is written under a
temporary name and renamed into place.

Projector (llama.cpp's simplest, the LLaVA-1.5 "mlp" type):
  * general.architecture = "clip", general.type = "mmproj", all tensors F32
  * clip.has_vision_encoder = true, clip.projector_type = "mlp",
    clip.use_gelu = true
  * a ViT: image 56x56 in 14x14 patches = 16 patches, each one image token;
    width 32, 2 heads, n_ff 64, 2 blocks (llama.cpp's llava graph runs all but
    the last block: the last one exists because LLaVA takes the penultimate
    layer's features), LayerNorm eps 1e-6, image mean/std 0.5
  * then the projector: mm.0 (32 -> 128), GELU, mm.2 (128 -> text n_embd)
  * weights ~ N(0, 0.02), except the patch embedding and the projector
    (N(0, 0.2)) so that different images give clearly different embeddings;
    LayerNorm weights are ones and biases zeros

Tensors (numpy shapes; gguf-py stores ggml's ne in reverse, so numpy
(out, in) becomes ne = {in, out}, what clip.cpp's matmuls expect):
  v.patch_embd.weight (embd, 3, patch, patch)  v.patch_embd.bias (embd,)
  v.position_embd.weight (n_patches, embd)
  v.pre_ln.{weight,bias} (embd,)
  v.blk.N.attn_{q,k,v}.{weight (embd, embd), bias (embd,)}
  v.blk.N.attn_out.{weight (embd, embd), bias (embd,)}
  v.blk.N.ln1 / ln2 .{weight,bias} (embd,)
  v.blk.N.ffn_up.{weight (n_ff, embd), bias (n_ff,)}
  v.blk.N.ffn_down.{weight (embd, n_ff), bias (embd,)}
  mm.0.{weight (hidden, embd), bias (hidden,)}
  mm.2.{weight (text_embd, hidden), bias (text_embd,)}
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:
    import gguf
    from make_tiny_gguf import write_gguf
except ImportError:  # pragma: no cover - message for a missing dependency
    sys.exit("make_tiny_mmproj.py needs the 'gguf' package: pip install -r scripts/requirements-test.txt")

N_HEAD = 2
LN_EPS = 1e-6
WEIGHT_STD = 0.02
# Larger weights where the image enters and leaves, so that the pictures
# change the text model's logits measurably.
SIGNAL_STD = 0.2
PROJ_HIDDEN = 128


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Write a tiny deterministic CLIP projector GGUF.")
    p.add_argument("out", type=Path, help="output .gguf path")
    p.add_argument("--seed", type=int, default=0, help="RNG seed for the weights (default 0)")
    p.add_argument("--text-embd", type=int, default=128, help="n_embd of the text model (default 128)")
    p.add_argument("--image-size", type=int, default=56, help="input image side in pixels (default 56)")
    p.add_argument("--patch", type=int, default=14, help="patch side in pixels (default 14)")
    p.add_argument("--embd", type=int, default=32, help="vision width (default 32)")
    p.add_argument("--layers", type=int, default=2, help="vision blocks, at least 1 (default 2)")
    args = p.parse_args(argv)
    if args.patch <= 0 or args.image_size <= 0 or args.image_size % args.patch != 0:
        p.error("--image-size must be a positive multiple of --patch")
    if args.embd <= 0 or args.embd % N_HEAD != 0:
        p.error(f"--embd must be a positive multiple of {N_HEAD}")
    if args.text_embd <= 0:
        p.error("--text-embd must be positive")
    if not 1 <= args.layers <= 64:
        p.error("--layers must be between 1 and 64")
    if args.seed < 0:
        p.error("--seed must be >= 0")
    return args


def tensors_of(args: argparse.Namespace) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(args.seed)
    embd, n_ff = args.embd, 2 * args.embd
    n_patches = (args.image_size // args.patch) ** 2

    def rand(*shape: int, std: float = WEIGHT_STD) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(std)

    def ones(n: int) -> np.ndarray:
        return np.ones((n,), dtype=np.float32)

    def zeros(n: int) -> np.ndarray:
        return np.zeros((n,), dtype=np.float32)

    # One fixed drawing order, so the file depends only on the arguments.
    out: list[tuple[str, np.ndarray]] = [
        ("v.patch_embd.weight", rand(embd, 3, args.patch, args.patch, std=SIGNAL_STD)),
        ("v.patch_embd.bias", zeros(embd)),
        ("v.position_embd.weight", rand(n_patches, embd)),
        ("v.pre_ln.weight", ones(embd)),
        ("v.pre_ln.bias", zeros(embd)),
    ]
    for i in range(args.layers):
        blk = f"v.blk.{i}"
        out += [
            (f"{blk}.attn_q.weight", rand(embd, embd)),
            (f"{blk}.attn_q.bias", zeros(embd)),
            (f"{blk}.attn_k.weight", rand(embd, embd)),
            (f"{blk}.attn_k.bias", zeros(embd)),
            (f"{blk}.attn_v.weight", rand(embd, embd)),
            (f"{blk}.attn_v.bias", zeros(embd)),
            (f"{blk}.attn_out.weight", rand(embd, embd)),
            (f"{blk}.attn_out.bias", zeros(embd)),
            (f"{blk}.ln1.weight", ones(embd)),
            (f"{blk}.ln1.bias", zeros(embd)),
            (f"{blk}.ln2.weight", ones(embd)),
            (f"{blk}.ln2.bias", zeros(embd)),
            (f"{blk}.ffn_up.weight", rand(n_ff, embd)),
            (f"{blk}.ffn_up.bias", zeros(n_ff)),
            (f"{blk}.ffn_down.weight", rand(embd, n_ff)),
            (f"{blk}.ffn_down.bias", zeros(embd)),
        ]
    out += [
        ("mm.0.weight", rand(PROJ_HIDDEN, embd, std=SIGNAL_STD)),
        ("mm.0.bias", zeros(PROJ_HIDDEN)),
        ("mm.2.weight", rand(args.text_embd, PROJ_HIDDEN, std=SIGNAL_STD)),
        ("mm.2.bias", zeros(args.text_embd)),
    ]
    return out


def write(args: argparse.Namespace) -> dict[str, object]:
    tensors = tensors_of(args)
    out: Path = args.out

    def fill(w: "gguf.GGUFWriter") -> None:
        w.add_name("hearth-tiny-mmproj")
        w.add_type("mmproj")
        w.add_file_type(int(gguf.LlamaFileType.ALL_F32))
        w.add_bool("clip.has_vision_encoder", True)
        w.add_string("clip.projector_type", "mlp")
        w.add_bool("clip.use_gelu", True)
        w.add_uint32("clip.vision.image_size", args.image_size)
        w.add_uint32("clip.vision.patch_size", args.patch)
        w.add_uint32("clip.vision.embedding_length", args.embd)
        w.add_uint32("clip.vision.feed_forward_length", 2 * args.embd)
        w.add_uint32("clip.vision.projection_dim", args.text_embd)
        w.add_uint32("clip.vision.block_count", args.layers)
        w.add_uint32("clip.vision.attention.head_count", N_HEAD)
        w.add_float32("clip.vision.attention.layer_norm_epsilon", LN_EPS)
        w.add_array("clip.vision.image_mean", [0.5, 0.5, 0.5])
        w.add_array("clip.vision.image_std", [0.5, 0.5, 0.5])
        for name, data in tensors:
            w.add_tensor(name, data)

    write_gguf(out, "clip", fill)
    return {
        "path": str(out),
        "n_tensors": len(tensors),
        "image_tokens": (args.image_size // args.patch) ** 2,
        "bytes": out.stat().st_size,
    }


def main(argv: list[str] | None = None) -> int:
    info = write(parse_args(argv))
    print(
        f"wrote {info['path']}: clip mlp projector, tensors={info['n_tensors']} "
        f"image_tokens={info['image_tokens']} bytes={info['bytes']}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

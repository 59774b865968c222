#!/usr/bin/env python3
"""Write a tiny, deterministic llama-architecture GGUF with random weights.

For Hearth's end-to-end tests: a model that llama.cpp loads and runs in
milliseconds, made on the fly instead of downloaded. Needs only the `gguf`
and `numpy` packages (see scripts/requirements-test.txt).

    python3 scripts/make_tiny_gguf.py OUT.gguf [--seed 0] [--embd 128]
        [--layers 2] [--ctx 512] [--no-template] [--template-file F]
        [--embedding]

The same arguments always give a byte-identical file (the weights come from
numpy.random.default_rng(seed); nothing else is random, and no timestamps or
paths are written into the file). The file is written next to OUT under a
temporary name and renamed into place, so OUT is never left half written.

Model (defaults):
  * general.architecture = "llama", general.file_type = 0 (all tensors F32)
  * n_embd 128, 2 blocks, 4 attention heads, 2 KV heads (GQA), head_dim 32,
    n_ff 256 (= 2 * n_embd), context 512, RMSNorm eps 1e-5, RoPE base 10000
  * weights ~ N(0, 0.02); RMSNorm weights are ones
  * rows of output.weight for control and byte tokens are zero, so those
    tokens always get logit 0 while the largest normal-token logit is
    positive: greedy decoding (temperature 0) never emits </s> or
    <|im_end|> and so always runs to num_predict (done_reason "length"),
    and never emits raw bytes, so its text is valid UTF-8. Sampling at a
    non-zero temperature can still pick them.

Tokenizer (`tokenizer.ggml.model = "llama"`, i.e. SentencePiece/SPM as
llama.cpp implements it; no merges key, which SPM does not use):
  * ids 0..4: <unk> <s> </s> <|im_start|> <|im_end|>
    (<unk> is type UNKNOWN, the rest CONTROL); unk=0, bos=1, eos=2.
    llama.cpp detects <|im_end|> by its text and treats it as end-of-turn.
  * ids 5..260: byte-fallback tokens <0x00>..<0xFF> (type BYTE)
  * then every character of a built-in English corpus, space written as
    U+2581 "▁" the way SPM does, then ~300 pieces learnt by a toy BPE over
    that corpus (score = -rank, so earlier merges win, as SPM's
    highest-score-first merging expects); characters score below all pieces.
  * add_bos_token = true, add_space_prefix = false
  * unless --no-template (or --embedding): a ChatML `tokenizer.chat_template`;
    --template-file F uses the text of F instead.

--embedding writes an embedding-style model for embedding tests: the same
llama architecture plus `llama.pooling_type = 1` (mean pooling) and no chat
template; general.name is "hearth-tiny-embed" instead of "hearth-tiny".

Tensors (numpy shapes; gguf-py reverses them into ggml's ne order, so
numpy (rows=out, cols=in) becomes ne = {in, out}, what llama.cpp expects):
  token_embd.weight (n_vocab, n_embd)      output_norm.weight (n_embd,)
  output.weight     (n_vocab, n_embd)
  blk.N.attn_norm.weight (n_embd,)         blk.N.ffn_norm.weight (n_embd,)
  blk.N.attn_q.weight (n_head*hd, n_embd)  blk.N.attn_output.weight (n_embd, n_head*hd)
  blk.N.attn_k.weight (n_kv*hd, n_embd)    blk.N.attn_v.weight (n_kv*hd, n_embd)
  blk.N.ffn_gate.weight (n_ff, n_embd)     blk.N.ffn_up.weight (n_ff, n_embd)
  blk.N.ffn_down.weight (n_embd, n_ff)
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from pathlib import Path

import numpy as np

try:
    import gguf
except ImportError:  # pragma: no cover - message for a missing dependency
    sys.exit("make_tiny_gguf.py needs the 'gguf' package: pip install -r scripts/requirements-test.txt")

N_HEAD = 4
N_HEAD_KV = 2
RMS_EPS = 1e-5
ROPE_BASE = 10000.0
WEIGHT_STD = 0.02
N_MERGES = 300
SPACE = "\u2581"  # SentencePiece's visible space

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

SPECIAL_TOKENS = [
    ("<unk>", gguf.TokenType.UNKNOWN),
    ("<s>", gguf.TokenType.CONTROL),
    ("</s>", gguf.TokenType.CONTROL),
    ("<|im_start|>", gguf.TokenType.CONTROL),
    ("<|im_end|>", gguf.TokenType.CONTROL),
]
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2

# A small English corpus written for this script. Its characters become the
# base vocabulary and the toy BPE learns its frequent pieces.
CORPUS = """\
The fire in the hearth was warm and bright. We sat by the fire and told
stories about the sea, the sky and the small town where we grew up.
Every morning the baker opened the door of the shop and the smell of fresh
bread filled the street. The children ran to the shop to buy bread and
sweet cakes, and the baker gave them a smile and a story.
A good model answers the question that was asked. It reads the question,
thinks about the answer, and then writes a short and clear reply.
Hello! How are you today? I am fine, thank you. What would you like to do?
Let us write a list: one, two, three, four, five, six, seven, eight, nine
and ten. The numbers 0 1 2 3 4 5 6 7 8 9 are the digits we use to count.
The quick brown fox jumps over the lazy dog. A wizard's job is to vex
chumps quickly in fog. Pack my box with five dozen liquor jugs!
When the sun goes down, the stars come out and the town is quiet. The
river runs past the old mill, and the water is cold and clear.
"Where are you going?" asked the girl. "To the market," said her brother;
"we need milk, eggs, bread and tea (and maybe some cake)."
Symbols: # $ % & * + - / < = > @ [ \\ ] ^ _ ` { | } ~ and the end.
Names: Ada, Ben, Cleo, Dev, Eve, Finn, Gus, Hal, Ivy, Jo, Kim, Lou, Max,
Ned, Oli, Pat, Quin, Rex, Sam, Tom, Uma, Val, Wes, Xia, Yuri and Zoe.
This is a test. This is only a test. The server should answer with text,
and the test should check that the answer is there and that it is done.
"""


def corpus_words() -> list[str]:
    """The corpus as SPM-style words: each word carries its leading '▁'."""
    return [SPACE + w for w in CORPUS.split()]


def toy_bpe(words: list[str], n_merges: int) -> list[str]:
    """Learn up to n_merges BPE pieces over words; returns them in merge order.

    Ties on pair frequency are broken by the pair's text, so the result
    depends on nothing but the corpus.
    """
    freqs = collections.Counter(words)
    # Each distinct word as a list of symbols, with its count.
    segs = [(list(word), count) for word, count in sorted(freqs.items())]
    pieces: list[str] = []
    seen: set[str] = set()
    while len(pieces) < n_merges:
        pairs: collections.Counter[tuple[str, str]] = collections.Counter()
        for syms, count in segs:
            for a, b in zip(syms, syms[1:]):
                pairs[(a, b)] += count
        if not pairs:
            break
        (a, b), _ = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        merged = a + b
        for syms, _count in segs:
            i = 0
            while i < len(syms) - 1:
                if syms[i] == a and syms[i + 1] == b:
                    syms[i : i + 2] = [merged]
                i += 1
        # Two merge paths can build the same text; a vocab needs unique strings.
        if merged not in seen:
            seen.add(merged)
            pieces.append(merged)
    return pieces


def build_vocab() -> tuple[list[str], list[float], list[int]]:
    tokens: list[str] = []
    scores: list[float] = []
    types: list[int] = []

    for text, ttype in SPECIAL_TOKENS:
        tokens.append(text)
        scores.append(0.0)
        types.append(int(ttype))
    for b in range(256):
        tokens.append(f"<0x{b:02X}>")  # llama.cpp looks these up in upper-case hex
        scores.append(0.0)
        types.append(int(gguf.TokenType.BYTE))

    words = corpus_words()
    chars = sorted({c for w in words for c in w})
    pieces = toy_bpe(words, N_MERGES)

    # SPM merges the adjacent pair whose concatenation has the highest score:
    # piece of rank r (1-based) scores -r; single characters score below them.
    for i, c in enumerate(chars):
        tokens.append(c)
        scores.append(float(-(len(pieces) + 1 + i)))
        types.append(int(gguf.TokenType.NORMAL))
    for rank, piece in enumerate(pieces, start=1):
        tokens.append(piece)
        scores.append(float(-rank))
        types.append(int(gguf.TokenType.NORMAL))

    if len(set(tokens)) != len(tokens):  # llama.cpp asserts on duplicates
        raise AssertionError("duplicate token strings in the vocabulary")
    return tokens, scores, types


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Write a tiny deterministic llama-architecture GGUF with random weights.",
    )
    p.add_argument("out", type=Path, help="output .gguf path")
    p.add_argument("--seed", type=int, default=0, help="RNG seed for the weights (default 0)")
    p.add_argument("--embd", type=int, default=128, help="embedding width, a multiple of 8 (default 128)")
    p.add_argument("--layers", type=int, default=2, help="number of transformer blocks (default 2)")
    p.add_argument("--ctx", type=int, default=512, help="llama.context_length (default 512)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--no-template", action="store_true", help="write no tokenizer.chat_template")
    g.add_argument("--template-file", type=Path, help="use this file's text as tokenizer.chat_template")
    p.add_argument(
        "--embedding",
        action="store_true",
        help="embedding-style model: llama.pooling_type = 1 (mean) and no chat template",
    )
    args = p.parse_args(argv)
    if args.embd <= 0 or args.embd % (2 * N_HEAD) != 0:
        p.error(f"--embd must be a positive multiple of {2 * N_HEAD} (head_dim = embd/{N_HEAD} must be even)")
    if not 1 <= args.layers <= 512:
        p.error("--layers must be between 1 and 512")
    if args.ctx <= 0:
        p.error("--ctx must be positive")
    if args.seed < 0:
        p.error("--seed must be >= 0")
    if args.embedding and (args.template_file is not None):
        p.error("--embedding writes no chat template; drop --template-file")
    return args


def write_model(args: argparse.Namespace) -> dict[str, object]:
    n_embd = args.embd
    n_layer = args.layers
    head_dim = n_embd // N_HEAD
    n_q = N_HEAD * head_dim
    n_kv = N_HEAD_KV * head_dim
    n_ff = 2 * n_embd

    tokens, scores, types = build_vocab()
    n_vocab = len(tokens)

    if args.embedding or args.no_template:
        template = None
    elif args.template_file is not None:
        template = args.template_file.read_text(encoding="utf-8")
    else:
        template = CHATML_TEMPLATE

    rng = np.random.default_rng(args.seed)
    std = np.float32(WEIGHT_STD)

    def rand(rows: int, cols: int) -> np.ndarray:
        # numpy shape (rows=out, cols=in); gguf-py stores ne = {cols, rows}.
        return rng.standard_normal((rows, cols), dtype=np.float32) * std

    def ones(n: int) -> np.ndarray:
        return np.ones((n,), dtype=np.float32)

    # Draw every tensor in one fixed order so the file depends only on the args.
    tensors: list[tuple[str, np.ndarray]] = [("token_embd.weight", rand(n_vocab, n_embd))]
    for i in range(n_layer):
        blk = f"blk.{i}"
        tensors += [
            (f"{blk}.attn_norm.weight", ones(n_embd)),
            (f"{blk}.attn_q.weight", rand(n_q, n_embd)),
            (f"{blk}.attn_k.weight", rand(n_kv, n_embd)),
            (f"{blk}.attn_v.weight", rand(n_kv, n_embd)),
            (f"{blk}.attn_output.weight", rand(n_embd, n_q)),
            (f"{blk}.ffn_norm.weight", ones(n_embd)),
            (f"{blk}.ffn_gate.weight", rand(n_ff, n_embd)),
            (f"{blk}.ffn_up.weight", rand(n_ff, n_embd)),
            (f"{blk}.ffn_down.weight", rand(n_embd, n_ff)),
        ]
    output = rand(n_vocab, n_embd)
    # Zero logits for control and byte tokens (see the module docstring).
    for tid, ttype in enumerate(types):
        if ttype != int(gguf.TokenType.NORMAL):
            output[tid, :] = 0.0
    tensors += [("output_norm.weight", ones(n_embd)), ("output.weight", output)]

    out: Path = args.out
    name = "hearth-tiny-embed" if args.embedding else "hearth-tiny"
    write_gguf(
        out,
        "llama",
        lambda w: _fill(
            w,
            args,
            name=name,
            n_embd=n_embd,
            n_layer=n_layer,
            n_ff=n_ff,
            head_dim=head_dim,
            n_vocab=n_vocab,
            tokens=tokens,
            scores=scores,
            types=types,
            template=template,
            tensors=tensors,
        ),
    )

    return {
        "path": str(out),
        "n_vocab": n_vocab,
        "n_embd": n_embd,
        "n_layer": n_layer,
        "n_tensors": len(tensors),
        "bytes": out.stat().st_size,
    }


def write_gguf(out: Path, arch: str, fill) -> None:
    """Writes a GGUF whose keys and tensors `fill(writer)` adds. It is written
    next to `out` under a temporary name and renamed into place, so `out` is
    never left half written. (Also used by make_tiny_mmproj.py.)"""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    w = gguf.GGUFWriter(tmp, arch=arch)
    try:
        fill(w)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        os.replace(tmp, out)
    except BaseException:
        w.close()
        tmp.unlink(missing_ok=True)  # never leave a half-written file behind
        raise


def _fill(
    w: "gguf.GGUFWriter",
    args: argparse.Namespace,
    *,
    name: str,
    n_embd: int,
    n_layer: int,
    n_ff: int,
    head_dim: int,
    n_vocab: int,
    tokens: list[str],
    scores: list[float],
    types: list[int],
    template: str | None,
    tensors: list[tuple[str, np.ndarray]],
) -> None:
    """Add every key/value pair and tensor to the writer, in a fixed order."""
    w.add_name(name)
    w.add_file_type(int(gguf.LlamaFileType.ALL_F32))  # 0
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_context_length(args.ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(ROPE_BASE)
    w.add_layer_norm_rms_eps(RMS_EPS)
    w.add_vocab_size(n_vocab)
    if args.embedding:
        w.add_pooling_type(gguf.PoolingType.MEAN)

    w.add_tokenizer_model("llama")
    # Explicit element types: llama.cpp rejects scores that are not
    # FLOAT32/INT32 and token types that are not INT32.
    w.add_key_value(gguf.Keys.Tokenizer.LIST, tokens, gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.STRING)
    w.add_key_value(gguf.Keys.Tokenizer.SCORES, scores, gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.FLOAT32)
    w.add_key_value(gguf.Keys.Tokenizer.TOKEN_TYPE, types, gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.INT32)
    w.add_unk_token_id(UNK_ID)
    w.add_bos_token_id(BOS_ID)
    w.add_eos_token_id(EOS_ID)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
    if template is not None:
        if not template:
            raise SystemExit("chat template is empty")  # gguf-py silently drops empty strings
        w.add_chat_template(template)

    for tname, data in tensors:
        w.add_tensor(tname, data)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = write_model(args)
    print(
        f"wrote {info['path']}: llama, n_vocab={info['n_vocab']} n_embd={info['n_embd']} "
        f"n_layer={info['n_layer']} tensors={info['n_tensors']} bytes={info['bytes']}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

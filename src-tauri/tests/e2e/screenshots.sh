#!/usr/bin/env bash
# Takes the README screenshots (docs/screenshots/window.png, window-app.png,
# tray-menu.png)
# of the real app in a headless session, with a StatusNotifierItem host
# (gtk-sni-tray-standalone) drawing the tray icon and its menu, and a tiny
# model loaded so the window and the menu show one.
# Run inside headless-session.sh; see `make desktop-screenshots`.
set -euo pipefail
app=$(realpath "$1"); hearth=$(realpath "$2"); py=$3; out=$4
root=$(cd "$(dirname "$0")/../../.." && pwd)
mkdir -p "$out"
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export HEARTH_DESKTOP_PORT=$port HEARTH_DESKTOP_BIN=$hearth HEARTH_HOME=$HEARTH_TEST_SESSION/hearth-home
export HEARTH_NUM_THREADS=1 HEARTH_DESKTOP_UPDATE_URL=http://127.0.0.1:9/none

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
gtk-sni-tray-standalone --top --end --watcher -s 32 -c '#2b2b2b' >/dev/null 2>&1 &
pids+=($!)
sleep 1
"$app" >/dev/null 2>&1 &
app_pid=$!
pids+=($app_pid)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

"$py" "$root/scripts/make_tiny_gguf.py" "$HEARTH_TEST_SESSION/tiny.gguf" >/dev/null
printf 'FROM %s\nPARAMETER num_thread 1\n' "$HEARTH_TEST_SESSION/tiny.gguf" > "$HEARTH_TEST_SESSION/Modelfile"
HEARTH_HOST=127.0.0.1:$port "$hearth" create tiny -f "$HEARTH_TEST_SESSION/Modelfile" >/dev/null 2>&1
HEARTH_HOST=127.0.0.1:$port "$hearth" run tiny "hi" --keepalive 10m >/dev/null 2>&1
sleep 3  # one status poll

# The window, cropped to its geometry (no window manager, no frame).
wid=$(xdotool search --sync --name '^Hearth$' | head -n 1)
eval "$(xdotool getwindowgeometry --shell "$wid")"
import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$out/window.png"
# Its App view: the "App" switch at the right of the status bar.
xdotool mousemove $((X + WIDTH - 54)) $((Y + 31)) click 1 mousemove $((X + 5)) $((Y + HEIGHT - 5))
sleep 1
import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$out/window-app.png"

# The tray menu, with the window hidden: right-click the icon (top right).
xdotool windowunmap "$wid"
xdotool mousemove 1262 16 click 3
sleep 1.5
import -window root -crop 310x300+970+0 +repage "$out/tray-menu.png"
xdotool key Escape

# Quit through the app (stops the server and the model's runner).
kill -TERM "$app_pid"
wait "$app_pid" 2>/dev/null || true
echo "screenshots in $out"

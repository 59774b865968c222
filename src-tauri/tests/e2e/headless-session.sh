#!/usr/bin/env bash
# Runs "$@" inside a private, throw-away desktop session: Xvfb on a free
# display, a private D-Bus session bus, gnome-keyring's Secret Service
# unlocked with a (non-empty) test password, and temporary HOME / XDG
# dirs, so the app's autostart entry, keyring and logs never touch the
# real user's. Everything started here is stopped by PID on exit.
set -euo pipefail

session=$(mktemp -d /tmp/hearth-desktop-session.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$session"
}
trap cleanup EXIT

export HOME=$session/home
export XDG_RUNTIME_DIR=$session/run
export XDG_CONFIG_HOME=$HOME/.config XDG_DATA_HOME=$HOME/.local/share XDG_CACHE_HOME=$HOME/.cache
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
# No accessibility bus (it would outlive the app) and no GLib autolaunch.
export NO_AT_BRIDGE=1

display=""
for d in $(seq 90 190); do
  if [ ! -e "/tmp/.X11-unix/X$d" ] && [ ! -e "/tmp/.X$d-lock" ]; then display=$d; break; fi
done
[ -n "$display" ] || { echo "no free X display" >&2; exit 1; }
Xvfb ":$display" -screen 0 1280x860x24 -nolisten tcp >"$session/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.05; done
export DISPLAY=":$display"

dbus-daemon --session --nofork --nopidfile --address="unix:path=$XDG_RUNTIME_DIR/bus" >"$session/dbus.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$XDG_RUNTIME_DIR/bus" ] && break; sleep 0.05; done
export DBUS_SESSION_BUS_ADDRESS="unix:path=$XDG_RUNTIME_DIR/bus"

# An empty password leaves gnome-keyring without a default collection.
printf 'hearth-test-password' | gnome-keyring-daemon --foreground --components=secrets --unlock \
  >"$session/keyring.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null | grep -q true && break
  sleep 0.05
done

export HEARTH_TEST_SESSION=$session
"$@"

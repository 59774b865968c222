#!/usr/bin/env bash
# Checks a built .deb: its control data and contents, then a real
# `dpkg -i` and `dpkg -r` into a private root (--root, with its own dpkg
# database), so the test never installs into this machine's /usr.
set -euo pipefail
deb=$(realpath "$1")
root=$(mktemp -d /tmp/hearth-deb-root.XXXXXX)
trap 'rm -rf "$root"' EXIT

info=$(dpkg-deb -I "$deb")
echo "$info" | grep -q '^ Package: hearth$' || { echo "wrong package name"; echo "$info"; exit 1; }
echo "$info" | grep -q '^ Depends:.*libwebkit2gtk-4.1-0' || { echo "no WebKitGTK dependency"; exit 1; }
echo "$info" | grep -q '^ Depends:.*libayatana-appindicator3-1' || { echo "no appindicator dependency"; exit 1; }

contents=$(dpkg-deb -c "$deb")
for f in usr/bin/hearth-desktop usr/bin/hearth usr/share/applications/Hearth.desktop \
         usr/share/icons/hicolor/32x32/apps/hearth-desktop.png \
         usr/share/icons/hicolor/128x128/apps/hearth-desktop.png \
         usr/share/icons/hicolor/512x512/apps/hearth-desktop.png; do
  echo "$contents" | grep -Eq " (\./)?$f\$" || { echo "missing $f in the .deb"; echo "$contents"; exit 1; }
done

mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
# Dependencies are checked above; the private database does not know the
# host's libraries, hence --force-depends.
dpkg --root="$root" --force-depends --force-script-chrootless -i "$deb" >/dev/null 2>&1
dpkg --root="$root" -s hearth | grep -q '^Status: install ok installed$'
grep -q '^Exec=hearth-desktop' "$root/usr/share/applications/Hearth.desktop"
grep -q '^Icon=hearth-desktop' "$root/usr/share/applications/Hearth.desktop"
"$root/usr/bin/hearth" --help | grep -q 'serve'
# Every library the app needs resolves on this (Debian) system.
! ldd "$root/usr/bin/hearth-desktop" | grep -q 'not found'
dpkg --root="$root" --force-script-chrootless -r hearth >/dev/null
[ ! -e "$root/usr/bin/hearth-desktop" ] && [ ! -e "$root/usr/bin/hearth" ]
echo "deb OK: $deb"

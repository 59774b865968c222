#!/usr/bin/env bash
# Writes latest.json (the desktop updater's manifest) next to a signed
# bundle: `scripts/desktop-manifest.sh <bundle dir> <base URL>`. The
# signature is the .sig file `tauri build` wrote with the release key
# (createUpdaterArtifacts); the version comes from tauri.conf.json.
set -euo pipefail
dir=$1
base=${2%/}/
version=$(python3 -c 'import json; print(json.load(open("tauri.conf.json"))["version"])')
deb=$(ls "$dir"/*_"$version"_*.deb | head -n 1)
[ -f "$deb.sig" ] || { echo "no signature $deb.sig (createUpdaterArtifacts + signing key)" >&2; exit 1; }
python3 - "$deb" "$base" "$version" > "$dir/latest.json" <<'PY'
import datetime, json, os, sys
deb, base, version = sys.argv[1:]
platform = {"signature": open(deb + ".sig").read().strip(), "url": base + os.path.basename(deb)}
print(json.dumps({
    "version": version,
    "notes": f"Hearth {version}",
    "pub_date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "platforms": {"linux-x86_64-deb": platform, "linux-x86_64": platform},
}, indent=2))
PY
echo "wrote $dir/latest.json for $(basename "$deb")"

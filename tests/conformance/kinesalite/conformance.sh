#!/usr/bin/env bash
# `make conformance`: run kinesalite's suite (recorded against real AWS) against a fresh Riffle
# emulator and fail if fewer than MIN_PERCENT (default 95) of its tests pass.
#
#   tests/conformance/kinesalite/conformance.sh RIFFLE_BINARY [FILES...]
#
# Starts `RIFFLE_BINARY emulator` on a free 127.0.0.1 port with kinesalite's 500 ms status delay
# (the tests wait on CREATING, UPDATING and DELETING as AWS shows them), runs run.sh (all files but
# connection.js unless FILES are named; name test/helpers.js first), stops the emulator, prints
# "N of M passed (P %)". The report JSON goes to ${KSL_OUT:-target/kinesalite-suite.json}.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
riffle=$1; shift
out=${KSL_OUT:-target/kinesalite-suite.json}
case $out in /*) ;; *) out=$PWD/$out ;; esac
min=${MIN_PERCENT:-95}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
"$riffle" emulator --port "$port" --status-delay-ms 500 >"$log" 2>&1 &
emu=$!
trap 'kill "$emu" 2>/dev/null || true; wait "$emu" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  grep -q ready "$log" && break
  kill -0 "$emu" 2>/dev/null || { cat "$log"; echo "emulator exited"; exit 1; }
  sleep 0.1
done
"$here/run.sh" 127.0.0.1 "$port" "$out" "$@"
python3 - "$out" "$min" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))["stats"]
passed, total = st["passes"], st["passes"] + st["failures"]
pct = 100.0 * passed / total if total else 0.0
print(f"kinesalite conformance: {passed} of {total} passed ({pct:.1f} %), need {sys.argv[2]} %")
sys.exit(0 if pct >= float(sys.argv[2]) else 1)
PY

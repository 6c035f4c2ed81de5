#!/usr/bin/env bash
# kinesalite's own test suite (mocha), written by its author against real AWS Kinesis in 2013–2020,
# run against any Kinesis endpoint. The tests are mhart/kinesalite's (MIT, LICENSE-kinesalite),
# commit c76689d, unchanged; this script only points their helper at HOST:PORT.
#
#   tests/conformance/kinesalite/run.sh HOST PORT [OUT_JSON] [FILES...]
#
# `make conformance` builds riffle, starts an emulator on a free port and runs this (conformance.sh).
#
# FILES defaults to every test file but connection.js (kinesalite's own server start-up, SigV4
# checks, CORS and CBOR framing); name it to run it too. Needs node and npm (installs mocha 6,
# should 13, aws4 and kinesalite's own helper dependencies into ${KSL_WORK:-/tmp/kinesalite-suite}).
# Prints failures grouped by operation, then "N passed, M failed" last. Exit 0 whatever failed.
#
# The recording predates some AWS API changes (StreamARN parameters, November 2022; StreamSummaries
# in ListStreams; ConsumerCount and StreamModeDetails): where today's AWS differs, follow today's
# AWS and say so, per test, in docs/emulator.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
host=$1; port=$2; out=${3:-/tmp/kinesalite-suite.json}; shift 2; [ $# -gt 0 ] && shift
case $out in /*) ;; *) out=$PWD/$out ;; esac  # the suite runs from kinesalite's directory
work=${KSL_WORK:-/tmp/kinesalite-suite}
pkg=$work/node_modules/kinesalite
if [ ! -d "$work/node_modules/mocha" ] || [ ! -d "$pkg" ]; then
  rm -rf "$work"; mkdir -p "$work"
  (cd "$work" && npm init -y >/dev/null && npm install --silent kinesalite@3.3.3 mocha@6 should@13 aws4@1 >/dev/null 2>&1)
fi
rm -rf "$pkg/test"; cp -r "$here/test" "$pkg/test"
python3 - "$pkg/test/helpers.js" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
s = s.replace("kinesalite = require('..')", "kinesalite = function() { return { listen: function(p, cb) { cb() }, close: function(cb) { cb() } } }")
s = s.replace("var port = 10000 + Math.round(Math.random() * 10000),", "var port = +process.env.TARGET_PORT,")
s = s.replace("{host: '127.0.0.1', port: port, method: 'POST'}", "{host: process.env.TARGET_HOST, port: port, method: 'POST'}")
open(p, 'w').write(s)
PY
cd "$pkg"
if [ $# -gt 0 ]; then files=("$@"); else files=($(ls test/*.js | grep -v -e helpers.js -e connection.js)); files=(test/helpers.js "${files[@]}"); fi
TARGET_HOST=$host TARGET_PORT=$port NODE_PATH="$work/node_modules" timeout 900 "$work/node_modules/.bin/mocha" \
  --require should --reporter json -t 10s "${files[@]}" > "$out" 2>"$out.err" || true
python3 - "$out" <<'PY'
import json, sys, collections
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("suite produced no JSON:", e); print("0 passed, 1 failed"); sys.exit(0)
by = collections.Counter(t["fullTitle"].split(" ")[0] for t in d.get("failures", []))
if by:
    print("failures by operation:", ", ".join(f"{k} {v}" for k, v in by.most_common()))
st = d["stats"]
print(f"{st['passes']} passed, {st['failures']} failed, {st.get('pending',0)} skipped")
PY

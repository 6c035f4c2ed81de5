#!/usr/bin/env bash
# make bench: Riffle's Kinesis emulator side by side with kinesalite and ferrokinesis, measured
# in the same run on this machine with the same load generator (crates/riffle-bench, the
# official AWS SDK for Rust over plain HTTP). Results go between the markers in
# docs/benchmarks.md; the raw JSON lines are kept under target/bench/.
#
# Every emulator listens on 127.0.0.1 only and all traffic stays on the loopback interface.
#
# Knobs (environment):
#   RECORDS             records per write workload for Riffle and ferrokinesis (default 300000)
#   KINESALITE_RECORDS  records per write workload for kinesalite, which is far slower (50000)
#   LATENCY_RECORDS     PutRecord calls in the latency workload, at 200/s (3000 = 15 s)
#   STARTUP_RUNS        fresh starts per emulator for the start-up median (7)
#   REPEATS             throughput repetitions per emulator, each on a fresh emulator (3)
#   EMULATORS           which emulators to run (default "riffle kinesalite ferrokinesis")
#   KINESALITE_VERSION, FERROKINESIS_VERSION  peer versions (3.3.3, 0.7.0)
#   BENCH_PEERS         where installed peers are cached (target/bench-peers)
#   BENCH_DOC           the doc to update (docs/benchmarks.md)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RECORDS="${RECORDS:-300000}"
KINESALITE_RECORDS="${KINESALITE_RECORDS:-50000}"
LATENCY_RECORDS="${LATENCY_RECORDS:-3000}"
STARTUP_RUNS="${STARTUP_RUNS:-7}"
REPEATS="${REPEATS:-3}"
EMULATORS="${EMULATORS:-riffle kinesalite ferrokinesis}"
KINESALITE_VERSION="${KINESALITE_VERSION:-3.3.3}"
FERROKINESIS_VERSION="${FERROKINESIS_VERSION:-0.7.0}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BENCH_PEERS="${BENCH_PEERS:-$TARGET_DIR/bench-peers}"
BENCH_DOC="${BENCH_DOC:-$ROOT/docs/benchmarks.md}"

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

for tool in cargo node npm jq; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required but not on PATH"
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/riffle-bench.XXXXXX")"
EMULATOR_PID=""
cleanup() {
  if [[ -n "$EMULATOR_PID" ]] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
    kill "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Peers: installed once into a temporary folder, then cached under target/bench-peers/ ---

KINESALITE_DIR="$BENCH_PEERS/kinesalite-$KINESALITE_VERSION"
FERROKINESIS_DIR="$BENCH_PEERS/ferrokinesis-$FERROKINESIS_VERSION"
KINESALITE_CLI="$KINESALITE_DIR/node_modules/kinesalite/cli.js"
FERROKINESIS_BIN="$FERROKINESIS_DIR/bin/ferrokinesis"

install_kinesalite() {
  [[ -f "$KINESALITE_CLI" ]] && return 0
  log "installing kinesalite@$KINESALITE_VERSION from the npm registry"
  local tmp
  tmp="$(mktemp -d "$WORK/kinesalite.XXXXXX")"
  if ! npm install --prefix "$tmp" --no-audit --no-fund --loglevel=error \
      "kinesalite@$KINESALITE_VERSION" >"$WORK/kinesalite-install.log" 2>&1; then
    cat "$WORK/kinesalite-install.log" >&2
    die "could not install kinesalite@$KINESALITE_VERSION with npm (log above)"
  fi
  [[ -f "$tmp/node_modules/kinesalite/cli.js" ]] \
    || die "kinesalite installed but $tmp/node_modules/kinesalite/cli.js is missing"
  mkdir -p "$BENCH_PEERS"
  rm -rf "$KINESALITE_DIR"
  mv "$tmp" "$KINESALITE_DIR"
}

install_ferrokinesis() {
  [[ -x "$FERROKINESIS_BIN" ]] && return 0
  log "installing ferrokinesis $FERROKINESIS_VERSION from crates.io (a release build: minutes)"
  local tmp
  tmp="$(mktemp -d "$WORK/ferrokinesis.XXXXXX")"
  # --locked uses the versions ferrokinesis was released with; retry without if that fails.
  if ! cargo install ferrokinesis --version "$FERROKINESIS_VERSION" --locked --root "$tmp" \
      >"$WORK/ferrokinesis-install.log" 2>&1 \
    && ! cargo install ferrokinesis --version "$FERROKINESIS_VERSION" --root "$tmp" \
      >>"$WORK/ferrokinesis-install.log" 2>&1; then
    tail -n 40 "$WORK/ferrokinesis-install.log" >&2
    die "could not install ferrokinesis $FERROKINESIS_VERSION with cargo install (log above)"
  fi
  [[ -x "$tmp/bin/ferrokinesis" ]] || die "cargo install finished but no ferrokinesis binary"
  mkdir -p "$BENCH_PEERS"
  rm -rf "$FERROKINESIS_DIR"
  mv "$tmp" "$FERROKINESIS_DIR"
}

for emulator in $EMULATORS; do
  case "$emulator" in
    riffle) ;;
    kinesalite) install_kinesalite ;;
    ferrokinesis) install_ferrokinesis ;;
    *) die "unknown emulator '$emulator' in EMULATORS" ;;
  esac
done

# --- Riffle and the load generator, in release mode ---

log "building riffle and riffle-bench (release)"
cargo build --release --quiet -p riffle -p riffle-bench
RIFFLE_BIN="$TARGET_DIR/release/riffle"
BENCH_BIN="$TARGET_DIR/release/riffle-bench"

# The command that starts each emulator, into the array CMD; {port} stands for the port. Every
# peer's stream status delays are switched off so that CreateStream is not what gets measured.
set_command() {
  case "$1" in
    riffle) CMD=("$RIFFLE_BIN" emulator --port '{port}' --bind 127.0.0.1 --status-delay-ms 0) ;;
    kinesalite)
      CMD=(node "$KINESALITE_CLI" --port '{port}' --createStreamMs 0 --deleteStreamMs 0
        --updateStreamMs 0 --shardLimit 100)
      ;;
    ferrokinesis)
      CMD=("$FERROKINESIS_BIN" --port '{port}' --create-stream-ms 0 --delete-stream-ms 0
        --update-stream-ms 0 --shard-limit 100)
      ;;
  esac
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"

# Runs one riffle-bench workload and appends its JSON line, tagged, to the results.
record() {
  local emulator="$1" case="$2"
  shift 2
  local line
  line="$("$BENCH_BIN" "$@")" || die "$emulator: workload $case failed"
  jq -c --arg e "$emulator" --arg c "$case" '. + {emulator: $e, case: $c}' <<<"$line" \
    | tee -a "$RESULTS" >&2
}

# Starts an emulator on a free port and waits until it answers; sets ENDPOINT and EMULATOR_PID.
start_emulator() {
  local emulator="$1" port
  port="$(free_port)"
  ENDPOINT="http://127.0.0.1:$port"
  set_command "$emulator"
  local argv=("${CMD[@]//\{port\}/$port}")
  log "$emulator: starting ${argv[*]}"
  "${argv[@]}" >>"$WORK/$emulator.log" 2>&1 &
  EMULATOR_PID=$!
  if ! "$BENCH_BIN" wait --endpoint "$ENDPOINT" --timeout-secs 60 >/dev/null; then
    tail -n 20 "$WORK/$emulator.log" >&2
    die "$emulator did not come up on $ENDPOINT (its log above)"
  fi
}

stop_emulator() {
  kill "$EMULATOR_PID" 2>/dev/null || true
  wait "$EMULATOR_PID" 2>/dev/null || true
  EMULATOR_PID=""
}

START_TIME=$SECONDS
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

# Throughput: each repetition runs every emulator in turn, each freshly started, so that
# whatever else the machine is doing meanwhile hits all of them alike; the summary takes the
# median of the repetitions.
for rep in $(seq 1 "$REPEATS"); do
  for emulator in $EMULATORS; do
    records="$RECORDS"
    [[ "$emulator" == kinesalite ]] && records="$KINESALITE_RECORDS"
    start_emulator "$emulator"
    for size in 100 1024; do
      log "$emulator #$rep: PutRecords, $records records of $size B"
      record "$emulator" "put-$size" put --endpoint "$ENDPOINT" --server-pid "$EMULATOR_PID" \
        --stream "bench-$size" --create --shards 4 --producers 4 --batch 500 \
        --record-size "$size" --records "$records"
      ok="$(tail -n 1 "$RESULTS" | jq -r .records_ok)"
      log "$emulator #$rep: GetRecords drain of bench-$size"
      record "$emulator" "drain-$size" drain --endpoint "$ENDPOINT" \
        --server-pid "$EMULATOR_PID" --stream "bench-$size" --readers 4 --limit 10000 \
        --expect "$ok"
    done
    stop_emulator
  done
done

for emulator in $EMULATORS; do
  start_emulator "$emulator"
  log "$emulator: put→read latency, $LATENCY_RECORDS records at 200/s"
  record "$emulator" latency latency --endpoint "$ENDPOINT" --server-pid "$EMULATOR_PID" \
    --stream bench-latency --shards 1 --rate 200 --records "$LATENCY_RECORDS"
  stop_emulator

  log "$emulator: start-up time ($STARTUP_RUNS starts) and idle memory"
  set_command "$emulator"
  record "$emulator" startup startup --runs "$STARTUP_RUNS" -- "${CMD[@]}"
done
ELAPSED=$((SECONDS - START_TIME))

mkdir -p "$TARGET_DIR/bench"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
cp "$RESULTS" "$TARGET_DIR/bench/results-$STAMP.jsonl"
log "raw results: $TARGET_DIR/bench/results-$STAMP.jsonl"

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo none)"
if [[ -n "$(git status --porcelain -- crates ':!crates/riffle-bench' Cargo.toml Cargo.lock \
    2>/dev/null)" ]]; then
  commit="$commit plus uncommitted changes"
fi
"$BENCH_BIN" report --results "$RESULTS" --doc "$BENCH_DOC" \
  --context "Date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --context "Machine=$(nproc) cores ($cpu), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr)" \
  --context "Riffle=commit $commit, release build" \
  --context "Peers=kinesalite $KINESALITE_VERSION on Node $(node --version), ferrokinesis $FERROKINESIS_VERSION (cargo install, release)" \
  --context "Amount=$RECORDS records per write workload (kinesalite: $KINESALITE_RECORDS), median of $REPEATS runs each on a fresh emulator; latency: $LATENCY_RECORDS PutRecord calls at 200/s; start-up: median of $STARTUP_RUNS starts" \
  --context "Workloads took=${ELAPSED} s; load average before them: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shares the two cores)" >/dev/null
log "updated $BENCH_DOC"

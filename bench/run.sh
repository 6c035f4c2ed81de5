#!/usr/bin/env bash
# make bench: six sections, each measured in the same run on this machine with the same load
# generator (crates/riffle-bench, the official AWS SDK for Rust over plain HTTP):
#   kinesis  Riffle's Kinesis emulator side by side with kinesalite and ferrokinesis;
#   sqs      Riffle's SQS emulator side by side with moto_server;
#   s3       Riffle's S3 side by side with moto_server's: PutObject then GetObject;
#   esm      Riffle's Kinesis event source mapping engine end to end (emulator → mapping →
#            in-process handler), against the issue's absolute targets (no peer);
#   esm-sqs  Riffle's SQS event source mapping end to end (SendMessageBatch → mapping →
#            in-process handler), standard and FIFO queues, against the issue's target;
#   lambda   the Runtime API host (riffle-lambda) running a real lambda_runtime binary
#            (tests/probe): warm invocation round trips and cold starts (no peer).
# Results go between each section's markers in docs/benchmarks.md; the raw JSON lines are kept
# under target/bench/.
#
# Every emulator listens on 127.0.0.1 only and all traffic stays on the loopback interface.
#
# Knobs (environment):
#   SECTIONS            which sections to run (default "kinesis sqs s3 esm esm-sqs lambda"); the doc
#                       keeps the last results of the others
#   RECORDS             records per write workload for Riffle and ferrokinesis (default 300000)
#   KINESALITE_RECORDS  records per write workload for kinesalite, which is far slower (50000)
#   LATENCY_RECORDS     PutRecord calls in the latency workload, at 200/s (3000 = 15 s)
#   STARTUP_RUNS        fresh starts per emulator for the start-up median (7)
#   REPEATS             throughput repetitions per emulator, each on a fresh emulator (3)
#   EMULATORS           which emulators to run (default "riffle kinesalite ferrokinesis")
#   KINESALITE_VERSION, FERROKINESIS_VERSION  peer versions (3.3.3, 0.7.0)
#   SQS_MESSAGES        messages per SQS workload for Riffle (default 50000)
#   MOTO_MESSAGES       messages per SQS workload for moto, and Riffle's matched run (500)
#   MOTO_VERSION        moto version, installed from PyPI into a virtualenv (5.2.5)
#   S3_OBJECTS          64 KiB objects per S3 workload, both emulators (2000); and a tenth as
#                       many 1 MiB objects
#   ESM_RECORDS         records per end-to-end engine throughput run (300000)
#   ESM_IDLE_POLL_MS    the mapping's idle poll interval for the throughput runs (200)
#   ESM_LATENCY_POLLS   idle poll intervals (ms) of the latency runs ("200 50 10")
#   ESM_LATENCY_RECORDS PutRecord calls per latency run, at 200/s (2000 = 10 s); the same
#                       runs once more through an enhanced fan-out consumer (SubscribeToShard)
#   ESM_SCALE_SHARDS    shards×PF points of the scaling series over shards ("1x1 4x1 16x1 64x1")
#   ESM_SCALE_PF        points of the series over ParallelizationFactor ("1x1 1x4 4x4 8x8")
#   ESM_SQS_MESSAGES    messages per standard-queue SQS mapping run, BatchSize 10 (200000)
#   ESM_SQS_WINDOW_MESSAGES  messages per run with BatchSize 100 and a 1 s window (100000)
#   ESM_SQS_FIFO_MESSAGES    messages per FIFO-queue SQS mapping run (50000)
#   ESM_SQS_GROUPS      message groups of the FIFO runs (1000)
#   LAMBDA_INVOCATIONS  warm invocations measured per Runtime API host run (5000)
#   LAMBDA_COLD_STARTS  cold starts measured per Runtime API host run (20)
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
SECTIONS="${SECTIONS:-kinesis sqs s3 esm esm-sqs lambda}"
S3_OBJECTS="${S3_OBJECTS:-2000}"
LAMBDA_INVOCATIONS="${LAMBDA_INVOCATIONS:-5000}"
LAMBDA_COLD_STARTS="${LAMBDA_COLD_STARTS:-20}"
SQS_MESSAGES="${SQS_MESSAGES:-50000}"
MOTO_MESSAGES="${MOTO_MESSAGES:-500}"
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
ESM_RECORDS="${ESM_RECORDS:-300000}"
ESM_IDLE_POLL_MS="${ESM_IDLE_POLL_MS:-200}"
ESM_LATENCY_POLLS="${ESM_LATENCY_POLLS:-200 50 10}"
ESM_LATENCY_RECORDS="${ESM_LATENCY_RECORDS:-2000}"
ESM_SCALE_SHARDS="${ESM_SCALE_SHARDS:-1x1 4x1 16x1 64x1}"
ESM_SCALE_PF="${ESM_SCALE_PF:-1x1 1x4 4x4 8x8}"
ESM_SQS_MESSAGES="${ESM_SQS_MESSAGES:-200000}"
ESM_SQS_WINDOW_MESSAGES="${ESM_SQS_WINDOW_MESSAGES:-100000}"
ESM_SQS_FIFO_MESSAGES="${ESM_SQS_FIFO_MESSAGES:-50000}"
ESM_SQS_GROUPS="${ESM_SQS_GROUPS:-1000}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BENCH_PEERS="${BENCH_PEERS:-$TARGET_DIR/bench-peers}"
BENCH_DOC="${BENCH_DOC:-$ROOT/docs/benchmarks.md}"

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

section_on() { [[ " $SECTIONS " == *" $1 "* ]]; }
for section in $SECTIONS; do
  case "$section" in
    kinesis | sqs | s3 | esm | esm-sqs | lambda) ;;
    *) die "unknown section '$section' in SECTIONS" ;;
  esac
done

for tool in cargo jq python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required but not on PATH"
done
if section_on kinesis; then
  for tool in node npm; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required but not on PATH"
  done
fi

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
# (moto's virtualenv is built in place, since a virtualenv cannot be moved, and counts as
# installed only once its marker file exists.)

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

MOTO_VENV="$BENCH_PEERS/moto-$MOTO_VERSION-venv"
MOTO_SERVER="$MOTO_VENV/bin/moto_server"

install_moto() {
  [[ -f "$MOTO_VENV/.installed" && -x "$MOTO_SERVER" ]] && return 0
  log "installing moto[server]==$MOTO_VERSION from PyPI into $MOTO_VENV"
  rm -rf "$MOTO_VENV"
  mkdir -p "$BENCH_PEERS"
  if ! python3 -m venv "$MOTO_VENV" >"$WORK/moto-install.log" 2>&1 \
    || ! "$MOTO_VENV/bin/pip" install --quiet --disable-pip-version-check \
      "moto[server]==$MOTO_VERSION" >>"$WORK/moto-install.log" 2>&1; then
    tail -n 40 "$WORK/moto-install.log" >&2
    rm -rf "$MOTO_VENV"
    die "could not install moto[server]==$MOTO_VERSION with pip (log above)"
  fi
  [[ -x "$MOTO_SERVER" ]] || die "pip finished but $MOTO_SERVER is missing"
  touch "$MOTO_VENV/.installed"
}

if section_on kinesis; then
  for emulator in $EMULATORS; do
    case "$emulator" in
      riffle) ;;
      kinesalite) install_kinesalite ;;
      ferrokinesis) install_ferrokinesis ;;
      *) die "unknown emulator '$emulator' in EMULATORS" ;;
    esac
  done
fi
if section_on sqs || section_on s3; then
  install_moto
fi

# --- Riffle and the load generator, in release mode ---

log "building riffle and riffle-bench (release)"
cargo build --release --quiet -p riffle -p riffle-bench
if section_on lambda; then
  cargo build --release --quiet -p riffle-tests --bin lambda-probe
fi
# What was built, read now: other commits may land while the workloads run.
commit="$(git rev-parse --short HEAD 2>/dev/null || echo none)"
if [[ -n "$(git status --porcelain -- crates ':!crates/riffle-bench' Cargo.toml Cargo.lock \
    2>/dev/null)" ]]; then
  commit="$commit plus uncommitted changes"
fi
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
    moto) CMD=("$MOTO_SERVER" -H 127.0.0.1 -p '{port}') ;;
  esac
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
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

# Starts an emulator on a free port and waits until it answers the service given as $2 (kinesis
# by default, or sqs); sets ENDPOINT and EMULATOR_PID.
start_emulator() {
  local emulator="$1" service="${2:-kinesis}" port
  port="$(free_port)"
  ENDPOINT="http://127.0.0.1:$port"
  set_command "$emulator"
  local argv=("${CMD[@]//\{port\}/$port}")
  log "$emulator: starting ${argv[*]}"
  "${argv[@]}" >>"$WORK/$emulator.log" 2>&1 &
  EMULATOR_PID=$!
  if ! "$BENCH_BIN" wait --endpoint "$ENDPOINT" --service "$service" --timeout-secs 60 \
      >/dev/null; then
    tail -n 20 "$WORK/$emulator.log" >&2
    die "$emulator did not come up on $ENDPOINT (its log above)"
  fi
}

stop_emulator() {
  kill "$EMULATOR_PID" 2>/dev/null || true
  wait "$EMULATOR_PID" 2>/dev/null || true
  EMULATOR_PID=""
}

load_average() { cut -d' ' -f1-3 /proc/loadavg; }
CONTEXT=()
# Notes how long a section's workloads took and the load around them, for its results.
section_took() {
  CONTEXT+=("$1/Workloads took=$((SECONDS - $2)) s; load average before them: $3, after: $(load_average) (other work on the machine shares the two cores)")
}

# --- Kinesis: Riffle, kinesalite, ferrokinesis ---

run_kinesis() {
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
}

# --- SQS: Riffle and moto_server ---

# One SQS round on a fresh emulator: send then drain N messages, as cases with suffix $4.
sqs_round() {
  local emulator="$1" rep="$2" messages="$3" suffix="$4" queue="bench-$RANDOM$RANDOM"
  log "$emulator #$rep: SendMessageBatch, $messages messages of 100 B"
  record "$emulator" "sqs-send$suffix" sqs-send --endpoint "$ENDPOINT" \
    --server-pid "$EMULATOR_PID" --queue "$queue" --create --producers 4 --batch 10 \
    --message-size 100 --messages "$messages"
  local ok
  ok="$(tail -n 1 "$RESULTS" | jq -r .messages_ok)"
  log "$emulator #$rep: ReceiveMessage + DeleteMessageBatch drain of $ok messages"
  record "$emulator" "sqs-drain$suffix" sqs-drain --endpoint "$ENDPOINT" \
    --server-pid "$EMULATOR_PID" --queue "$queue" --consumers 4 --max-messages 10 \
    --expect "$ok"
}

run_sqs() {
  # Each repetition runs both emulators in turn, each freshly started. Riffle also runs moto's
  # amount (the -matched cases), since both slow down as a queue fills.
  for rep in $(seq 1 "$REPEATS"); do
    start_emulator riffle sqs
    sqs_round riffle "$rep" "$MOTO_MESSAGES" -matched
    stop_emulator
    start_emulator riffle sqs
    sqs_round riffle "$rep" "$SQS_MESSAGES" ""
    stop_emulator
    start_emulator moto sqs
    sqs_round moto "$rep" "$MOTO_MESSAGES" ""
    stop_emulator
  done
}

# --- S3: Riffle and moto_server ---

# One S3 round on a fresh emulator: put then get N objects of one size, as cases s3-*-$4.
s3_round() {
  local emulator="$1" rep="$2" objects="$3" label="$4" size="$5" bucket="bench-$RANDOM$RANDOM"
  log "$emulator #$rep: PutObject, $objects objects of $size B"
  record "$emulator" "s3-put-$label" s3-put --endpoint "$ENDPOINT" \
    --server-pid "$EMULATOR_PID" --bucket "$bucket" --create --workers 4 \
    --object-size "$size" --objects "$objects"
  log "$emulator #$rep: GetObject of the $objects objects"
  record "$emulator" "s3-get-$label" s3-get --endpoint "$ENDPOINT" \
    --server-pid "$EMULATOR_PID" --bucket "$bucket" --workers 4 \
    --object-size "$size" --objects "$objects"
}

run_s3() {
  # Each repetition runs both emulators in turn, each freshly started, with the same amounts.
  for rep in $(seq 1 "$REPEATS"); do
    for emulator in riffle moto; do
      start_emulator "$emulator" s3
      s3_round "$emulator" "$rep" "$S3_OBJECTS" 64k 65536
      s3_round "$emulator" "$rep" "$((S3_OBJECTS / 10))" 1m 1048576
      stop_emulator
    done
  done
}

# --- ESM: the mapping engine end to end, in riffle-bench, against the riffle binary ---

run_esm() {
  for rep in $(seq 1 "$REPEATS"); do
    for pf in 1 10; do
      for mode in live backlog; do
        local flag=()
        [[ "$mode" == backlog ]] && flag=(--preload)
        start_emulator riffle
        log "engine #$rep: $mode, ParallelizationFactor $pf, $ESM_RECORDS records"
        record riffle "esm-$mode-pf$pf" esm throughput --endpoint "$ENDPOINT" \
          --server-pid "$EMULATOR_PID" --shards 4 --parallelization-factor "$pf" \
          --batch-size 1000 --producers 4 --put-batch 500 --record-size 100 \
          --records "$ESM_RECORDS" --idle-poll-ms "$ESM_IDLE_POLL_MS" "${flag[@]}"
        stop_emulator
      done
    done
  done
  for idle in $ESM_LATENCY_POLLS; do
    start_emulator riffle
    log "engine: put→invoke latency, idle poll $idle ms, $ESM_LATENCY_RECORDS records at 200/s"
    record riffle "esm-latency-$idle" esm latency --endpoint "$ENDPOINT" \
      --server-pid "$EMULATOR_PID" --shards 1 --rate 200 --records "$ESM_LATENCY_RECORDS" \
      --idle-poll-ms "$idle"
    stop_emulator
  done
  start_emulator riffle
  log "engine: put→invoke latency through an enhanced fan-out consumer, $ESM_LATENCY_RECORDS records at 200/s"
  record riffle "esm-latency-consumer" esm latency --endpoint "$ENDPOINT" \
    --server-pid "$EMULATOR_PID" --shards 1 --rate 200 --records "$ESM_LATENCY_RECORDS" \
    --idle-poll-ms 200 --consumer bench-consumer
  stop_emulator
  local series point
  for series in shards pf; do
    local points="$ESM_SCALE_SHARDS"
    [[ "$series" == pf ]] && points="$ESM_SCALE_PF"
    for point in $points; do
      start_emulator riffle
      log "engine: scaling ($series series), ${point%x*} shards × PF ${point#*x}, 10 ms handler"
      record riffle "esm-scale-$series" esm scale --endpoint "$ENDPOINT" \
        --server-pid "$EMULATOR_PID" --shards "${point%x*}" \
        --parallelization-factor "${point#*x}" --batch-size 10 --sleep-ms 10 \
        --idle-poll-ms "$ESM_IDLE_POLL_MS"
      stop_emulator
    done
  done
}

# --- ESM, SQS: the SQS mapping end to end, in riffle-bench, against the riffle binary ---

# One SQS mapping run on a fresh emulator: case $1, then riffle-bench esm sqs options.
esm_sqs_run() {
  local case="$1" rep="$2"
  shift 2
  start_emulator riffle sqs
  log "SQS mapping #$rep: $case ($*)"
  record riffle "$case" esm sqs --endpoint "$ENDPOINT" --server-pid "$EMULATOR_PID" \
    --producers 4 --message-size 100 "$@"
  stop_emulator
}

run_esm_sqs() {
  for rep in $(seq 1 "$REPEATS"); do
    esm_sqs_run esm-sqs-standard "$rep" --messages "$ESM_SQS_MESSAGES" --batch-size 10
    esm_sqs_run esm-sqs-standard-backlog "$rep" --messages "$ESM_SQS_MESSAGES" \
      --batch-size 10 --preload
    esm_sqs_run esm-sqs-standard-b100 "$rep" --messages "$ESM_SQS_WINDOW_MESSAGES" \
      --batch-size 100 --window-secs 1
    esm_sqs_run esm-sqs-fifo "$rep" --messages "$ESM_SQS_FIFO_MESSAGES" --fifo \
      --groups "$ESM_SQS_GROUPS" --batch-size 10
    esm_sqs_run esm-sqs-fifo-backlog "$rep" --messages "$ESM_SQS_FIFO_MESSAGES" --fifo \
      --groups "$ESM_SQS_GROUPS" --batch-size 10 --preload
  done
}

# --- Lambda: the Runtime API host with a real lambda_runtime binary (no emulator needed) ---

run_lambda() {
  for rep in $(seq 1 "$REPEATS"); do
    log "Runtime API host #$rep: $LAMBDA_INVOCATIONS warm invocations, $LAMBDA_COLD_STARTS cold starts"
    record riffle lambda-warm lambda --binary "$TARGET_DIR/release/lambda-probe" \
      --invocations "$LAMBDA_INVOCATIONS" --cold-starts "$LAMBDA_COLD_STARTS"
  done
}

for section in kinesis sqs s3 esm esm-sqs lambda; do
  section_on "$section" || continue
  started=$SECONDS
  load_before="$(load_average)"
  "run_${section//-/_}"
  section_took "$section" "$started" "$load_before"
done

mkdir -p "$TARGET_DIR/bench"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
cp "$RESULTS" "$TARGET_DIR/bench/results-$STAMP.jsonl"
log "raw results: $TARGET_DIR/bench/results-$STAMP.jsonl"

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
moto_version="$("$MOTO_VENV/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null \
  || echo "$MOTO_VERSION")"
"$BENCH_BIN" report --results "$RESULTS" --doc "$BENCH_DOC" \
  --context "Date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --context "Machine=$(nproc) cores ($cpu), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr)" \
  --context "Riffle=commit $commit, release build" \
  --context "kinesis/Peers=kinesalite $KINESALITE_VERSION on Node $(node --version 2>/dev/null || echo '?'), ferrokinesis $FERROKINESIS_VERSION (cargo install, release)" \
  --context "kinesis/Amount=$RECORDS records per write workload (kinesalite: $KINESALITE_RECORDS), median of $REPEATS runs each on a fresh emulator; latency: $LATENCY_RECORDS PutRecord calls at 200/s; start-up: median of $STARTUP_RUNS starts" \
  --context "sqs/Peer=moto_server $moto_version (PyPI moto[server], $(python3 --version))" \
  --context "sqs/Amount=Riffle $SQS_MESSAGES messages per workload, moto $MOTO_MESSAGES (and Riffle again at $MOTO_MESSAGES, matched); median of $REPEATS runs each on a fresh emulator" \
  --context "s3/Peer=moto_server $moto_version (PyPI moto[server], $(python3 --version)), its S3 in memory; Riffle's objects are files in a temporary directory" \
  --context "s3/Amount=$S3_OBJECTS objects of 64 KiB and $((S3_OBJECTS / 10)) of 1 MiB per workload, both emulators; median of $REPEATS runs each on a fresh emulator" \
  --context "esm/Setup=the mapping runs inside riffle-bench (riffle-runtime + riffle-aws, in-process no-op lambda_runtime handler, 2 tokio worker threads) against the riffle release binary as a separate process; idle poll $ESM_IDLE_POLL_MS ms for throughput and scaling, read limit 10000" \
  --context "esm/Amount=$ESM_RECORDS records per throughput run, median of $REPEATS runs; latency: $ESM_LATENCY_RECORDS PutRecord calls at 200/s per idle poll; scaling: one run per point, backlog sized for 5 s at linear speed" \
  --context "esm-sqs/Setup=the mapping runs inside riffle-bench (riffle-runtime QueueMapping + riffle-aws SqsQueueSource, in-process no-op lambda_runtime handler taking SqsEvent, 2 tokio worker threads, SystemClock) against the riffle release binary as a separate process; 4 producers sending SendMessageBatch calls of 10 messages of 100 B" \
  --context "esm-sqs/Amount=$ESM_SQS_MESSAGES messages per standard-queue run at BatchSize 10, $ESM_SQS_WINDOW_MESSAGES at BatchSize 100 with a 1 s window, $ESM_SQS_FIFO_MESSAGES per FIFO run over $ESM_SQS_GROUPS message groups; median of $REPEATS runs, each on a fresh emulator" \
  --context "lambda/Setup=riffle_lambda::LocalFunction in riffle-bench (2 tokio worker threads) running tests/probe (lambda_runtime $(cargo pkgid -p lambda_runtime 2>/dev/null | sed 's/.*[@#]//'), release build) whose noop action returns null; each sample is one invocation's whole round trip; median of $REPEATS runs" \
  "${CONTEXT[@]/#/--context=}" >/dev/null
log "updated $BENCH_DOC"

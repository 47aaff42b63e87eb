#!/usr/bin/env bash
# Storm and memory benchmark: N distinct devices each boot once (Yealink sequence,
# one new mutual-TLS connection per device) against a provgate whose store holds many more
# devices; every request must succeed and be in the audit log; the server's RSS is sampled
# idle, during the storm and after it. See docs/performance.md ("Storm and memory").
#
#   scripts/bench-storm.sh           100 000 devices in the storm, 1 000 000 in the store
#   scripts/bench-storm.sh --quick   smoke run: 2 000 in the storm, 20 000 in the store
#
# Options: --devices N (storm devices, with certificates; default 100000)
#          --store-devices N (devices in the store, storm devices included; default 1000000)
#          --concurrency C (default 64) --timeout-ms T (per request, default 10000)
#          --work DIR (default bench/out; the installation is DIR/storm/d<N>-s<S>, reused)
#          --build DIR (default build-bench) --no-build (use the binaries already there)
#          --server-cpu N --loadgen-cpu N --provgate-threads N (default 1)
#          --cluster DIR: storm a running scripts/cluster-demo.sh cluster through its HAProxy
#            (its installation, nodes and PostgreSQL; nothing is started or pinned); adds
#            the CPU of every node, HAProxy and PostgreSQL per request, database
#            transactions per 1 000 requests and the audit copy's lag to the summary
# Exit status: 0 only if the storm had zero errors and the audit check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"

DEVICES=100000 STORE_DEVICES=1000000 CONCURRENCY=64 TIMEOUT_MS=10000
WORK=$ROOT/bench/out BUILD=$ROOT/build-bench
SERVER_CPU=0 LOADGEN_CPU=1 PG_PORT=18445
MODE=full
BUILD_FIRST=1
PG_THREADS=1  # as in scripts/bench.sh: one serving thread on the pinned core
RSS_GOAL_MB=200
PYTHON=/usr/bin/python3; [[ -x $PYTHON ]] || PYTHON=python3
CLUSTER=""

while (($#)); do
  case $1 in
    --quick) MODE=quick DEVICES=2000 STORE_DEVICES=20000 ;;
    --devices) DEVICES=$2; shift ;;
    --store-devices) STORE_DEVICES=$2; shift ;;
    --concurrency) CONCURRENCY=$2; shift ;;
    --timeout-ms) TIMEOUT_MS=$2; shift ;;
    --work) WORK=$(realpath -m "$2"); shift ;;
    --build) BUILD=$(realpath -m "$2"); shift ;;
    --no-build) BUILD_FIRST=0 ;;
    --provgate-threads) PG_THREADS=$2; shift ;;
    --server-cpu) SERVER_CPU=$2; shift ;;
    --loadgen-cpu) LOADGEN_CPU=$2; shift ;;
    --cluster) CLUSTER=$(realpath "$2"); shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
for v in DEVICES STORE_DEVICES CONCURRENCY TIMEOUT_MS PG_THREADS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "${v,,} must be a positive integer" >&2; exit 2; }
done
((STORE_DEVICES >= DEVICES)) || STORE_DEVICES=$DEVICES
# Store-only devices get MACs under another OUI; 24 bits of device number each.
((DEVICES <= 16777216 && STORE_DEVICES - DEVICES <= 16777216)) || { echo "too many devices" >&2; exit 2; }

log() { printf '[storm %(%H:%M:%S)T] %s\n' -1 "$*"; }

# --- tools -------------------------------------------------------------------------------
mkdir -p "$WORK"
if ((BUILD_FIRST)); then
  log "building provgate and the bench tools in $BUILD"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$BUILD" -j2 provgate provgate_certgen provgate_loadgen \
    >"$WORK/build-storm.log" 2>&1 || { tail -30 "$WORK/build-storm.log"; echo "build failed"; exit 1; }
fi
PG=$BUILD/provgate
CERTGEN=$BUILD/bench/provgate_certgen
LOADGEN=$BUILD/bench/provgate_loadgen
for b in "$PG" "$CERTGEN" "$LOADGEN"; do [[ -x $b ]] || { echo "missing $b (build first)" >&2; exit 1; }; done

PIN_SERVER=() PIN_LOADGEN=()
if [[ -n $CLUSTER ]]; then
  log "cluster mode: nodes, HAProxy and PostgreSQL of $CLUSTER share the machine's cores with the load generator"
elif (($(nproc) >= 2)); then
  PIN_SERVER=(taskset -c "$SERVER_CPU") PIN_LOADGEN=(taskset -c "$LOADGEN_CPU")
else
  log "one CPU only: server and load generator share it"
fi

# --- installation, certificates, devices (reused across runs) ------------------------------
# One installation per size: a device's first fetch pins its certificate key, so the
# certificates of an installation must never be re-issued (the devices would be locked).
BASE=$WORK/storm/d$DEVICES-s$STORE_DEVICES
INST=$BASE/provgate
if [[ -n $CLUSTER ]]; then
  [[ -f $CLUSTER/env ]] || { echo "$CLUSTER/env not found: start the cluster first (scripts/cluster-demo.sh start DIR)" >&2; exit 1; }
  # shellcheck disable=SC1091
  source "$CLUSTER/env"
  BASE=$CLUSTER/storm-d$DEVICES-s$STORE_DEVICES
  INST=$INSTALL
fi
CONFIG=$INST/provgate.toml
[[ -z $CLUSTER ]] || CONFIG=$NODE1_CONFIG
CERTS=$BASE/certs-ecdsa
CA=$INST/tls/ca.crt
certs_ok() {
  [[ -f $CERTS/manifest.txt && ! $CA -nt $CERTS/manifest.txt ]] &&
    (($(wc -l <"$CERTS/manifest.txt") == DEVICES))
}
if [[ -z $CLUSTER && -f $INST/provgate.toml ]] && ! certs_ok; then
  log "certificates of $BASE are missing or stale: recreating the installation"
  rm -rf "$INST" "$CERTS"
fi
if [[ -z $CLUSTER && ! -f $INST/provgate.toml ]]; then
  mkdir -p "$BASE"
  "$PG" demo init --dir "$INST" --port "$PG_PORT" >/dev/null
  sed -i 's/^\[server\]$/[server]\nthreads = 1/' "$INST/provgate.toml"
  # [defense] stays at its defaults: a booting phone fetches 2 files, well inside the
  # per-device burst (device_burst = 20, device_rate = 2/s); certificate-authenticated
  # requests are limited per device, never per source address, so the whole storm coming
  # from 127.0.0.1 does not matter; 64 connections are far below max_in_flight = 1024.
fi
if [[ -n $CLUSTER ]]; then
  PG_PORT=$HAPROXY_PORT
  mkdir -p "$BASE"
else
  sed -i "s/^threads = [0-9]*$/threads = $PG_THREADS/" "$INST/provgate.toml"
  PG_PORT=$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$INST/provgate.toml" | head -1)
fi
if ! certs_ok; then
  log "issuing $DEVICES ECDSA device certificates"
  "$CERTGEN" --ca-cert "$CA" --ca-key "$INST/tls/ca.key" --out "$CERTS" --count "$DEVICES" \
    --key-type ecdsa --force | tee -a "$BASE/certgen.log"
fi

RUN=$WORK/results/$(date +%Y%m%d-%H%M%S)-storm
[[ $MODE == quick ]] && RUN+=-quick
mkdir -p "$RUN"

# Devices into the store: the storm devices (certificate MACs) plus store-only devices under
# OUI 249ad8, one SIP line each, with the CLI's bulk import (one transaction). Only rows not
# in the store yet are imported, so an interrupted set-up resumes.
IMPORT_SECONDS=-
have=$BASE/store-macs.txt want=$BASE/want-macs.txt missing=$BASE/missing-macs.txt
"$PG" -c "$CONFIG" device list --tenant demo | awk 'NR > 1 {print $1}' | sort >"$have"
{ cat "$CERTS/manifest.txt"
  awk -v n=$((STORE_DEVICES - DEVICES)) 'BEGIN {for (i = 0; i < n; i++) printf "249ad8%06x\n", i}'
} | sort >"$want"
comm -23 "$want" "$have" >"$missing"
log "store: $(wc -l <"$have") devices of tenant demo; importing $(wc -l <"$missing") more"
if [[ -s $missing ]]; then
  awk 'BEGIN {print "mac,vendor,model,tenant,line1_user,line1_registrar,line1_display_name"}
       {printf "%s,yealink,T54W,demo,%d,sip.bench.example,Storm %d\n", $1, 100000 + NR, NR}' \
    "$missing" >"$BASE/import.csv"
  start=$(date +%s.%N)
  /usr/bin/time -f 'import: %e s elapsed, %M kB max RSS' -o "$RUN/import-time.txt" \
    "$PG" -c "$CONFIG" device import "$BASE/import.csv" >"$RUN/import.txt" 2>&1 \
    || { tail -20 "$RUN/import.txt"; echo "import failed"; exit 1; }
  IMPORT_SECONDS=$(printf %.1f "$(echo "$(date +%s.%N) - $start" | bc)")
  tail -1 "$RUN/import.txt"
  cat "$RUN/import-time.txt"
  rm -f "$BASE/import.csv"
fi
STORE_TOTAL=$(($(wc -l <"$have") + $(wc -l <"$missing")))
rm -f "$have" "$want" "$missing"
DB_SIZE=$(du -h "$INST/provgate.db" 2>/dev/null | cut -f1 || true)
[[ -z $CLUSTER ]] || DB_SIZE=$(psql -X -At "$PG_PRIMARY_URL" -c "SELECT pg_size_pretty(pg_database_size('postgres'))")
log "store holds $STORE_TOTAL devices; database $DB_SIZE"

# --- server ----------------------------------------------------------------------------------
PG_PID="" SAMPLER_PID=""
stop_all() { stop_pids "$SAMPLER_PID" "$PG_PID"; }
trap stop_all EXIT
# PostgreSQL's processes of a cluster: each postmaster and its children.
pg_pids() {
  local pm
  for pm in $(head -qn1 "$PG_PRIMARY_DATA/postmaster.pid" "$PG_STANDBY_DATA/postmaster.pid" 2>/dev/null); do
    echo "$pm"
    pgrep -P "$pm" || true
  done
}
# Transactions the nodes have ended on PostgreSQL, summed over their /metrics
# (provgate_store_transactions_total, counted by each node as the server reports its
# transaction state). pg_stat_database.xact_commit is not used: a busy pooled connection
# reports its counts to the statistics late, and a storm's were seen missing by a factor of 6.
node_transactions() {
  local i port sum=0 n headers
  # The key goes to curl in a file, not on its command line, where other users could read it.
  headers=$(mktemp)
  printf 'Authorization: Bearer %s\n' "$(cat "$INSTALL/admin-api-key")" >"$headers"
  for i in $(seq "$NODES"); do
    port=NODE${i}_ADMIN_PORT
    n=$(curl -sf --cacert "$INSTALL/tls/ca.crt" -H @"$headers" "https://localhost:${!port}/metrics" |
      awk '$1 == "provgate_store_transactions_total" {print $2}') || true
    [[ -n $n ]] || { rm -f "$headers"; echo "bench-storm: node $i's /metrics did not answer" >&2; return 1; }
    sum=$((sum + n))
  done
  rm -f "$headers"
  echo "$sum"
}

# "VmRSS VmHWM RssAnon RssFile" in kB (zeros once the process is gone)
rss() { [[ -r /proc/$1/status ]] || { echo 0 0 0 0; return; }
        awk '/^(VmRSS|VmHWM|RssAnon|RssFile):/ {v[$1] = $2}
             END {print v["VmRSS:"], v["VmHWM:"], v["RssAnon:"], v["RssFile:"]}' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

SERVER_PIDS=()
if [[ -n $CLUSTER ]]; then
  # The nodes are the cluster's: sampled (node 1), measured, never stopped here.
  SAMPLE_PID=$(cat "$CLUSTER/node1.pid")
  STARTUP_SECONDS=-
  for i in $(seq "$NODES"); do SERVER_PIDS+=("$(cat "$CLUSTER/node$i.pid")"); done
  SERVER_PIDS+=("$(cat "$CLUSTER/haproxy.pid")")
  mapfile -t -O "${#SERVER_PIDS[@]}" SERVER_PIDS < <(pg_pids)
  log "storming HAProxy on 127.0.0.1:$PG_PORT; CPU measured over ${#SERVER_PIDS[@]} processes (nodes, HAProxy, PostgreSQL)"
else
  log "starting provgate on 127.0.0.1:$PG_PORT ($PG_THREADS threads on CPU $SERVER_CPU)"
  start=$(date +%s.%N)
  "${PIN_SERVER[@]}" "$PG" -c "$INST/provgate.toml" serve >"$RUN/provgate.log" 2>&1 &
  PG_PID=$!
  SAMPLE_PID=$PG_PID
  SERVER_PIDS=("$PG_PID")
  wait_port "$PG_PORT" "$PG_PID" "$RUN/provgate.log"
  STARTUP_SECONDS=$(printf %.2f "$(echo "$(date +%s.%N) - $start" | bc)")
fi
sleep 5
read -r IDLE_RSS IDLE_HWM IDLE_ANON IDLE_FILE < <(rss "$SAMPLE_PID")
log "idle after start-up (${STARTUP_SECONDS}s to listen): RSS $(mb "$IDLE_RSS") MB (anon $(mb "$IDLE_ANON"), file $(mb "$IDLE_FILE")); start-up peak (VmHWM) $(mb "$IDLE_HWM") MB"
# From here VmHWM is the storm's peak, not start-up's (Linux: "5" resets the high-water mark).
HWM_RESET=1
echo 5 >"/proc/$SAMPLE_PID/clear_refs" 2>/dev/null || HWM_RESET=0

# --- the storm ---------------------------------------------------------------------------------
# The audit files the storm writes to, each with its size before the storm ("FILE@OFFSET").
AUDITS=() IDLE_RATE=-
if [[ -n $CLUSTER ]]; then
  for i in $(seq "$NODES"); do f=NODE${i}_AUDIT; AUDITS+=("${!f}@$(stat -c %s "${!f}")"); done
  AUDIT_ROWS0=$(psql -X -At "$PG_PRIMARY_URL" -c "SELECT count(*) FROM audit")
  # What the nodes do with no requests (health checks' store pings, ban reloads, listener
  # pings, reads of what changes dropped), per second, over 10 s before the storm.
  idle0=$(node_transactions)
  sleep 10
  XACT0=$(node_transactions)
  IDLE_RATE=$(echo "scale=2; ($XACT0 - $idle0) / 10" | bc)
  STORM_START=$(date +%s.%N)
else
  AUDITS=("$INST/audit.log@$(stat -c %s "$INST/audit.log")")
fi
echo -e "t_s\tvmrss_kb\tvmhwm_kb\trss_anon_kb\trss_file_kb" >"$RUN/rss.tsv"
(
  t0=$(date +%s.%N)
  while kill -0 "$SAMPLE_PID" 2>/dev/null; do
    printf '%s\t%s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$(rss "$SAMPLE_PID" | tr ' ' '\t')" >>"$RUN/rss.tsv"
    sleep 0.5
  done
) &
SAMPLER_PID=$!

log "storm: $DEVICES devices x (common file + own file), one connection each, concurrency $CONCURRENCY"
STORM_RC=0
PID_ARGS=()
for pid in "${SERVER_PIDS[@]}"; do PID_ARGS+=(--server-pid "$pid"); done
"${PIN_LOADGEN[@]}" "$LOADGEN" --port "$PG_PORT" --cacert "$CA" --certs "$CERTS" \
  --devices "$DEVICES" --conn per-device --count $((2 * DEVICES)) --duration 3600 \
  --concurrency "$CONCURRENCY" --timeout-ms "$TIMEOUT_MS" --verify-status \
  "${PID_ARGS[@]}" \
  --label "storm-$DEVICES-of-$STORE_TOTAL" --json "$RUN/storm.json" >"$RUN/storm.txt" 2>&1 || STORM_RC=$?
head -1 "$RUN/storm.txt"
kill -0 "$SAMPLE_PID" 2>/dev/null || { log "provgate died during the storm:"; tail -20 "$RUN/provgate.log"; STORM_RC=1; }
STORM_END=$(date +%s.%N)
COPY_LAG=- XACTS=- XACTS_PER_1000=- BACKGROUND=- REQUEST_XACTS_PER_1000=-
if [[ -n $CLUSTER ]]; then
  # The copy's lag: from the storm's end until the store's audit table holds every record
  # the nodes wrote since the storm began.
  want=$AUDIT_ROWS0
  for a in "${AUDITS[@]}"; do
    want=$((want + $(tail -c +"$((${a##*@} + 1))" "${a%@*}" | wc -l)))
  done
  for _ in $(seq 600); do
    (($(psql -X -At "$PG_PRIMARY_URL" -c "SELECT count(*) FROM audit") >= want)) && break
    sleep 0.05
  done
  COPY_LAG=$(printf %.2f "$(echo "$(date +%s.%N) - $STORM_END" | bc)")
  XACTS=$(($(node_transactions) - XACT0))
  WINDOW=$(echo "$(date +%s.%N) - $STORM_START" | bc)
  # The idle rate over the storm's window: the share of XACTS that time, not requests, drove.
  # The audit copies (at most one per node per store_copy_delay_ms) are counted with the
  # requests: they happen only because records come.
  BACKGROUND=$(printf %.0f "$(echo "$IDLE_RATE * $WINDOW" | bc)")
  REQUESTS=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["requests"])' "$RUN/storm.json" 2>/dev/null || echo 0)
  if ((REQUESTS > 0)); then
    XACTS_PER_1000=$(echo "scale=1; $XACTS * 1000 / $REQUESTS" | bc)
    REQUEST_XACTS_PER_1000=$(echo "scale=1; ($XACTS - $BACKGROUND) * 1000 / $REQUESTS" | bc)
  fi
  log "database: the nodes ended $XACTS transactions during the storm and its audit copy = $XACTS_PER_1000 per 1000 requests; idle they end $IDLE_RATE per second, ~$BACKGROUND of these over the $(printf %.1f "$WINDOW") s, leaving $REQUEST_XACTS_PER_1000 per 1000 requests; audit copy complete $COPY_LAG s after the storm"
fi
sleep 5
kill -TERM "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
read -r AFTER_RSS AFTER_HWM AFTER_ANON AFTER_FILE < <(rss "$SAMPLE_PID")
PEAK_SAMPLED=$(awk -F'\t' 'NR > 1 && $2 > m {m = $2} END {print m + 0}' "$RUN/rss.tsv")
((HWM_RESET)) || AFTER_HWM=$PEAK_SAMPLED  # VmHWM still holds the start-up peak
log "after the storm: RSS $(mb "$AFTER_RSS") MB (anon $(mb "$AFTER_ANON"), file $(mb "$AFTER_FILE")); storm peak: sampled $(mb "$PEAK_SAMPLED") MB, VmHWM $(mb "$AFTER_HWM") MB"
stop_all
PG_PID=""

# --- audit check -------------------------------------------------------------------------------
# Every request the generator completed is one request record written after AUDIT_OFFSET;
# every storm device has exactly one allowed record for its own file; nothing was refused.
AUDIT_RC=0
"$PYTHON" - "$(IFS=';'; echo "${AUDITS[*]}")" "$CERTS/manifest.txt" "$DEVICES" "$RUN/storm.json" \
  >"$RUN/audit-check.json" <<'PY' || AUDIT_RC=$?
import collections, json, sys
audits, manifest, n, storm = sys.argv[1].split(";"), sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(manifest) as f:
    expected = {line.strip() for _, line in zip(range(n), f)}
try:
    with open(storm) as f:
        completed = json.load(f)["requests"]
except (OSError, ValueError, KeyError):
    completed = None
kinds = collections.Counter()
lifecycle = collections.Counter()     # lifecycle reasons (first fetch: provisioned, password delivered)
not_allowed = collections.Counter()   # (kind, decision, reason, status) of refused records
requests = common = 0
device_file = collections.Counter()   # device -> allowed fetches of <mac>.cfg
strangers = 0                         # allowed device-file records for devices outside the storm
def records():
    for spec in audits:
        path, _, offset = spec.rpartition("@")
        with open(path, "rb") as f:
            f.seek(int(offset))
            for raw in f:
                yield json.loads(raw)
for r in records():
    kind = r.get("kind")
    kinds[kind] += 1
    if kind == "lifecycle":
        lifecycle[r.get("reason")] += 1
    if kind not in ("request", "tls"):
        continue                  # lifecycle transitions (e.g. first fetch: provisioned)
    if kind == "request":
        requests += 1
    if r.get("decision") != "allow" or r.get("status") != 200:
        not_allowed[(kind, r.get("decision"), r.get("reason"), r.get("status"))] += 1
        continue
    dev = r.get("device", "")
    if r.get("file") == "/" + dev + ".cfg":
        device_file[dev] += 1
        if dev not in expected:
            strangers += 1
    else:
        common += 1
missing = expected - device_file.keys()
repeated = sum(1 for c in device_file.values() if c > 1)
checks = {
    "request records == requests completed": completed is not None and requests == completed,
    "distinct devices with an allowed own file == devices": len(device_file) == n and not missing,
    "no device fetched its own file twice": repeated == 0,
    "common-file records == devices": common == n,
    "no refused request or handshake": not not_allowed,
    "no allowed record for a device outside the storm": strangers == 0,
}
report = {
    "ok": all(checks.values()),
    "checks": checks,
    "records_by_kind": dict(kinds),
    "lifecycle_reasons": dict(lifecycle),
    "request_records": requests,
    "loadgen_requests_completed": completed,
    "devices_expected": n,
    "devices_with_own_file": len(device_file),
    "devices_missing": len(missing),
    "missing_sample": sorted(missing)[:10],
    "devices_repeated": repeated,
    "common_file_records": common,
    "refused": [{"kind": k, "decision": d, "reason": r, "status": s, "count": c}
                for (k, d, r, s), c in not_allowed.most_common(20)],
}
print(json.dumps(report, indent=2))
sys.exit(0 if report["ok"] else 1)
PY
AUDIT_SUMMARY=$("$PYTHON" - "$RUN/audit-check.json" 2>/dev/null <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for k, v in r["checks"].items():
    print(("PASS: " if v else "FAIL: ") + k)
print("records since the storm began, by kind: " +
      ", ".join(f"{k} {v}" for k, v in sorted(r["records_by_kind"].items())))
print("lifecycle records since the storm began: " +
      (", ".join(f"{k} {v}" for k, v in sorted(r["lifecycle_reasons"].items())) or "none"))
for x in r["refused"]:
    print(f"refused: {x}")
PY
) || AUDIT_SUMMARY="audit check produced no report"
if ((AUDIT_RC == 0)); then log "audit check passed"; else log "audit check FAILED ($RUN/audit-check.json)"; fi

# --- summary ---------------------------------------------------------------------------------------
PEAK=$((AFTER_HWM > PEAK_SAMPLED ? AFTER_HWM : PEAK_SAMPLED))
GOAL=met; ((IDLE_RSS < RSS_GOAL_MB * 1024 && PEAK < RSS_GOAL_MB * 1024)) || GOAL="NOT met"
log "memory goal (RSS < $RSS_GOAL_MB MB idle and under the storm): $GOAL"
STORM_LINE=$("$PYTHON" - "$RUN/storm.json" 2>/dev/null <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lat = {k: v / 1000 for k, v in r["latency_us"].items()}
e = ", ".join(f"{k} {v}" for k, v in r["errors"].items() if v)
line = (f"{r['requests']} requests ({r['ok']} ok) in {r['seconds']:.1f} s = {r['requests_per_s']:.0f} req/s, "
        f"{r['handshakes_per_s']:.0f} handshakes/s; errors {r['errors_total']}" + (f" ({e})" if e else "") +
        f"; latency p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms"
        f"; server CPU {r.get('server_cpu_us_per_request', 0):.0f} us/req")
if r["first_error"]:
    line += "; first error: " + r["first_error"]
print(line)
PY
) || STORM_LINE="no loadgen report (exit status $STORM_RC): $(tail -3 "$RUN/storm.txt")"
{
  echo "# Storm and memory, $(date -u +%Y-%m-%dT%H:%MZ) ($MODE)"
  echo
  echo "    scripts/bench-storm.sh --devices $DEVICES --store-devices $STORE_DEVICES --concurrency $CONCURRENCY"
  echo
  echo "- provgate: \`$PG\` ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ', src/ modified')), $PG_THREADS threads on CPU $SERVER_CPU; loadgen on CPU $LOADGEN_CPU"
  echo "- store: $STORE_TOTAL devices, database $DB_SIZE, installation \`$INST\`"
  if [[ -n $CLUSTER ]]; then
    echo "- cluster \`$CLUSTER\`: $NODES nodes behind HAProxy (PROXY v2), PostgreSQL primary + synchronous standby; server CPU below = nodes + HAProxy + PostgreSQL (${#SERVER_PIDS[@]} processes)"
    echo "- database transactions the nodes ended during the storm and its audit copy (provgate_store_transactions_total): $XACTS = $XACTS_PER_1000 per 1000 storm requests; idle rate $IDLE_RATE per second (~$BACKGROUND over the storm), leaving $REQUEST_XACTS_PER_1000 per 1000 requests; audit copy complete $COPY_LAG s after the storm"
  fi
  echo "- import of new rows this run: $IMPORT_SECONDS s ($(cat "$RUN/import-time.txt" 2>/dev/null || echo 'nothing to import'))"
  echo "- machine: $(uptime | sed 's/.*load/load/')"
  echo
  echo "## Storm: $DEVICES devices, each once (common file + own file on one new connection)"
  echo
  echo "$STORM_LINE"
  echo
  echo "## Audit check"
  echo
  while IFS= read -r line; do echo "- $line"; done <<<"$AUDIT_SUMMARY"
  echo
  echo "## Server memory (goal: RSS < $RSS_GOAL_MB MB): $GOAL"
  echo
  echo "| when | RSS MB | anon MB | file MB |"
  echo "|---|---|---|---|"
  echo "| start-up peak (VmHWM; ${STARTUP_SECONDS} s to listen) | $(mb "$IDLE_HWM") | | |"
  echo "| idle, 5 s after start-up | $(mb "$IDLE_RSS") | $(mb "$IDLE_ANON") | $(mb "$IDLE_FILE") |"
  echo "| storm peak (0.5 s samples / VmHWM since the storm began) | $(mb "$PEAK_SAMPLED") / $(mb "$AFTER_HWM") | | |"
  echo "| 5 s after the storm | $(mb "$AFTER_RSS") | $(mb "$AFTER_ANON") | $(mb "$AFTER_FILE") |"
  ((IDLE_HWM < RSS_GOAL_MB * 1024)) ||
    { echo; echo "The start-up peak is over $RSS_GOAL_MB MB (the goal is judged on the idle and storm rows)."; }
  echo
  echo "Files: storm.json (loadgen report), storm.txt, rss.tsv, audit-check.json, provgate.log."
} >"$RUN/summary.md"
echo
cat "$RUN/summary.md"
log "results in $RUN"
((STORM_RC == 0 && AUDIT_RC == 0))

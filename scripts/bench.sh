#!/usr/bin/env bash
# Boot-storm benchmark: provgate against nginx serving the same configs as
# pre-rendered static files with client-certificate checks, in one run, interleaved rounds.
# Three servers: provgate; "nginx", tuned as Mozilla's intermediate guideline has it (shared
# session cache, no stateless tickets), the anchor; "nginx-default", the same with nginx's
# session defaults, reported in a second table. See docs/performance.md for the method.
#
#   scripts/bench.sh             full run: 11 configurations x 6 rounds x 3 servers x 10 s
#   scripts/bench.sh --quick     smoke run (~2 minutes once certificates exist)
#
# Options: --rounds N --duration S --devices N --rsa-devices N --configs "a b ..."
#          --work DIR (default bench/out, reused: CA, certificates, installation)
#          --build DIR (default build-bench) --no-build (use the binaries already there)
#          --server-cpu N --loadgen-cpu N --provgate-threads N (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"

ROUNDS=6 DURATION=10 DEVICES=2000 RSA_DEVICES=1000
WORK=$ROOT/bench/out BUILD=$ROOT/build-bench
SERVER_CPU=0 LOADGEN_CPU=1 PG_PORT=18443 NGINX_PORT=18444 NGINX_DEFAULT_PORT=18446
ALL_CONFIGS="new-c16-ecdsa-tls13 new-c64-ecdsa-tls13 new-c16-rsa-tls13 new-c64-rsa-tls13
new-c16-ecdsa-tls12 new-c64-ecdsa-tls12 new-c16-rsa-tls12 new-c64-rsa-tls12
keepalive-c16-ecdsa-tls13 open600-ecdsa-tls13 open900-ecdsa-tls13"
# The smoke run's open loop offers 300 req/s: 600 overloads the box while others compile.
QUICK_CONFIGS="new-c16-ecdsa-tls13 new-c64-rsa-tls12 keepalive-c16-ecdsa-tls13 open300-ecdsa-tls13"
CONFIGS=$ALL_CONFIGS
MODE=full
BUILD_FIRST=1
# One serving thread, like nginx's one worker: both are pinned to one core, and the audit
# committer's fdatasync waits off the serving thread, so CPU per request is comparable.
PG_THREADS=1

while (($#)); do
  case $1 in
    --quick) MODE=quick ROUNDS=2 DURATION=2 DEVICES=200 RSA_DEVICES=100 CONFIGS=$QUICK_CONFIGS ;;
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --devices) DEVICES=$2; shift ;;
    --rsa-devices) RSA_DEVICES=$2; shift ;;
    --configs) CONFIGS=$2; shift ;;
    --work) WORK=$(realpath -m "$2"); shift ;;
    --build) BUILD=$(realpath -m "$2"); shift ;;
    --no-build) BUILD_FIRST=0 ;;
    --provgate-threads) PG_THREADS=$2; shift ;;
    --server-cpu) SERVER_CPU=$2; shift ;;
    --loadgen-cpu) LOADGEN_CPU=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
((RSA_DEVICES <= DEVICES)) || RSA_DEVICES=$DEVICES

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*"; }

# --- tools -------------------------------------------------------------------------------
if ! command -v nginx >/dev/null; then
  log "installing nginx-light"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx-light
fi
NGINX=$(command -v nginx)
mkdir -p "$WORK"
if ((BUILD_FIRST)); then
  log "building provgate and the bench tools in $BUILD"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$BUILD" -j2 provgate provgate_certgen provgate_loadgen provgate_tls_harness \
    >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; echo "build failed"; exit 1; }
fi
PG=$BUILD/provgate
CERTGEN=$BUILD/bench/provgate_certgen
LOADGEN=$BUILD/bench/provgate_loadgen
HARNESS=$BUILD/bench/provgate_tls_harness
for tool in "$PG" "$CERTGEN" "$LOADGEN" "$HARNESS"; do
  [[ -x $tool ]] || { echo "$tool is missing: build it in $BUILD or run without --no-build"; exit 1; }
done

PIN_SERVER=() PIN_LOADGEN=()
if (($(nproc) >= 2)); then
  PIN_SERVER=(taskset -c "$SERVER_CPU") PIN_LOADGEN=(taskset -c "$LOADGEN_CPU")
else
  log "one CPU only: server and load generator share it, figures are not comparable to 2-core runs"
fi

# --- installation, certificates, devices (reused across runs) ------------------------------
INST=$WORK/provgate
if [[ ! -f $INST/provgate.toml ]]; then
  "$PG" demo init --dir "$INST" --port "$PG_PORT" >/dev/null
  sed -i 's/^\[server\]$/[server]\nthreads = 1/' "$INST/provgate.toml"
fi
# Rounds re-fetch the same devices far faster than phones do: lift the per-device limit.
grep -q '^\[defense\]' "$INST/provgate.toml" ||
  printf '\n[defense]\ndevice_rate = 1000000\ndevice_burst = 1000000\n' >>"$INST/provgate.toml"
sed -i "s/^threads = [0-9]*$/threads = $PG_THREADS/" "$INST/provgate.toml"
PG_PORT=$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$INST/provgate.toml" | head -1)
CA=$INST/tls/ca.crt

make_certs() {  # dir count key-type oui
  local dir=$1 count=$2 type=$3 oui=$4
  # Reused unless too small, made for other MACs, or older than the installation's CA (then
  # signed by another CA).
  if [[ -f $dir/manifest.txt && ! $CA -nt $dir/manifest.txt ]] &&
     (($(wc -l <"$dir/manifest.txt") >= count)) && [[ $(head -1 "$dir/manifest.txt") == "$oui"* ]]; then
    return
  fi
  log "issuing $count $type device certificates"
  "$CERTGEN" --ca-cert "$CA" --ca-key "$INST/tls/ca.key" --out "$dir" --count "$count" \
    --key-type "$type" --oui "$oui" --force | tee -a "$WORK/certgen.log"
}
# Distinct MACs per key type: provgate pins each device's key on first fetch, and the same
# MAC presenting another key is locked as a cloned certificate.
make_certs "$WORK/certs-ecdsa" "$DEVICES" ecdsa 001565
make_certs "$WORK/certs-rsa" "$RSA_DEVICES" rsa 805ec0
# Devices not yet in the store, added with the CLI's bulk import (one transaction).
missing=$WORK/missing-devices.txt
{ head -n "$DEVICES" "$WORK/certs-ecdsa/manifest.txt"; head -n "$RSA_DEVICES" "$WORK/certs-rsa/manifest.txt"; } |
  sort >"$missing.all"
"$PG" -c "$INST/provgate.toml" device list | awk 'NR > 1 {print $1}' | sort | comm -23 "$missing.all" - >"$missing"
log "provisioning $(wc -l <"$missing") of $((DEVICES + RSA_DEVICES)) devices into provgate"
if [[ -s $missing ]]; then
  awk 'BEGIN {print "mac,vendor,model,tenant,line1_user,line1_registrar,line1_display_name"}
       {printf "%s,yealink,T54W,demo,%d,sip.bench.example,Bench %d\n", $1, 100000 + NR, NR}' \
    "$missing" >"$WORK/import.csv"
  "$PG" -c "$INST/provgate.toml" device import "$WORK/import.csv" | tail -1
fi
# A device locked by an earlier run (another key for its MAC) would refuse every request.
locked=$(sqlite3 -readonly "$INST/provgate.db" "SELECT count(*) FROM devices WHERE locked_reason <> ''")
((locked == 0)) || { echo "$locked bench devices are locked (provgate device show MAC says why)"; exit 1; }

# The pre-check below gets the loadgen's address banned, and its /24 (100 distinct MACs);
# lift every loopback ban, including any an interrupted run left behind.
lift_loopback_bans() {
  local source
  for source in $("$PG" -c "$INST/provgate.toml" ban list | awk 'NR > 1 && $1 ~ /^127\./ {print $1}'); do
    "$PG" -c "$INST/provgate.toml" ban remove "$source" >/dev/null
  done
}
lift_loopback_bans

RUN=$WORK/results/$(date +%Y%m%d-%H%M%S)-$MODE
mkdir -p "$RUN"
echo "$CONFIGS" >"$RUN/configs.txt"

# --- servers --------------------------------------------------------------------------------
PG_PID="" NGINX_PID="" NGINX_DEFAULT_PID=""
stop_servers() { stop_pids "$PG_PID" "$NGINX_PID" "$NGINX_DEFAULT_PID"; }
trap stop_servers EXIT

log "starting provgate on 127.0.0.1:$PG_PORT ($PG_THREADS threads on CPU $SERVER_CPU)"
"${PIN_SERVER[@]}" "$PG" -c "$INST/provgate.toml" serve >"$RUN/provgate.log" 2>&1 &
PG_PID=$!
wait_port "$PG_PORT" "$PG_PID" "$RUN/provgate.log"

# nginx serves what provgate renders, fetched once by every device over its own mTLS.
WWW=$WORK/nginx/www
rm -rf "$WWW"
log "pre-rendering $((DEVICES + RSA_DEVICES)) devices' files from provgate for nginx"
for set in ecdsa:$DEVICES rsa:$RSA_DEVICES; do
  "${PIN_LOADGEN[@]}" "$LOADGEN" --port "$PG_PORT" --cacert "$CA" --certs "$WORK/certs-${set%:*}" \
    --devices "${set#*:}" --conn per-device --concurrency 8 --count $((2 * ${set#*:})) --duration 600 \
    --verify-status --save-dir "$WWW" --label "prerender-${set%:*}" >"$RUN/prerender-${set%:*}.txt" \
    || { cat "$RUN/prerender-${set%:*}.txt"; exit 1; }
  head -1 "$RUN/prerender-${set%:*}.txt"
done
(($(ls "$WWW" | wc -l) == DEVICES + RSA_DEVICES + 1)) ||
  { echo "pre-rendering produced $(ls "$WWW" | wc -l) files"; exit 1; }

# Two nginx instances on the same files, certificates and core: "nginx" (tuned, the anchor)
# and "nginx-default" (session defaults). Each has its own prefix (pid, logs, session cache).
start_nginx() {  # name session port -> sets STARTED_PID
  local name=$1 prefix=$WORK/$1
  mkdir -p "$prefix/logs" "$prefix/tmp"
  render_nginx_conf "$ROOT/scripts/bench-nginx.conf.in" "$2" "$prefix" "$3" "$INST/tls" "$WWW"
  "$NGINX" -t -q -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off;'
  cp "$prefix/nginx.conf" "$RUN/$name.conf"
  log "starting $name ($2 TLS sessions) on 127.0.0.1:$3 (CPU $SERVER_CPU)"
  "${PIN_SERVER[@]}" "$NGINX" -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off;' \
    2>"$RUN/$name.stderr" &
  STARTED_PID=$!
  wait_port "$3" "$STARTED_PID" "$RUN/$name.stderr"
}
start_nginx nginx tuned "$NGINX_PORT"
NGINX_PID=$STARTED_PID
start_nginx nginx-default default "$NGINX_DEFAULT_PORT"
NGINX_DEFAULT_PID=$STARTED_PID

pids_args() { local a=(); for p in "$@"; do a+=(--server-pid "$p"); done; echo "${a[@]}"; }
SERVERS="provgate nginx nginx-default"
declare -A PORT=([provgate]=$PG_PORT [nginx]=$NGINX_PORT [nginx-default]=$NGINX_DEFAULT_PORT)
declare -A PIDS_ARGS=(
  [provgate]=$(pids_args "$PG_PID")
  # nginx's master and its worker.
  [nginx]=$(pids_args "$NGINX_PID" $(pgrep -P "$NGINX_PID"))
  [nginx-default]=$(pids_args "$NGINX_DEFAULT_PID" $(pgrep -P "$NGINX_DEFAULT_PID"))
)

# --- correctness pre-check: every server refuses another device's file ---------------------
for server in $SERVERS; do
  port=${PORT[$server]}
  "${PIN_LOADGEN[@]}" "$LOADGEN" --port "$port" --cacert "$CA" --certs "$WORK/certs-ecdsa" \
    --devices "$DEVICES" --wrong-device --concurrency 8 --count 200 --duration 30 \
    --label "precheck-$server" >"$RUN/precheck-$server.txt" \
    || { cat "$RUN/precheck-$server.txt"; echo "$server served another device's file or failed"; exit 1; }
  head -1 "$RUN/precheck-$server.txt"
  if [[ $server == provgate ]]; then
    # Asking for other devices' files is what a scanner does: provgate must have banned the
    # loadgen's address. Lift the bans (the server reloads them every 5 s) to go on measuring.
    "$PG" -c "$INST/provgate.toml" ban list | grep -q '^127\.0\.0\.1/32 ' ||
      { echo "provgate did not ban the address that asked for other devices' files"; exit 1; }
    lift_loopback_bans
    sleep 6
  fi
  "${PIN_LOADGEN[@]}" "$LOADGEN" --port "$port" --cacert "$CA" --certs "$WORK/certs-ecdsa" \
    --devices "$DEVICES" --concurrency 8 --count 200 --duration 30 --verify-status \
    --label "precheck-own-$server" >"$RUN/precheck-own-$server.txt" \
    || { cat "$RUN/precheck-own-$server.txt"; echo "$server refused a device its own files"; exit 1; }
  head -1 "$RUN/precheck-own-$server.txt"
done

# --- machine state and crypto baseline ------------------------------------------------------
{ echo "uptime: $(uptime)"; top -bn1 | head -15; } >"$RUN/load-before.txt"
log "openssl speed (pinned to CPU $SERVER_CPU)"
"${PIN_SERVER[@]}" openssl speed -seconds 1 ecdsap256 rsa2048 ecdhx25519 >"$RUN/openssl-speed.txt" 2>/dev/null
# What the TLS library costs against what provgate's TLS context and identity path add,
# without sockets (bench/tls_harness.cpp): bare OpenSSL set up like nginx vs provgate.
log "in-memory TLS harness (pinned to CPU $SERVER_CPU)"
for v in 1.3 1.2; do
  "${PIN_SERVER[@]}" "$HARNESS" --dir "$INST" --certs "$WORK/certs-ecdsa" --devices "$DEVICES" \
    --tls "$v" --handshakes 2000 >"$RUN/tls-harness-$v.txt" 2>&1 ||
    { cat "$RUN/tls-harness-$v.txt"; echo "TLS harness failed"; exit 1; }
done

# --- interleaved rounds --------------------------------------------------------------------
config_args() {  # name -> loadgen arguments
  local name=$1 args=() certs=ecdsa devices=$DEVICES
  [[ $name == *-rsa-* ]] && certs=rsa devices=$RSA_DEVICES
  [[ $name == *-tls12 ]] && args+=(--tls 1.2) || args+=(--tls 1.3)
  case $name in
    new-c*) args+=(--conn per-request --concurrency "$(sed 's/^new-c\([0-9]*\)-.*/\1/' <<<"$name")") ;;
    keepalive-c*) args+=(--conn keep-alive --requests-per-conn 100
                         --concurrency "$(sed 's/^keepalive-c\([0-9]*\)-.*/\1/' <<<"$name")") ;;
    open*) args+=(--conn per-request --rate "$(sed 's/^open\([0-9]*\)-.*/\1/' <<<"$name")") ;;
    *) echo "unknown configuration $name" >&2; return 1 ;;
  esac
  echo "--certs $WORK/certs-$certs --devices $devices ${args[*]}"
}
for c in $CONFIGS; do config_args "$c" >/dev/null; done

# Server order per round: the rows of a Williams square for three (a Latin square and its
# mirror). Over six rounds each server runs in each position twice and follows each other
# server equally often, so drift and carry-over (a warm cache, a busy disk) cancel.
ORDERS=("provgate nginx nginx-default" "nginx nginx-default provgate" "nginx-default provgate nginx"
        "nginx-default nginx provgate" "provgate nginx-default nginx" "nginx provgate nginx-default")
nservers=$(wc -w <<<"$SERVERS")
total=$((ROUNDS * $(wc -w <<<"$CONFIGS") * nservers))
n=0
log "$ROUNDS rounds x $(wc -w <<<"$CONFIGS") configurations x $nservers servers x ${DURATION}s"
for ((r = 1; r <= ROUNDS; r++)); do
  order=${ORDERS[(r - 1) % ${#ORDERS[@]}]}
  for c in $CONFIGS; do
    for server in $order; do
      n=$((n + 1))
      if [[ $server == nginx* ]]; then : >"$WORK/$server/logs/access.log"; fi
      # shellcheck disable=SC2046,SC2086
      # A run with errors still reports; the table shows its error count.
      "${PIN_LOADGEN[@]}" "$LOADGEN" --port "${PORT[$server]}" --cacert "$CA" $(config_args "$c") \
        --duration "$DURATION" --verify-status ${PIDS_ARGS[$server]} --label "$c/$server/$r" \
        --json "$RUN/$c.$server.$r.json" >"$RUN/$c.$server.$r.txt" || true
      echo "[$n/$total] $(head -1 "$RUN/$c.$server.$r.txt")"
    done
  done
done
{ echo "uptime: $(uptime)"; top -bn1 | head -15; } >"$RUN/load-after.txt"

python3 "$ROOT/scripts/bench_report.py" "$RUN" | tee "$RUN/report.md"
log "results in $RUN"

#!/usr/bin/env bash
# CTest smoke test of the benchmark tools (label "bench"): a fresh provgate demo, 20 bench
# devices, a few seconds of load in each connection mode, then the wrong-device check.
# Correctness only: zero errors and every foreign file refused; no timing is asserted.
# usage: smoke_test.sh PROVGATE CERTGEN LOADGEN PROVISION
set -euo pipefail
PG=$1 CERTGEN=$2 LOADGEN=$3 PROVISION=$4
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Port 0: the kernel picks a free port when the server binds; its log says which.
"$PG" demo init --dir "$tmp/demo" --port 0 >/dev/null
# A load generator re-fetches the same few devices far faster than phones do: lift the
# per-device rate limit so the smoke test measures serving, not the limiter.
printf '\n[defense]\ndevice_rate = 1000000\ndevice_burst = 1000000\n' >>"$tmp/demo/provgate.toml"
"$CERTGEN" --ca-cert "$tmp/demo/tls/ca.crt" --ca-key "$tmp/demo/tls/ca.key" --out "$tmp/certs" --count 20 --threads 2
"$PROVISION" -c "$tmp/demo/provgate.toml" --certs "$tmp/certs"

"$PG" -c "$tmp/demo/provgate.toml" serve >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
  grep -q "listener devices on" "$tmp/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log"; exit 1; }
  sleep 0.1
done
grep -q "listener devices on" "$tmp/server.log" || { echo "provgate did not start"; cat "$tmp/server.log"; exit 1; }
port=$(sed -n 's/.*listener devices on [^ ]*:\([0-9][0-9]*\) (.*/\1/p' "$tmp/server.log" | head -n1)
[[ -n $port ]] || { echo "no port in the server log"; cat "$tmp/server.log"; exit 1; }

common=(--port "$port" --cacert "$tmp/demo/tls/ca.crt" --certs "$tmp/certs" --server-pid "$server_pid")
# loadgen exits non-zero on any error or when nothing succeeded.
"$LOADGEN" "${common[@]}" --conn per-request --concurrency 4 --duration 2 --verify-status --label per-request
"$LOADGEN" "${common[@]}" --conn per-device --concurrency 4 --duration 1 --tls 1.2 --verify-status --label per-device
"$LOADGEN" "${common[@]}" --conn keep-alive --concurrency 2 --duration 1 --verify-status --label keep-alive
"$LOADGEN" "${common[@]}" --rate 50 --duration 1 --verify-status --label open-loop
# Every request for another device's file must be refused with 404.
"$LOADGEN" "${common[@]}" --wrong-device --concurrency 4 --count 40 --duration 5 --label wrong-device
# A non-loopback target is refused before any traffic.
if "$LOADGEN" --host 192.0.2.1 --port "$port" --cacert x --certs x >/dev/null 2>&1; then
  echo "loadgen accepted a non-loopback target"; exit 1
fi
echo "bench smoke test passed"

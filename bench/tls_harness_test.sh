#!/usr/bin/env bash
# CTest test of provgate_tls_harness (label "bench"): a fresh demo CA, a few ECDSA and RSA
# device certificates, 20 in-memory handshakes per mode for TLS 1.3 and 1.2, then devices of
# another CA, which every mode must refuse. Correctness only: exit status, never timing.
# usage: tls_harness_test.sh PROVGATE CERTGEN HARNESS
set -euo pipefail
PG=$1 CERTGEN=$2 HARNESS=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$PG" demo init --dir "$tmp/demo" >/dev/null
"$CERTGEN" --ca-cert "$tmp/demo/tls/ca.crt" --ca-key "$tmp/demo/tls/ca.key" --out "$tmp/ecdsa" --count 8 --threads 1
"$CERTGEN" --ca-cert "$tmp/demo/tls/ca.crt" --ca-key "$tmp/demo/tls/ca.key" --out "$tmp/rsa" --count 4 --threads 1 --key-type rsa

common=(--handshakes 20 --batches 2 --warmup 2)
"$HARNESS" --dir "$tmp/demo" --certs "$tmp/ecdsa" --tls 1.3 "${common[@]}" --json "$tmp/report.json"
grep -q '"provgate_minus_bare"' "$tmp/report.json"
"$HARNESS" --dir "$tmp/demo" --certs "$tmp/ecdsa" --tls 1.2 "${common[@]}"
"$HARNESS" --dir "$tmp/demo" --certs "$tmp/rsa" --tls 1.3 "${common[@]}" --clock wall
# Device certificates from another CA must fail every mode: the server refuses them.
"$PG" demo init --dir "$tmp/other" >/dev/null
"$CERTGEN" --ca-cert "$tmp/other/tls/ca.crt" --ca-key "$tmp/other/tls/ca.key" --out "$tmp/foreign" --count 2 --threads 1
for mode in bare provgate provgate-no-identity; do
  if "$HARNESS" --dir "$tmp/demo" --certs "$tmp/foreign" --modes "$mode" "${common[@]}" >"$tmp/out" 2>&1; then
    echo "harness accepted device certificates of another CA ($mode)"; exit 1
  fi
  grep -q "failed on the server" "$tmp/out" || { echo "unexpected failure ($mode):"; cat "$tmp/out"; exit 1; }
done
echo "tls harness test passed"

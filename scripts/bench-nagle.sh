#!/usr/bin/env bash
# First-byte latency for phones that keep Nagle's algorithm on: provgate and nginx (the
# tuned configuration of scripts/bench.sh) on one demo installation's certificates, the same
# Python client against both (bench/nagle_ttfb.py), one fresh connection per request.
# See docs/performance.md.
#
#   scripts/bench-nagle.sh [--build DIR] [--rounds N]   (default build-release, 8)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
BUILD=$ROOT/build-release ROUNDS=8
while (($#)); do
  case $1 in
    --build) BUILD=$(realpath -m "$2"); shift ;;
    --rounds) ROUNDS=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install nginx-light)"; exit 1; }
WORK=$(mktemp -d)
chmod 755 "$WORK"  # nginx's worker (nobody) reads www/ below it
PG_PID="" NGINX_PID=""
cleanup() { stop_pids "$PG_PID" "$NGINX_PID"; rm -rf "$WORK"; }
trap cleanup EXIT

read -r PG_PORT NGINX_PORT < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
INST=$WORK/provgate
"$BUILD/provgate" demo init --dir "$INST" --port "$PG_PORT" >/dev/null
printf '\n[defense]\ndevice_rate = 1000000\ndevice_burst = 1000000\n' >>"$INST/provgate.toml"
MAC=001565a1b2c3
CERT=$INST/devices/$MAC.crt KEY=$INST/devices/$MAC.key CA=$INST/tls/ca.crt
"$BUILD/provgate" -c "$INST/provgate.toml" serve >"$WORK/provgate.log" 2>&1 &
PG_PID=$!
wait_port "$PG_PORT" "$PG_PID" "$WORK/provgate.log"

NG=$WORK/nginx
mkdir -p "$NG/logs" "$NG/tmp" "$NG/www"
curl -sf --cacert "$CA" --cert "$CERT" --key "$KEY" -o "$NG/www/$MAC.cfg" \
  "https://localhost:$PG_PORT/$MAC.cfg"
chmod -R a+rX "$NG/www"
render_nginx_conf scripts/bench-nginx.conf.in tuned "$NG" "$NGINX_PORT" "$INST/tls" "$NG/www"
nginx -p "$NG" -c "$NG/nginx.conf" -g 'daemon off;' 2>"$WORK/nginx.stderr" &
NGINX_PID=$!
wait_port "$NGINX_PORT" "$NGINX_PID" "$WORK/nginx.stderr"

echo "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), provgate $(git -C "$ROOT" rev-parse --short HEAD), $ROUNDS requests each"
for server in provgate:$PG_PORT nginx:$NGINX_PORT; do
  python3 bench/nagle_ttfb.py --port "${server#*:}" --cacert "$CA" --cert "$CERT" --key "$KEY" \
    --path "/$MAC.cfg" --rounds "$ROUNDS" --label "${server%:*}"
done

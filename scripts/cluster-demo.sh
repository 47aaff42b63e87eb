#!/usr/bin/env bash
# provgate as a cluster on one machine: a PostgreSQL 15 primary with a synchronous streaming
# standby, three provgate nodes on it (one installation: shared master key, nonce key, TLS
# material and store; each node its own config, ports and audit file) and HAProxy in front,
# forwarding TCP with a PROXY protocol v2 header and checking each node's /readyz.
# Everything listens on 127.0.0.1 at free ports. See docs/cluster.md.
#
#   scripts/cluster-demo.sh [DIR]        starts in DIR (default: a new temp dir), prints how to
#                                        fetch a config through HAProxy, stops at Ctrl-C
#   scripts/cluster-demo.sh start DIR    starts and returns; writes DIR/env (ports, URLs, PIDs)
#   scripts/cluster-demo.sh stop DIR     stops everything DIR/env names (by PID) and removes
#                                        the PostgreSQL clusters
#
# Environment: PROVGATE_BIN (default build/provgate), PG_BIN (/usr/lib/postgresql/15/bin),
# HAPROXY (/usr/sbin/haproxy), CLUSTER_NODES (3), CLUSTER_DEFENSE (extra [defense] lines for
# every node, e.g. "device_burst = 1000").
# PostgreSQL refuses to run as root: under root its clusters belong to `nobody` and its
# commands run through `runuser -u nobody`, as in scripts/pg-test-server.sh. The provgate
# nodes and HAProxy run as the calling user.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROVGATE_BIN=${PROVGATE_BIN:-$ROOT/build/provgate}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
NODES=${CLUSTER_NODES:-3}
DB_USER=provgate

log() { printf '[cluster %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
  log "$*"
  exit 1
}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

free_ports() {
  /usr/bin/python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# Appends NAME=VALUE to DIR/env (read back by `stop`, the tests and the user).
# Values never hold a quote; the file is both sourceable and easy to parse.
put() { printf "%s='%s'\n" "$1" "$2" >>"$DIR/env"; }

# A throw-away cluster in $PGDIR/$1 on port $2 with the given extra server options.
pg_start() {
  local name=$1 port=$2 opts=$3
  as_pg "$PG_BIN/pg_ctl" -D "$PGDIR/$name" -l "$PGDIR/logs/$name.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PGDIR/socket -c max_connections=200 $opts" \
    start >/dev/null || {
    as_pg cat "$PGDIR/logs/$name.log" >&2
    die "PostgreSQL $name did not start"
  }
}

start_postgres() {
  [ -x "$PG_BIN/initdb" ] || die "$PG_BIN/initdb not found; install postgresql-15 (scripts/install-deps.sh)"
  # $PGDIR stays the invoking user's: what runs as nobody writes only into the folders below,
  # and this shell never writes through a path nobody could replace with a symbolic link.
  mkdir -m 0700 "$PGDIR/primary" "$PGDIR/standby"
  mkdir -m 0755 "$PGDIR/socket" "$PGDIR/logs"
  [ "$(id -u)" -ne 0 ] || chown nobody "$PGDIR/primary" "$PGDIR/standby" "$PGDIR/socket" "$PGDIR/logs"
  as_pg "$PG_BIN/initdb" -D "$PGDIR/primary" -U "$DB_USER" -A trust -E UTF8 --no-locale \
    >"$PGDIR/initdb.log" 2>&1 || {
    cat "$PGDIR/initdb.log" >&2
    die "initdb failed"
  }
  # Synchronous replication: a commit returns once the standby has flushed it, so a
  # promoted standby holds every transaction a node saw committed.
  pg_start primary "$PG_PRIMARY_PORT" "-c wal_level=replica -c max_wal_senders=5 -c synchronous_standby_names=standby1"
  as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U "$DB_USER" -D "$PGDIR/standby" \
    -X stream >/dev/null 2>&1 || die "pg_basebackup failed"
  as_pg touch "$PGDIR/standby/standby.signal"
  as_pg tee -a "$PGDIR/standby/postgresql.auto.conf" >/dev/null <<EOF
primary_conninfo = 'host=127.0.0.1 port=$PG_PRIMARY_PORT user=$DB_USER application_name=standby1'
EOF
  pg_start standby "$PG_STANDBY_PORT" "-c hot_standby=on"
  local i
  for i in $(seq 100); do
    [ "$(psql -X -At "postgresql://$DB_USER@127.0.0.1:$PG_PRIMARY_PORT/postgres" \
      -c "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = sync ] && return 0
    sleep 0.1
  done
  die "the standby did not become a synchronous replica"
}

# One installation (demo init: CA, certificates, tenant, devices, admin key) whose config
# becomes node1.toml ... nodeN.toml, each with its own ports and audit file.
make_nodes() {
  local inst=$DIR/provgate i
  "$PROVGATE_BIN" demo init --dir "$inst" --port "$HAPROXY_PORT" --admin-port "${ADMIN_PORTS[0]}" \
    --store-url "$STORE_URL" >"$DIR/demo-init.log" 2>&1 || {
    cat "$DIR/demo-init.log" >&2
    die "provgate demo init failed"
  }
  for i in $(seq "$NODES"); do
    # provisioning_url keeps HAProxy's port: that is the address devices use.
    sed -e "/^\[\[listener\]\]$/,/^\[\[admin\]\]$/ s/^port = $HAPROXY_PORT\$/port = ${NODE_PORTS[i - 1]}/" \
      -e "s/^port = ${ADMIN_PORTS[0]}\$/port = ${ADMIN_PORTS[i - 1]}/" \
      -e "s/^file = \"audit.log\"\$/file = \"audit-node$i.log\"/" \
      -e 's/^client_cert = "required"$/client_cert = "required"\nproxy_protocol_from = ["127.0.0.1\/32"]/' \
      -e 's/^\[server\]$/[server]\nthreads = 1/' \
      -e 's/^\[audit\]$/[audit]\nstore_copy_delay_ms = 1000/' \
      -e 's/^\[store\]$/[store]\ncache_devices = 100000/' \
      "$inst/provgate.toml" >"$inst/node$i.toml"
    # A second device listener for phones without a usable certificate (URL token, digest).
    cat >>"$inst/node$i.toml" <<EOF

[[listener]]
name = "optional-cert"
bind = "127.0.0.1"
port = ${OPTIONAL_PORTS[i - 1]}
cert = "tls/server.crt"
key = "tls/server.key"
client_cert = "optional"
trust_anchors = ["tls/ca.crt"]
methods = ["client-cert", "token", "digest"]
proxy_protocol_from = ["127.0.0.1/32"]
EOF
    printf '\n[defense]\nnonce_key_file = "nonce.key"\n%b\n' "${CLUSTER_DEFENSE:-}" >>"$inst/node$i.toml"
  done
}

start_node() {
  local i=$1 inst=$DIR/provgate
  "$PROVGATE_BIN" -c "$inst/node$i.toml" serve >>"$DIR/node$i.log" 2>&1 &
  echo $! >"$DIR/node$i.pid"
}

wait_ready() {
  local i=$1
  for _ in $(seq 300); do
    curl -sf --cacert "$DIR/provgate/tls/ca.crt" "https://localhost:${ADMIN_PORTS[i - 1]}/readyz" >/dev/null && return 0
    kill -0 "$(cat "$DIR/node$i.pid")" 2>/dev/null || {
      tail -20 "$DIR/node$i.log" >&2
      die "node$i exited"
    }
    sleep 0.1
  done
  die "node$i not ready"
}

# A HAProxy backend NAME over PORTS (one per node, in node order), each node checked on its
# admin port's /readyz. send-proxy-v2: the node learns the client's address; the health check
# goes to the admin port, which takes no PROXY header (a check to another port sends none).
haproxy_backend() {
  local name=$1 i
  shift
  local ports=("$@")
  cat <<EOF

backend $name
  balance roundrobin
  option httpchk
  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost
  http-check expect status 200
  default-server inter 500ms fastinter 200ms downinter 500ms fall 2 rise 2 check-ssl verify none
EOF
  for i in $(seq "$NODES"); do
    echo "  server node$i 127.0.0.1:${ports[i - 1]} send-proxy-v2 check port ${ADMIN_PORTS[i - 1]}"
  done
}

start_haproxy() {
  {
    cat <<EOF
global
  maxconn 4096
  log stderr format short local0 notice

defaults
  mode tcp
  log global
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout check 2s
  retries 2
  option redispatch

frontend devices
  bind 127.0.0.1:$HAPROXY_PORT
  default_backend provgate

frontend devices-optional-cert
  bind 127.0.0.1:$HAPROXY_OPTIONAL_PORT
  default_backend provgate-optional-cert
EOF
    haproxy_backend provgate "${NODE_PORTS[@]}"
    haproxy_backend provgate-optional-cert "${OPTIONAL_PORTS[@]}"
  } >"$DIR/haproxy.cfg"
  "$HAPROXY" -c -q -f "$DIR/haproxy.cfg" || die "haproxy.cfg rejected"
  "$HAPROXY" -db -f "$DIR/haproxy.cfg" >>"$DIR/haproxy.log" 2>&1 &
  echo $! >"$DIR/haproxy.pid"
}

start() {
  DIR=$1
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  [ ! -e "$DIR/env" ] || die "$DIR/env exists: stop that cluster first ($0 stop $DIR)"
  [ -x "$PROVGATE_BIN" ] || die "$PROVGATE_BIN not found (build it, or set PROVGATE_BIN)"
  [ -x "$HAPROXY" ] || die "$HAPROXY not found; install haproxy (scripts/install-deps.sh)"
  local ports i
  read -r -a ports <<<"$(free_ports $((4 + 3 * NODES)))"
  PG_PRIMARY_PORT=${ports[0]} PG_STANDBY_PORT=${ports[1]} HAPROXY_PORT=${ports[2]} HAPROXY_OPTIONAL_PORT=${ports[3]}
  NODE_PORTS=("${ports[@]:4:NODES}") ADMIN_PORTS=("${ports[@]:4+NODES:NODES}")
  OPTIONAL_PORTS=("${ports[@]:4+2*NODES:NODES}")
  # Both servers, primary first: libpq tries them in order and keeps the one that accepts
  # writes, so after a promotion the nodes' pools reconnect to the standby by themselves.
  STORE_URL="postgresql://$DB_USER@127.0.0.1:$PG_PRIMARY_PORT,127.0.0.1:$PG_STANDBY_PORT/postgres?target_session_attrs=read-write&connect_timeout=2"
  # PostgreSQL's clusters live in a directory of their own under /tmp: DIR's parents may be
  # closed to `nobody` (pytest's temp dirs are 0700).
  PGDIR=$(mktemp -d /tmp/provgate-cluster-pg.XXXXXX)
  chmod 0755 "$PGDIR"
  : >"$DIR/env"
  put CLUSTER_DIR "$DIR"
  put PGDIR "$PGDIR"
  put PG_BIN "$PG_BIN"
  put PG_PRIMARY_PORT "$PG_PRIMARY_PORT"
  put PG_STANDBY_PORT "$PG_STANDBY_PORT"
  put PG_PRIMARY_DATA "$PGDIR/primary"
  put PG_STANDBY_DATA "$PGDIR/standby"
  put PG_PRIMARY_URL "postgresql://$DB_USER@127.0.0.1:$PG_PRIMARY_PORT/postgres"
  put PG_STANDBY_URL "postgresql://$DB_USER@127.0.0.1:$PG_STANDBY_PORT/postgres"
  put STORE_URL "$STORE_URL"
  put HAPROXY_PORT "$HAPROXY_PORT"
  put HAPROXY_OPTIONAL_PORT "$HAPROXY_OPTIONAL_PORT"
  put NODES "$NODES"
  put INSTALL "$DIR/provgate"
  for i in $(seq "$NODES"); do
    put "NODE${i}_PORT" "${NODE_PORTS[i - 1]}"
    put "NODE${i}_ADMIN_PORT" "${ADMIN_PORTS[i - 1]}"
    put "NODE${i}_OPTIONAL_PORT" "${OPTIONAL_PORTS[i - 1]}"
    put "NODE${i}_CONFIG" "$DIR/provgate/node$i.toml"
    put "NODE${i}_AUDIT" "$DIR/provgate/audit-node$i.log"
  done
  log "PostgreSQL primary :$PG_PRIMARY_PORT, synchronous standby :$PG_STANDBY_PORT"
  start_postgres
  log "provgate installation in $DIR/provgate"
  make_nodes
  for i in $(seq "$NODES"); do start_node "$i"; done
  for i in $(seq "$NODES"); do wait_ready "$i"; done
  log "nodes ready on :${NODE_PORTS[*]} (admin :${ADMIN_PORTS[*]})"
  start_haproxy
  for i in $(seq 101); do
    ((i <= 100)) || die "HAProxy does not listen on :$HAPROXY_PORT ($DIR/haproxy.log)"
    kill -0 "$(cat "$DIR/haproxy.pid")" 2>/dev/null || {
      cat "$DIR/haproxy.log" >&2
      die "HAProxy exited"
    }
    (: </dev/tcp/127.0.0.1/"$HAPROXY_PORT") 2>/dev/null && break
    sleep 0.1
  done
  log "HAProxy on :$HAPROXY_PORT (client certificate required) and :$HAPROXY_OPTIONAL_PORT (optional: token, digest), PROXY v2 to the nodes, /readyz checks"
}

# Stops a process named by DIR/NAME.pid (SIGTERM, then SIGKILL after 10 s).
stop_pid() {
  local f=$DIR/$1.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

stop() {
  DIR=$(cd "$1" && pwd)
  [ -f "$DIR/env" ] || return 0
  local i name
  PGDIR=$(sed -n "s/^PGDIR='\\(.*\\)'$/\\1/p" "$DIR/env")
  stop_pid haproxy
  for i in $(seq "$(sed -n "s/^NODES='\\(.*\\)'$/\\1/p" "$DIR/env")"); do stop_pid "node$i"; done
  for name in primary standby; do
    if [ -d "$PGDIR/$name" ]; then
      as_pg "$PG_BIN/pg_ctl" -D "$PGDIR/$name" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  if [[ $PGDIR == /tmp/provgate-cluster-pg.* ]]; then rm -rf "$PGDIR"; fi
  rm -f "$DIR/env"
}

usage() {
  sed -n '2,19p' "$0" >&2
  exit 2
}

case "${1:-}" in
  start)
    [ $# -eq 2 ] || usage
    # Whatever fails on the way stops what had started.
    target=$2
    trap 'stop "$target"' EXIT
    start "$target"
    trap - EXIT
    ;;
  stop)
    [ $# -eq 2 ] || usage
    stop "$2"
    ;;
  -h | --help) usage ;;
  *)
    [ $# -le 1 ] || usage
    dir=${1:-$(mktemp -d /tmp/provgate-cluster.XXXXXX)}
    sleeper=""
    trap '[ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null; stop "$dir"; log stopped' EXIT
    trap 'exit 0' INT TERM
    start "$dir"
    inst=$dir/provgate
    port=$(sed -n "s/^HAPROXY_PORT='\\(.*\\)'$/\\1/p" "$dir/env")
    cat <<EOF

provgate cluster running in $dir (ports and URLs: $dir/env). Fetch a config through HAProxy:

  curl --cacert $inst/tls/ca.crt --cert $inst/devices/001565a1b2c3.crt \\
       --key $inst/devices/001565a1b2c3.key https://localhost:$port/001565a1b2c3.cfg

Audit files: $inst/audit-node*.log; node logs: $dir/node*.log; HAProxy: $dir/haproxy.log.
Ctrl-C stops everything.
EOF
    # A wait the INT/TERM trap interrupts at once (a foreground sleep would delay it).
    sleep infinity &
    sleeper=$!
    wait "$sleeper"
    ;;
esac

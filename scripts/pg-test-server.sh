#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server for the tests: Debian's binaries
# (/usr/lib/postgresql/15/bin), a cluster in a fresh temp directory, listening only on
# 127.0.0.1 at a free port, trust authentication for the one local user. PostgreSQL refuses
# to run as root, so under root the cluster belongs to `nobody` and every server command runs
# through `runuser -u nobody`; otherwise it runs as the current user.
#
#   scripts/pg-test-server.sh start       prints two lines: the connection URL, the directory
#   scripts/pg-test-server.sh stop DIR    stops that cluster and removes its directory
#   scripts/pg-test-server.sh run CMD...  starts one, runs CMD with PROVGATE_TEST_PG_URL set,
#                                         stops it whatever CMD returns; exits with CMD's status
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DB_USER=provgate

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  [ -x "$PG_BIN/initdb" ] || {
    echo "pg-test-server: $PG_BIN/initdb not found; install postgresql-15 (scripts/install-deps.sh)" >&2
    exit 1
  }
  local dir port
  dir=$(mktemp -d /tmp/provgate-pg.XXXXXX)
  chmod 0755 "$dir"
  mkdir "$dir/data" "$dir/socket"
  [ "$(id -u)" -ne 0 ] || chown nobody "$dir/data" "$dir/socket"
  as_owner "$PG_BIN/initdb" -D "$dir/data" -U "$DB_USER" -A trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  # A port can be taken between choosing and binding: try a few.
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/socket/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/socket -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
      echo "postgresql://$DB_USER@127.0.0.1:$port/postgres"
      echo "$dir"
      return 0
    fi
  done
  cat "$dir/socket/server.log" >&2 || true
  exit 1
}

stop() {
  local dir=$1
  [ -d "$dir/data" ] || return 0
  as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "$2" ;;
  run)
    shift
    out=$(start)
    url=$(sed -n 1p <<<"$out")
    dir=$(sed -n 2p <<<"$out")
    trap 'stop "$dir"' EXIT
    echo "pg-test-server: $url ($dir)" >&2
    set +e
    PROVGATE_TEST_PG_URL=$url "$@"
    rc=$?
    set -e
    exit $rc
    ;;
  *)
    echo "usage: $0 start | stop DIR | run CMD..." >&2
    exit 2
    ;;
esac

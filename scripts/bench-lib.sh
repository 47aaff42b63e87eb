# shellcheck shell=bash
# Shared by scripts/bench.sh and scripts/bench-storm.sh: starting and stopping the servers
# they run. Sourced, not executed.

# Stops the processes given by PID (only those the script started): TERM, up to 10 s to
# exit, then KILL.
stop_pids() {
  for pid in "$@"; do
    [[ -n $pid ]] || continue
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# Waits up to 60 s until a server accepts on 127.0.0.1:PORT; prints its log and fails if
# it exits first or never listens.
wait_port() {  # port pid log
  for _ in $(seq 600); do
    kill -0 "$2" 2>/dev/null || { cat "$3"; return 1; }
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start"; cat "$3"; return 1
}

# Writes PREFIX/nginx.conf from TEMPLATE (scripts/bench-nginx.conf.in) with one of two TLS
# session settings:
#   tuned    Mozilla's "intermediate" guideline for nginx 1.22, as a careful operator runs
#            it: a shared session cache and no stateless tickets. The anchor.
#   default  nginx's own defaults (ssl_session_cache none, ssl_session_tickets on): every
#            TLS 1.3 handshake sends two stateless tickets, each sealing the session and the
#            client certificate in it.
# Both verify client certificates alike and serve a device only its own file from WWW.
render_nginx_conf() {  # template tuned|default prefix port tls-dir www-dir
  local conf session
  case $2 in
    tuned) session='ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;' ;;
    default) session='# TLS sessions: nginx defaults (no shared cache, stateless tickets on).' ;;
    *) echo "render_nginx_conf: unknown session settings '$2'" >&2; return 1 ;;
  esac
  conf=$(<"$1")
  conf=${conf//@SESSION@/"$session"}
  conf=${conf//@PREFIX@/"$3"}
  conf=${conf//@PORT@/"$4"}
  conf=${conf//@TLS@/"$5"}
  conf=${conf//@WWW@/"$6"}
  printf '%s\n' "$conf" >"$3/nginx.conf"
}

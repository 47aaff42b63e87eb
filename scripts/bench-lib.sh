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

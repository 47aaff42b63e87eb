#!/usr/bin/env bash
# The cluster tests (tests/cluster/, docs/cluster.md): three provgate nodes on a PostgreSQL
# primary with a synchronous standby, behind HAProxy, started by scripts/cluster-demo.sh.
#
#   scripts/test-cluster.sh [PYTEST ARGS...]
#
# PROVGATE_BIN names the build under test (default build/provgate). Prints the wall time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PROVGATE_BIN=${PROVGATE_BIN:-$ROOT/build/provgate}
[ -x "$PROVGATE_BIN" ] || { echo "test-cluster: $PROVGATE_BIN not found (build it, or set PROVGATE_BIN)" >&2; exit 1; }
start=$(date +%s)
rc=0
/usr/bin/python3 -m pytest -q -p no:cacheprovider "$ROOT/tests/cluster" "$@" || rc=$?
echo "test-cluster: $(( $(date +%s) - start )) s wall time" >&2
exit $rc

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
# A temp dir of its own: pytest's shared /tmp/pytest-of-USER keeps only the last three
# runs' directories, and another run could remove this one's cluster while it runs.
base=$(mktemp -d /tmp/provgate-test-cluster.XXXXXX)
trap 'rm -rf "$base"' EXIT
start=$(date +%s)
rc=0
/usr/bin/python3 -m pytest -q -p no:cacheprovider -rxs --basetemp="$base/pytest" "$ROOT/tests/cluster" "$@" || rc=$?
echo "test-cluster: $(($(date +%s) - start)) s wall time" >&2
exit $rc

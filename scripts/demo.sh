#!/usr/bin/env bash
# Installs dependencies, builds provgate, creates the demo (SQLite, demo CA and certificates,
# a demo tenant with devices) in ./provgate-demo on first run, and serves it on port 8443.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# Its own folder (build/), apart from scripts/test.sh's: see scripts/configure.sh.
./scripts/configure.sh demo build
cmake --build build --target provgate
./build/provgate demo init --dir provgate-demo --port "${PORT:-8443}"
echo "Serving the demo now (Ctrl-C stops it):"
exec ./build/provgate -c provgate-demo/provgate.toml serve

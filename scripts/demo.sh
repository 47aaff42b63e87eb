#!/usr/bin/env bash
# Installs dependencies, builds provgate, creates the demo (SQLite, demo CA and certificates,
# a demo tenant with devices) in ./provgate-demo on first run, and serves it on port 8443.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROVGATE_TESTS=OFF >/dev/null
cmake --build build --target provgate
./build/provgate demo init --dir provgate-demo --port "${PORT:-8443}"
exec ./build/provgate -c provgate-demo/provgate.toml serve

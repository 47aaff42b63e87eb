#!/usr/bin/env bash
# Installs everything provgate needs to build, run and test, from Debian 12 packages.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev
  libssl-dev openssl libsqlite3-dev sqlite3 libsodium-dev
  libpq-dev postgresql-15
  libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libjemalloc-dev libgtest-dev libexpat1-dev libqrencode-dev
  clang libclang-rt-14-dev clang-format clang-tidy haproxy
  python3 python3-pytest python3-requests curl testssl.sh
  python3-prometheus-client python3-jsonschema sqlmap
  chromium chromium-driver python3-selenium zbar-tools oathtool
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

#!/usr/bin/env bash
# Installs every build and test dependency of hnsproxy from Debian packages.
# Idempotent: packages already present are left alone. Must run as root (or via sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libboost-dev
  nlohmann-json3-dev libfmt-dev libspdlog-dev catch2 libssl-dev libyaml-cpp-dev
  g++-mingw-w64-x86-64-posix wine wine64 dpkg-dev zip
  prometheus clang-16 libclang-rt-16-dev clang-tidy-16 cppcheck
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Compiles the Windows-only code (and the portable libraries it sits on) with MinGW-w64, so a
# Windows-only mistake is caught on Linux. The include folder holds symlinks to just the
# header-only libraries needed (nlohmann/json), never the host's whole include folder.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-mingw
mkdir -p "$out/include"
ln -sfn /usr/include/nlohmann "$out/include/nlohmann"
cxx=x86_64-w64-mingw32-g++-posix
flags=(-std=c++20 -Wall -Wextra -Wpedantic -Werror -I. -I"$out/include")
for src in hns/hcn_api.cc proxy/windows_service.cc policy/ip.cc policy/capabilities.cc policy/result.cc policy/model.cc; do
  obj="$out/$(echo "$src" | tr / _).o"
  "$cxx" "${flags[@]}" -c "$src" -o "$obj"
  echo "mingw: compiled $src"
done

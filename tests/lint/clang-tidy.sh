#!/usr/bin/env bash
# clang-tidy (bugprone-*, cert-*, concurrency-*; .clang-tidy) over the libraries' sources, with the
# compile commands of a clang build (default: build-fuzz, which tests/fuzz/run.sh configures and
# builds). A file is checked again only when it, a project header it includes (from the build's
# dependency records), .clang-tidy or clang-tidy's version changed since it last passed
# (~/.cache/hnsproxy/clang-tidy). Fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
tidy=$(command -v clang-tidy-16 || echo clang-tidy)
cache=${HNSPROXY_TIDY_CACHE:-$HOME/.cache/hnsproxy/clang-tidy}
mkdir -p "$cache"
common=$( ("$tidy" --version; cat .clang-tidy) | sha256sum | cut -c1-16)
todo=()
for f in policy/*.cc hns/*.cc watch/*.cc proxy/*.cc; do
  grep -q "\"file\": \"[^\"]*/$f\"" "$build/compile_commands.json" || continue  # Windows-only sources
  dir=${f%%/*}
  obj="$dir/CMakeFiles/hnsproxy_$dir.dir/$(basename "$f").o"
  headers=$(ninja -C "$build" -t deps "$obj" 2>/dev/null | sed -n 's#^ *\.\./\(\(policy\|hns\|watch\|proxy\)/.*\.h\)$#\1#p' | sort || true)
  [ -n "$headers" ] || headers=$(ls policy/*.h hns/*.h watch/*.h proxy/*.h)  # not built yet: every header
  key=$( (echo "$common"; cat "$f"; for h in $headers; do echo "$h"; cat "$h"; done) | sha256sum | cut -c1-24)
  [ -e "$cache/$key" ] || todo+=("$f:$key")
done
echo "clang-tidy: ${#todo[@]} file(s) to check"
[ ${#todo[@]} -gt 0 ] || exit 0
printf '%s\n' "${todo[@]}" | xargs -P "$(nproc)" -I{} sh -c '
  f=${1%%:*}; key=${1##*:}
  if out=$("$4" -p "$2" --quiet "$f" 2>/dev/null); then touch "$3/$key"; else echo "$out"; exit 1; fi' _ {} "$build" "$cache" "$tidy"

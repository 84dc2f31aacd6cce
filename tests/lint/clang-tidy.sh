#!/usr/bin/env bash
# clang-tidy (bugprone-*, cert-*, concurrency-*; .clang-tidy) over the libraries' sources and the
# project headers they include, with the compile commands of the clang build (default:
# build-clang, tests/builds.sh). Fails on any finding.
#
# The sources are checked in the batches the build compiles them in (CMake's unity build): one
# clang-tidy run per batch parses Asio, Beast, nlohmann/json and spdlog once, and the checks walk
# their declarations once, instead of once per file (10.5 minutes for a cold run per file, under 3
# per batch, on 2 cores). Each batch is a file under build-clang/tidy/ that includes its sources;
# their findings are reported under their own names (.clang-tidy's header filter).
# A batch is checked again only when one of its sources, a project header they include (from the
# build's dependency records), .clang-tidy or clang-tidy's version changed since it last passed
# (~/.cache/hnsproxy/clang-tidy).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-clang}
tidy=$(command -v clang-tidy-16 || echo clang-tidy)
cache=${HNSPROXY_TIDY_CACHE:-$HOME/.cache/hnsproxy/clang-tidy}
mkdir -p "$cache" "$build/tidy"
[ -f "$build/build.ninja" ] || { echo "clang-tidy: $build is not configured (tests/run-all.sh clang)" >&2; exit 1; }
# The batches' objects exist once built: their dependency records say which headers each includes.
source tests/builds.sh
cmake --build "$build" -j "$(nproc)" --target hnsproxy_policy hnsproxy_watch hnsproxy_hns hnsproxy_hns_reconcile hnsproxy_hns_sim hnsproxy_hns_tools hnsproxy_proxy >/dev/null

# The batches: the compile database names them (Unity/unity_N_cxx.cxx); each gets a file of its
# own here whose includes say that including a source is meant, with the batch's command.
awk -v dir="$build/tidy" -v db="$build/tidy/compile_commands.json" -v root="$PWD" '
  function flush(   line, src, obj, out, cmd, name, members) {
    if (file == "" || file !~ /\/Unity\/unity_[0-9]+_cxx\.cxx$/) { file = ""; return }
    obj = command; sub(/.* -o /, "", obj); sub(/ .*/, "", obj)
    name = obj; gsub(/[^A-Za-z0-9_]/, "_", name); out = dir "/" name ".cc"
    printf "" > out
    while ((getline line < file) > 0) {
      if (line !~ /^#include "/) continue
      src = line; sub(/^#include "/, "", src); sub(/"$/, "", src)
      if (index(src, root "/") != 1 || substr(src, length(root) + 2) !~ /^(policy|hns|watch|proxy)\/[a-z0-9_]+\.cc$/) continue
      printf "#include \"%s\"  // NOLINT(bugprone-suspicious-include): a batch of the build\n", src > out
      print obj "\t" src > (dir "/batches.tsv"); members++
    }
    close(file); close(out); file = ""
    if (!members) return
    cmd = command; sub(/ -c [^ ]*$/, " -c " out, cmd)
    printf "%s{\"directory\": \"%s\", \"command\": \"%s\", \"file\": \"%s\"}", (n++ ? ",\n" : "[\n"), wd, cmd, out > db
  }
  /"directory":/ { flush(); wd = $0; sub(/.*"directory": "/, "", wd); sub(/",?$/, "", wd) }
  /"command":/ { command = $0; sub(/.*"command": "/, "", command); sub(/",?$/, "", command) }
  /"file":/ { file = $0; sub(/.*"file": "/, "", file); sub(/",?$/, "", file) }
  END { flush(); print "\n]" > db }
' "$build/compile_commands.json"

common=$( ("$tidy" --version; cat .clang-tidy) | sha256sum | cut -c1-16)
todo=()
for obj in $(cut -f1 "$build/tidy/batches.tsv" | sort -u); do
  sources=$(awk -F'\t' -v o="$obj" '$1 == o { print $2 }' "$build/tidy/batches.tsv")
  headers=$(ninja -C "$build" -t deps "$obj" 2>/dev/null |
    sed -n "s#^ *\\($PWD/\\|\\.\\./\\)\\(\\(policy\\|hns\\|watch\\|proxy\\)/.*\\.h\\)\$#\\2#p" | sort -u || true)
  [ -n "$headers" ] || headers=$(ls policy/*.h hns/*.h hns/*/*.h watch/*.h proxy/*.h)  # no record: every header
  key=$( (echo "$common"; for f in $sources $headers; do echo "$f"; cat "$f"; done) | sha256sum | cut -c1-24)
  name=$(echo "$obj" | sed 's/[^A-Za-z0-9_]/_/g')
  [ -e "$cache/$key" ] || todo+=("$build/tidy/$name.cc:$key")
done
echo "clang-tidy: ${#todo[@]} batch(es) to check"
[ ${#todo[@]} -gt 0 ] || exit 0
printf '%s\n' "${todo[@]}" | xargs -P "$(nproc)" -I{} sh -c '
  f=${1%%:*}; key=${1##*:}
  if out=$("$4" -p "$2" --quiet "$f" 2>/dev/null); then touch "$3/$key"; else echo "$out"; exit 1; fi' _ {} "$build/tidy" "$cache" "$tidy"

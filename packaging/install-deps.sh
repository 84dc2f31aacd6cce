#!/usr/bin/env bash
# Installs hnsproxy's build and test dependencies from Debian packages, by profile:
#   packaging/install-deps.sh example   what building and running the example needs (examples/run.sh),
#                                       and ccache, so the test command reuses the example's objects
#   packaging/install-deps.sh test      everything the test command uses (tests/run-all.sh): the
#                                       example's packages plus Catch2, the MinGW-w64 cross
#                                       compiler, wine, clang-16 (sanitizers, libFuzzer, clang-tidy),
#                                       cppcheck, prometheus (promtool), dpkg-dev and zip
# Idempotent: packages already present are left alone (no apt call at all when none is missing).
# Must run as root (or via sudo).
set -euo pipefail

profile="${1:-test}"
example=(
  build-essential cmake ninja-build pkg-config ccache
  libboost-dev libboost-program-options-dev
  nlohmann-json3-dev libfmt-dev libspdlog-dev libssl-dev libyaml-cpp-dev
)
case "$profile" in
  example) packages=("${example[@]}") ;;
  test)
    packages=("${example[@]}"
      catch2
      g++-mingw-w64-x86-64-posix wine wine64 dpkg-dev zip
      prometheus clang-16 libclang-rt-16-dev clang-tidy-16 cppcheck)
    ;;
  *) echo "install-deps: unknown profile '$profile' (example or test)" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: the ${#packages[@]} packages of profile '$profile' are installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps ($profile): installing ${missing[*]}"
# apt's own progress, one line per package, so a slow mirror is visible rather than silent.
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
  -o Dpkg::Progress-Fancy=0 -o APT::Color=0 "${missing[@]}"

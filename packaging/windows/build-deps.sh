#!/usr/bin/env bash
# Cross-builds, for MinGW-w64, the libraries Debian ships no MinGW package for — OpenSSL,
# yaml-cpp and Boost.Program_options (hnsdiag.exe's command line) — from Debian's own source packages (the same versions as the Linux build's -dev
# packages), as static libraries, into a prefix OUTSIDE the checkout. The prefix is keyed by its
# inputs (this script, the cross compiler's version, the source versions) and reused as long as
# they are unchanged, so CI pays the ~3 minutes once per machine.
#
# The header-only dependencies (Boost.Asio/Beast, nlohmann/json, fmt and spdlog in header-only
# mode) are not copied: the prefix gets an include folder of symlinks to just those libraries.
#
# Prints the prefix on its last line. Usage: packaging/windows/build-deps.sh [--print-prefix]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${HNSPROXY_MINGW_DEPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hnsproxy/mingw-deps}
cc=x86_64-w64-mingw32-gcc-posix
jobs=$(nproc)

# The key: the recipe (this script from the "recipe" line on), the compiler, and what the Linux
# build links (so a security update of libssl-dev rebuilds this too).
installed() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo none; }
key=$( { sed -n '/^# >>> recipe/,$p' "$0"; "$cc" --version | head -1; echo "libssl-dev=$(installed libssl-dev) libyaml-cpp-dev=$(installed libyaml-cpp-dev) libboost1.74-dev=$(installed libboost1.74-dev)"; } |
  sha256sum | cut -c1-16)
prefix="$cache_root/$key"

if [ "${1:-}" = "--print-prefix" ]; then echo "$prefix"; exit 0; fi
if [ -f "$prefix/.complete" ]; then
  echo "build-deps: reusing $prefix ($(cat "$prefix/SOURCES"))"
  echo "$prefix"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# A deb-src entry mirroring the system's deb entries, so `apt-get source` can fetch the sources.
src_list=/etc/apt/sources.list.d/hnsproxy-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  echo "build-deps: adding a deb-src entry ($src_list)" >&2
  sed -n '/^Types:/,$p' /etc/apt/sources.list.d/debian.sources | sed 's/^Types: deb$/Types: deb-src/' |
    $SUDO tee "$src_list" >/dev/null
  $SUDO apt-get update -q >/dev/null
fi
# Fetches and unpacks a source package: the newest version the archive offers whose files can
# all be downloaded (the Linux build's exact version may have left the archive; a mirror may
# lack a file). Prints the version fetched.
fetch_source() {
  local v
  for v in $(apt-cache showsrc "$1" 2>/dev/null | awk '/^Version:/ {print $2}' | sort -rV); do
    rm -rf ./"$1"_* "src-$1"
    if apt-get source -q --download-only "$1=$v" >"fetch-$1.log" 2>&1 &&
       dpkg-source -x ./"$1"_*.dsc "src-$1" >>"fetch-$1.log" 2>&1; then
      echo "$v"
      return 0
    fi
    echo "build-deps: $1 $v could not be fetched, trying an older version" >&2
  done
  echo "build-deps: no source package $1 could be fetched (is the deb-src entry reachable?)" >&2
  return 1
}

# Boost.Program_options' sources alone, from Debian's boost source package (the one the installed
# headers come from): its upstream tarball is large, so only that library's sources are unpacked
# (the headers are the installed ones, the same version). Prints the version fetched.
fetch_program_options() {
  local pkg v
  pkg=$(dpkg-query -W -f='${source:Package}' libboost1.74-dev)
  for v in $(apt-cache showsrc "$pkg" 2>/dev/null | awk '/^Version:/ {print $2}' | sort -rV); do
    rm -rf ./"$pkg"_* src-boost
    if apt-get source -q --download-only "$pkg=$v" >"fetch-$pkg.log" 2>&1; then
      mkdir -p src-boost
      if tar -xf ./"$pkg"_*.orig.tar.* -C src-boost --strip-components=1 --wildcards '*/libs/program_options/src/*' \
        >>"fetch-$pkg.log" 2>&1 && ls src-boost/libs/program_options/src/*.cpp >/dev/null 2>&1; then
        echo "$v"
        return 0
      fi
    fi
    echo "build-deps: $pkg $v could not be fetched, trying an older version" >&2
  done
  echo "build-deps: no source package $pkg could be fetched (is the deb-src entry reachable?)" >&2
  return 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/hnsproxy-mingw-deps.XXXXXX")
staging="$prefix.partial.$$"
trap 'rm -rf "$work" "$staging"' EXIT
mkdir -p "$staging/include" "$staging/lib"
started=$SECONDS
cd "$work"

# >>> recipe: everything below decides what the prefix holds.
ssl_version=$(fetch_source openssl)
yaml_version=$(fetch_source yaml-cpp)
po_version=$(fetch_program_options)
echo "build-deps: sources: openssl $ssl_version, yaml-cpp $yaml_version, boost (program_options) $po_version"

echo "build-deps: OpenSSL (static, mingw64)"
(
  cd src-openssl
  # Only what a TLS 1.2/1.3 client with X.509 verification, PEM keys (RSA, EC, Ed25519) and the
  # ciphers API servers negotiate (AES-GCM, ChaCha20-Poly1305, ECDHE/DHE) needs: the algorithms,
  # protocols and tools nothing here links are left out, which halves the build.
  ./Configure mingw64 no-shared no-tests no-module no-engine no-dso no-legacy no-ui-console no-async \
    no-autoload-config no-aria no-bf no-blake2 no-camellia no-cast no-cmp no-cms no-comp no-ct no-des no-dsa \
    no-dtls no-ec2m no-gost no-idea no-md4 no-mdc2 no-ocb no-rc2 no-rc4 no-rc5 no-rmd160 no-scrypt no-seed \
    no-siphash no-siv no-sm2 no-sm3 no-sm4 no-srp no-srtp no-ssl3 no-ts no-whirlpool no-weak-ssl-ciphers \
    no-nextprotoneg no-rfc3779 no-sctp no-psk no-ocsp no-capieng no-padlockeng no-afalgeng no-devcryptoeng \
    --cross-compile-prefix=x86_64-w64-mingw32- --prefix="$staging" --libdir=lib >configure.log 2>&1 ||
    { cat configure.log; exit 1; }
  make -j"$jobs" build_libs >build.log 2>&1 || { tail -50 build.log; exit 1; }
  make install_dev >install.log 2>&1 || { tail -50 install.log; exit 1; }
)

echo "build-deps: yaml-cpp (static)"
(
  cd src-yaml-cpp
  cmake -S . -B build -G Ninja -DCMAKE_TOOLCHAIN_FILE="$here/mingw-toolchain.cmake" -DCMAKE_BUILD_TYPE=Release \
    -DYAML_CPP_BUILD_TESTS=OFF -DYAML_CPP_BUILD_TOOLS=OFF -DYAML_CPP_BUILD_CONTRIB=OFF -DYAML_BUILD_SHARED_LIBS=OFF \
    -DCMAKE_INSTALL_PREFIX="$staging" >configure.log 2>&1 || { cat configure.log; exit 1; }
  cmake --build build -j "$jobs" >build.log 2>&1 || { tail -50 build.log; exit 1; }
  cmake --install build >install.log 2>&1 || { tail -50 install.log; exit 1; }
)

echo "build-deps: Boost.Program_options (static)"
(
  # The installed Boost headers only, through a folder holding just them.
  mkdir -p po-include po-obj
  ln -sfn /usr/include/boost po-include/boost
  ls src-boost/libs/program_options/src/*.cpp | xargs -P "$jobs" -I{} sh -c \
    'x86_64-w64-mingw32-g++-posix -std=c++17 -O2 -DBOOST_ALL_NO_LIB -isystem po-include -c "$1" -o "po-obj/$(basename "$1" .cpp).o"' _ {} \
    >po-build.log 2>&1 || { tail -50 po-build.log; exit 1; }
  x86_64-w64-mingw32-ar rcs "$staging/lib/libboost_program_options.a" po-obj/*.o
)

# Licences of what the exe links statically, shipped in the release zip (Boost's ships with its
# headers': packaging/windows/make-release.sh).
mkdir -p "$staging/licenses"
cp src-openssl/LICENSE.txt "$staging/licenses/OpenSSL-LICENSE.txt"
cp src-yaml-cpp/LICENSE "$staging/licenses/yaml-cpp-LICENSE.txt"
echo "openssl $ssl_version, yaml-cpp $yaml_version, boost program_options $po_version (Debian source packages)" >"$staging/SOURCES"

rm -rf "$prefix"
mv "$staging" "$prefix"
touch "$prefix/.complete"
echo "build-deps: built in $((SECONDS - started)) s into $prefix"
echo "$prefix"

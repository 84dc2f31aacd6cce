#!/usr/bin/env bash
# Packages the Windows release zip from a MinGW build (packaging/windows/build-exe.sh):
#   hnsproxy-<version>-windows-amd64.zip
#     kube-proxy.exe, hnsdiag.exe (stripped; statically linked: no DLL beside them)
#     LICENSE (hnsproxy, Apache-2.0) and licenses/ (every library linked into the exes)
#     INSTALL.txt, register/unregister scripts for nssm and sc.exe, the HostProcess DaemonSet,
#     its start.ps1 and Dockerfile, the RBAC manifest, SHA256SUMS
#   packaging/windows/make-release.sh [build-dir]     (default: build-win)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-win}
version=$(sed -n 's/^project(hnsproxy VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
name="hnsproxy-$version-windows-amd64"
stage="$build/release/$name"
rm -rf "$build/release"
mkdir -p "$stage/licenses"
for exe in proxy/kube-proxy.exe hns/hnsdiag.exe; do
  [ -f "$build/$exe" ] || { echo "make-release: $build/$exe missing (run packaging/windows/build-exe.sh)" >&2; exit 1; }
  x86_64-w64-mingw32-strip -o "$stage/$(basename "$exe")" "$build/$exe"
done
cp LICENSE "$stage/LICENSE"
deps=$(sed -n "s/^HNSPROXY_MINGW_DEPS:[A-Z]*=//p" "$build/CMakeCache.txt")
cp "$deps"/licenses/* "$stage/licenses/"
# Header-only libraries compiled in, and the MinGW-w64 runtime (libstdc++, libgcc, winpthreads).
for pkg in libboost1.74-dev nlohmann-json3-dev libfmt-dev libspdlog-dev gcc-mingw-w64-base mingw-w64-x86-64-dev; do
  cp "/usr/share/doc/$pkg/copyright" "$stage/licenses/$pkg-copyright.txt"
done
cp packaging/windows/{INSTALL.txt,register-nssm.ps1,unregister-nssm.ps1,register-sc.ps1,unregister-sc.ps1,start.ps1,Dockerfile,kube-proxy-hostprocess.yaml,rbac.yaml} "$stage/"
# Windows line endings for what operators open in Notepad.
for f in "$stage"/INSTALL.txt "$stage"/*.ps1 "$stage"/*.yaml "$stage"/Dockerfile; do sed -i 's/\r\?$/\r/' "$f"; done
(cd "$stage" && find . -type f ! -name SHA256SUMS | sort | xargs sha256sum | sed 's| \./| |' >SHA256SUMS)
(cd "$build/release" && rm -f "$name.zip" && zip -qr -X "$name.zip" "$name")
echo "make-release: $build/release/$name.zip ($(stat -c %s "$build/release/$name.zip") bytes)"
for exe in kube-proxy.exe hnsdiag.exe; do
  echo "make-release: $exe $(stat -c %s "$stage/$exe") bytes, imports: $(x86_64-w64-mingw32-objdump -p "$stage/$exe" | awk '/DLL Name/ {print $3}' | sort -u | tr '\n' ' ')"
done

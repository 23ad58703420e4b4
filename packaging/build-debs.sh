#!/usr/bin/env bash
# Builds the two Debian packages, airlock-bundler_VERSION_ARCH.deb and
# airlock-installer_VERSION_ARCH.deb, into OUTDIR: a Release build (no test
# hooks, no tests, Debian's hardening flags) in build-release/deb, CPack's
# DEB generator (Depends from dpkg-shlibdeps), and a copy of the two files.
#
#   bash packaging/build-debs.sh OUTDIR
#
# AIRLOCK_STATIC_INSTALLER=ON (environment) ships a statically linked
# installer in airlock-installer's package; the default is the dynamic one.
# AIRLOCK_DEB_BUILD_DIR=DIR uses a tree configured already, with the same
# options, instead of configuring build-release/deb: packaging/build-release.sh
# gives its x86_64 tree, so the installer in the package is the very binary
# it ships as dist/airlock-installer-linux-x86_64, built once.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: packaging/build-debs.sh OUTDIR}
build=${AIRLOCK_DEB_BUILD_DIR:-}
static=${AIRLOCK_STATIC_INSTALLER:-OFF}

if [ -z "$build" ]; then
  build=build-release/deb
  # The flags of packaging/build-release.sh: hardened, -O2, no -g (stripped anyway).
  export DEB_BUILD_MAINT_OPTIONS=hardening=+all DEB_CXXFLAGS_MAINT_STRIP=-g
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-DNDEBUG \
    -DAIRLOCK_BUILD_TESTS=OFF -DAIRLOCK_TEST_HOOKS=OFF -DAIRLOCK_STATIC_INSTALLER="$static" \
    -DCMAKE_CXX_FLAGS="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)" \
    -DCMAKE_EXE_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS)" "${launcher[@]}" >/dev/null
fi
[ -f "$build/build.ninja" ] || { echo "build-debs: $build is not a configured build tree" >&2; exit 1; }
cmake --build "$build" -j"${JOBS:-$(nproc)}"
rm -f "$build"/airlock-*.deb
(cd "$build" && cpack -G DEB >/dev/null)

mkdir -p "$out"
shopt -s nullglob
debs=("$build"/airlock-bundler_*.deb "$build"/airlock-installer_*.deb)
if [ ${#debs[@]} -ne 2 ]; then
  echo "build-debs: expected two packages in $build, found ${#debs[@]}" >&2
  exit 1
fi
cp "${debs[@]}" "$out"/
for d in "${debs[@]}"; do echo "build-debs: $out/$(basename "$d")"; done

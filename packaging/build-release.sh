#!/usr/bin/env bash
# Builds the release artifacts into dist/ (or $AIRLOCK_DIST_DIR):
#   airlock-installer-linux-x86_64    static, stripped: runs on any x86_64 Linux
#   airlock-installer-linux-aarch64   static, stripped: any 64-bit Arm Linux (GH200, GB200)
#   airlock-bundler_VERSION_ARCH.deb, airlock-installer_VERSION_ARCH.deb
#                                     (packaging/build-debs.sh)
#   SHA256SUMS                        of every artifact above, for `sha256sum -c`
# Release builds: no test hooks, no tests, each architecture in its own tree
# under build-release/ (x86_64/ also builds the dynamic bundler, aarch64/ is
# a cross build of the installer alone; see cmake/toolchains/). Needs the
# packages of packaging/debian-packages.txt (packaging/install-deps.sh).
# Environment: JOBS (default: nproc); CMAKE_CXX_COMPILER_LAUNCHER (e.g.
# ccache) is honoured by CMake itself.
set -euo pipefail
cd "$(dirname "$0")/.."
dist="${AIRLOCK_DIST_DIR:-dist}"
jobs="${JOBS:-$(nproc)}"

die() { echo "build-release: $*" >&2; exit 1; }

# configure DIR [cmake args...]: a Release tree with the release options.
configure() {
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAIRLOCK_BUILD_TESTS=OFF -DAIRLOCK_TEST_HOOKS=OFF \
    -DAIRLOCK_STATIC_INSTALLER=ON "$@" >/dev/null
}

# static_installer ARCH: builds airlock-installer for ARCH (x86_64 | aarch64)
# and writes it, stripped, to $dist/airlock-installer-linux-ARCH, after
# checking that it is what it claims: an ELF for ARCH, statically linked.
static_installer() {
  local arch=$1 dir="build-release/$1" strip=strip machine
  case "$arch" in
    x86_64)
      machine="x86-64"
      configure "$dir"
      ;;
    aarch64)
      machine="ARM aarch64"
      command -v aarch64-linux-gnu-g++ >/dev/null || die "aarch64-linux-gnu-g++ missing (run packaging/install-deps.sh)"
      strip=aarch64-linux-gnu-strip
      configure "$dir" -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DAIRLOCK_BUILD_BUNDLER=OFF
      ;;
    *) die "unknown architecture $arch" ;;
  esac
  echo "== build-release: airlock-installer for linux-$arch ($dir)"
  cmake --build "$dir" -j"$jobs" --target airlock-installer
  local out="$dist/airlock-installer-linux-$arch"
  "$strip" --strip-all -o "$out" "$dir/installer/airlock-installer"
  chmod 0755 "$out"
  local what
  what="$(file -b "$out")"
  case "$what" in
    *"$machine"*"statically linked"*) ;;
    *) die "$out is not a static $machine executable: $what" ;;
  esac
  echo "   $out: $(stat -c %s "$out") bytes"
}

# debs: the two Debian packages (a Release build of their own in build-release/deb).
debs() {
  echo "== build-release: Debian packages (build-release/deb)"
  # The installer package ships the static installer: it runs on any
  # amd64 Debian or Ubuntu, as the one on the media does.
  AIRLOCK_STATIC_INSTALLER=ON bash packaging/build-debs.sh "$dist"
}

# checksums: SHA256SUMS over every artifact in $dist, in `sha256sum -c` form.
checksums() {
  (cd "$dist" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | LC_ALL=C sort |
    xargs -r sha256sum >SHA256SUMS)
  echo "== build-release: $dist/SHA256SUMS"
  cat "$dist/SHA256SUMS"
}

main() {
  mkdir -p "$dist"
  # Only what this script writes is removed: $dist may be a folder of the user's.
  rm -f "$dist"/airlock-installer-linux-* "$dist"/*.deb "$dist/SHA256SUMS"
  static_installer x86_64
  static_installer aarch64
  debs
  checksums
}

main "$@"

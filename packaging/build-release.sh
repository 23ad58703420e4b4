#!/usr/bin/env bash
# Builds the release artifacts into dist/ (or $AIRLOCK_DIST_DIR):
#   airlock-installer-linux-x86_64    static, stripped: runs on any x86_64 Linux
#   airlock-installer-linux-aarch64   static, stripped: any 64-bit Arm Linux (GH200, GB200)
#   airlock-bundler_VERSION_ARCH.deb, airlock-installer_VERSION_ARCH.deb
#                                     (packaging/build-debs.sh)
#   SHA256SUMS                        of every artifact above, for `sha256sum -c`
# Release builds: no test hooks, no tests, Debian's hardening flags
# (dpkg-buildflags, hardening=+all), each architecture in its own tree under
# build-release/: x86_64/ builds everything (the static installer, the
# dynamic bundler, the man pages) and the .debs are made from it, so the
# installer in airlock-installer's .deb is the dist/ one, byte for byte;
# aarch64/ is a cross build of the installer alone (cmake/toolchains/).
# Needs the packages of packaging/debian-packages.txt (packaging/install-deps.sh).
# Environment: JOBS (default: nproc); CMAKE_CXX_COMPILER_LAUNCHER (e.g.
# ccache) is honoured by CMake itself.
set -euo pipefail
cd "$(dirname "$0")/.."
dist="${AIRLOCK_DIST_DIR:-dist}"
jobs="${JOBS:-$(nproc)}"

die() { echo "build-release: $*" >&2; exit 1; }

# configure DIR DEB_ARCH [cmake args...]: a Release tree with the release
# options and Debian's hardening flags for DEB_ARCH (amd64, arm64), at
# Debian's -O2 (CMake's Release would add -O3) and without -g: every
# artifact is stripped, and debug information made up about 40 % of the
# compile time of these trees.
configure() {
  local dir=$1 deb_arch=$2; shift 2
  local flags=(env DEB_BUILD_MAINT_OPTIONS=hardening=+all DEB_CXXFLAGS_MAINT_STRIP=-g DEB_HOST_ARCH="$deb_arch"
    dpkg-buildflags --get)
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAIRLOCK_BUILD_TESTS=OFF -DAIRLOCK_TEST_HOOKS=OFF \
    -DAIRLOCK_STATIC_INSTALLER=ON -DCMAKE_CXX_FLAGS_RELEASE=-DNDEBUG \
    -DCMAKE_CXX_FLAGS="$("${flags[@]}" CPPFLAGS) $("${flags[@]}" CXXFLAGS)" \
    -DCMAKE_EXE_LINKER_FLAGS="$("${flags[@]}" LDFLAGS)" "$@" >/dev/null
}

# static_installer ARCH: builds airlock-installer for ARCH (x86_64 | aarch64)
# and writes it, stripped, to $dist/airlock-installer-linux-ARCH, after
# checking that it is what it claims: an ELF for ARCH, statically linked.
static_installer() {
  local arch=$1 dir="build-release/$1" strip=strip machine
  case "$arch" in
    x86_64)
      machine="x86-64"
      configure "$dir" amd64
      ;;
    aarch64)
      machine="ARM aarch64"
      command -v aarch64-linux-gnu-g++ >/dev/null || die "aarch64-linux-gnu-g++ missing (run packaging/install-deps.sh)"
      strip=aarch64-linux-gnu-strip
      configure "$dir" arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DAIRLOCK_BUILD_BUNDLER=OFF
      ;;
    *) die "unknown architecture $arch" ;;
  esac
  echo "== build-release: airlock-installer for linux-$arch ($dir)"
  cmake --build "$dir" -j"$jobs" --target airlock-installer
  local out="$dist/airlock-installer-linux-$arch"
  # Stripped as dh_strip strips, as cmake/Packaging.cmake does for the .deb.
  "$strip" --strip-unneeded --remove-section=.comment --remove-section=.note \
    -o "$out" "$dir/installer/airlock-installer"
  chmod 0755 "$out"
  local what
  what="$(file -b "$out")"
  case "$what" in
    *"$machine"*"statically linked"*) ;;
    *) die "$out is not a static $machine executable: $what" ;;
  esac
  echo "   $out: $(stat -c %s "$out") bytes"
}

# debs: the two Debian packages, from the x86_64 tree (the rest of it is
# built now: the bundler, the man pages). The installer package ships the
# static installer: it runs on any amd64 Debian or Ubuntu, as the one on
# the media does, and it is the same file (checked).
debs() {
  echo "== build-release: Debian packages (build-release/x86_64)"
  AIRLOCK_DEB_BUILD_DIR=build-release/x86_64 JOBS="$jobs" bash packaging/build-debs.sh "$dist"
  local deb x
  deb="$(ls "$dist"/airlock-installer_*.deb)"
  x="$(mktemp -d)"
  dpkg-deb -x "$deb" "$x"
  cmp "$x/usr/bin/airlock-installer" "$dist/airlock-installer-linux-x86_64" ||
    { rm -rf "$x"; die "$deb: its airlock-installer is not dist/airlock-installer-linux-x86_64"; }
  rm -rf "$x"
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

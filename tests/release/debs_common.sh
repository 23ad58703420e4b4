# Sourced by the .deb checks in tests/release/: sources tests/e2e/common.sh
# for its temp dir and helpers, finds the two packages in $AIRLOCK_DIST_DIR
# (what packaging/build-release.sh wrote; relative to the source tree), and
# skips when there are none.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
export AIRLOCK_BUILD_DIR="${AIRLOCK_BUILD_DIR:-$src/build}"
# shellcheck source=../e2e/common.sh
source "$src/tests/e2e/common.sh"
dist="${AIRLOCK_DIST_DIR:-}"
[ -n "$dist" ] || skip "set AIRLOCK_DIST_DIR to the release artifacts (dist/)"
case "$dist" in /*) ;; *) dist="$src/$dist" ;; esac
VERSION="$(sed -n 's/^project(airlock VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")"
ARCH="$(dpkg --print-architecture)"
DEB_BUNDLER="$dist/airlock-bundler_${VERSION}_${ARCH}.deb"
DEB_INSTALLER="$dist/airlock-installer_${VERSION}_${ARCH}.deb"
if [ ! -f "$DEB_BUNDLER" ] && [ ! -f "$DEB_INSTALLER" ]; then
  skip "no airlock-*_${VERSION}_${ARCH}.deb in $dist (run packaging/build-release.sh)"
fi
for d in "$DEB_BUNDLER" "$DEB_INSTALLER"; do [ -f "$d" ] || fail "$d is missing (the other package is there)"; done

#!/usr/bin/env bash
# Builds the release artifacts into dist/ (or $AIRLOCK_DIST_DIR):
#   airlock-bundler_VERSION_ARCH.deb, airlock-installer_VERSION_ARCH.deb
#                                     (packaging/build-debs.sh)
#   SHA256SUMS                        of every artifact above, for `sha256sum -c`
# Needs the packages of packaging/debian-packages.txt (packaging/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
dist="${AIRLOCK_DIST_DIR:-dist}"

# debs: the two Debian packages (a Release build of their own in build-release/deb).
debs() {
  echo "== build-release: Debian packages (build-release/deb)"
  bash packaging/build-debs.sh "$dist"
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
  rm -f "$dist"/*.deb "$dist/SHA256SUMS"
  debs
  checksums
}

main "$@"

#!/usr/bin/env bash
# Installs every Debian package listed in packaging/debian-packages.txt that
# is not installed yet. Needs root (or sudo). Safe to run again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/debian-packages.txt" | grep -v '^$')
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm (tests/support/js: npm ci) comes with a nodejs built by NodeSource, and
# as its own package with Debian's nodejs; ask for it only where it is missing,
# since the two nodejs builds conflict over it.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#wanted[@]} packages present"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
# A name like libssl-dev:arm64 is a multiarch package (the cross builds'
# libraries): dpkg must know that architecture before apt can see it.
native="$(dpkg --print-architecture)"
for p in "${missing[@]}"; do
  case "$p" in
    *:*)
      arch="${p##*:}"
      if [ "$arch" != "$native" ] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
        echo "install-deps: adding architecture $arch"
        $sudo dpkg --add-architecture "$arch"
      fi
      ;;
  esac
done
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

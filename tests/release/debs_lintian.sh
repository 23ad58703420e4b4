# Debian's lintian finds no error in either package (E: lines; warnings are
# printed for the record), and each holds what it must: the binary, its man
# page(s), bash completion, copyright and changelog.
source "$(dirname "$0")/debs_common.sh"
command -v lintian >/dev/null || fail "lintian is not installed (packaging/debian-packages.txt lists it)"
lintian --display-info --pedantic "$DEB_BUNDLER" "$DEB_INSTALLER" > lintian.out 2>&1 || true
cat lintian.out
if grep -q '^E: ' lintian.out; then fail "lintian reports errors"; fi
grep -q 'fatal\|internal error' lintian.out && fail "lintian did not finish"

contains() {  # contains DEB PATH...
  local deb=$1; shift
  dpkg-deb -c "$deb" | awk '{print $NF}' > contents
  for p in "$@"; do grep -qx -- "./$p" contents || fail "$(basename "$deb") lacks /$p"; done
}
contains "$DEB_BUNDLER" usr/bin/airlock-bundler usr/share/man/man1/airlock-bundler.1.gz \
  usr/share/man/man5/airlock-manifest.5.gz usr/share/bash-completion/completions/airlock-bundler \
  usr/share/doc/airlock-bundler/copyright usr/share/doc/airlock-bundler/changelog.gz
contains "$DEB_INSTALLER" usr/bin/airlock-installer usr/share/man/man1/airlock-installer.1.gz \
  usr/share/bash-completion/completions/airlock-installer \
  usr/share/doc/airlock-installer/copyright usr/share/doc/airlock-installer/changelog.gz
dpkg-deb -f "$DEB_BUNDLER" Depends | grep -q 'libc6' || fail "the bundler's Depends lacks what dpkg-shlibdeps finds"
pass "no lintian error ($(grep -c '^[WIP]: ' lintian.out || true) other tags) in $(basename "$DEB_BUNDLER") and $(basename "$DEB_INSTALLER")"

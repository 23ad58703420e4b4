# Both packages install with dpkg into a scratch root (--root/--admindir; the
# host's dpkg database is left as it was), the binaries inside run, and both
# packages remove cleanly again.
source "$(dirname "$0")/debs_common.sh"
S="$T/scratch"
mkdir -p "$S/var/lib/dpkg/updates" "$S/var/lib/dpkg/info" "$S/var/log"
: > "$S/var/lib/dpkg/status"
host_before="$(sha256sum /var/lib/dpkg/status)"
sdpkg() {
  # --force-depends: the scratch database knows no libc6; the libraries are the host's.
  dpkg --root="$S" --admindir="$S/var/lib/dpkg" --log="$S/var/log/dpkg.log" --force-not-root --force-depends "$@"
}
sdpkg -i "$DEB_BUNDLER" "$DEB_INSTALLER" > dpkg.out 2>&1 || { cat dpkg.out; fail "dpkg -i into $S failed"; }
for p in airlock-bundler airlock-installer; do
  sdpkg -s "$p" | grep -q '^Status: install ok installed' || fail "$p is not installed in the scratch root"
  out="$("$S/usr/bin/$p" --version)" || fail "$S/usr/bin/$p --version exited $?"
  [ "$out" = "$p $VERSION" ] || fail "$p --version says '$out', the package is $VERSION"
  [ -f "$S/usr/share/man/man1/$p.1.gz" ] || fail "$p.1.gz not installed"
  bash -c "source '$S/usr/share/bash-completion/completions/$p' && complete -p $p" >/dev/null ||
    fail "the installed completion for $p does not register"
done
"$S/usr/bin/airlock-installer" --root "$T/site" init >/dev/null 2>&1 || fail "the installed installer cannot init a site"
[ -f "$T/site/keys/site.pub" ] || fail "init wrote no site key"
[ "$(sha256sum /var/lib/dpkg/status)" = "$host_before" ] || fail "the host's /var/lib/dpkg/status changed"
sdpkg -r airlock-bundler airlock-installer > dpkg.out 2>&1 || { cat dpkg.out; fail "dpkg -r failed"; }
[ ! -e "$S/usr/bin/airlock-bundler" ] && [ ! -e "$S/usr/bin/airlock-installer" ] || fail "dpkg -r left the binaries"
[ "$(sha256sum /var/lib/dpkg/status)" = "$host_before" ] || fail "the host's /var/lib/dpkg/status changed"
pass "dpkg -i/-r of both packages in a scratch root; --version $VERSION; host database unchanged"

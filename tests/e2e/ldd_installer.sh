# The installer links no network code: no libcurl, no TLS or HTTP libraries;
# and no libarchive (the tar subset it reads is core/archive/tar.h).
source "$(dirname "$0")/common.sh"
libs="$(ldd "$INSTALLER")"
if echo "$libs" | grep -Eiq 'curl|nghttp|libssh|gnutls|libpsl|librtmp|ldap|gssapi|idn2'; then
  echo "$libs" >&2
  fail "airlock-installer links a network library"
fi
nm -D "$INSTALLER" | grep -Eq ' U (curl_|SSL_connect)' && fail "installer imports network symbols"
echo "$libs" | grep -q libcurl && fail "libcurl"
# Nor libarchive: the installer reads volumes with core/archive/tar.h only.
echo "$libs" | grep -q libarchive && fail "airlock-installer links libarchive"
n="$(nm "$INSTALLER" | grep -c archive_ || true)"
[ "$n" -eq 0 ] || fail "airlock-installer holds $n symbols named archive_* (libarchive linked in?)"
"$BUNDLER" --help >/dev/null
pass "no network library in $(echo "$libs" | wc -l) linked libraries"

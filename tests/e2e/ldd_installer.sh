# The installer links no network code: no libcurl, no TLS or HTTP libraries;
# and no libarchive (the tar subset it reads is core/archive/tar.h). Holds for
# a dynamic build (its shared libraries and imports) and for a static one
# (AIRLOCK_STATIC_INSTALLER, or AIRLOCK_INSTALLER=dist/airlock-installer-linux-x86_64:
# ldd finds no dynamic section; its symbols, where not stripped, and its
# strings are checked instead).
source "$(dirname "$0")/common.sh"
net='curl|nghttp|libssh|gnutls|libpsl|librtmp|ldap|gssapi|idn2'
if libs="$(ldd "$INSTALLER" 2>&1)"; then
  if echo "$libs" | grep -Eiq "$net"; then
    echo "$libs" >&2
    fail "airlock-installer links a network library"
  fi
  nm -D "$INSTALLER" | grep -Eq ' U (curl_|SSL_connect)' && fail "installer imports network symbols"
  echo "$libs" | grep -q libcurl && fail "libcurl"
  # Nor libarchive: the installer reads volumes with core/archive/tar.h only.
  echo "$libs" | grep -q libarchive && fail "airlock-installer links libarchive"
  what="$(echo "$libs" | wc -l) linked libraries"
else
  echo "$libs" | grep -q "not a dynamic executable" || fail "ldd failed on $INSTALLER: $libs"
  readelf -dW "$INSTALLER" | grep -q "There is no dynamic section" || fail "ldd calls $INSTALLER static, readelf does not"
  # A linked-in libcurl, nghttp2 or libarchive leaves its version strings.
  if grep -aEo 'libcurl/[0-9.]+|nghttp2/[0-9.]+|libarchive [0-9.]+|CURLOPT_[A-Z_]+' "$INSTALLER" | head -3 >&2; then
    fail "static airlock-installer holds network or libarchive code (strings above)"
  fi
  nm "$INSTALLER" 2>/dev/null | grep -E ' [TtWw] (curl_|Curl_|nghttp2_|SSL_connect)' && fail "static installer holds network symbols"
  what="a static executable"
fi
n="$(nm "$INSTALLER" 2>/dev/null | grep -Ec ' [A-Za-z] archive_' || true)"
[ "$n" -eq 0 ] || fail "airlock-installer holds $n symbols named archive_* (libarchive linked in?)"
"$BUNDLER" --help >/dev/null
pass "no network library in $what"

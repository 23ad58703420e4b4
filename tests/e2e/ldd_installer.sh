# The installer links no network code: no libcurl, no TLS or HTTP libraries.
source "$(dirname "$0")/common.sh"
libs="$(ldd "$INSTALLER")"
if echo "$libs" | grep -Eiq 'curl|nghttp|libssh|gnutls|libpsl|librtmp|ldap|gssapi|idn2'; then
  echo "$libs" >&2
  fail "airlock-installer links a network library"
fi
nm -D "$INSTALLER" | grep -Eq ' U (curl_|SSL_connect)' && fail "installer imports network symbols"
echo "$libs" | grep -q libcurl && fail "libcurl"
"$BUNDLER" --help >/dev/null
pass "no network library in $(echo "$libs" | wc -l) linked libraries"

# Neither program reads openssl.cnf (core/crypto/openssl_init.h): a config
# could make libcrypto dlopen provider modules, which the static installer
# must never do. OPENSSL_CONF names a FIFO with no writer: a program that
# opened it to read its configuration would block there (and time out).
source "$(dirname "$0")/common.sh"
mkfifo "$T/openssl.cnf"
export OPENSSL_CONF="$T/openssl.cnf"
# The check can fail: the openssl tool itself reads the configuration, and hangs.
if command -v openssl >/dev/null; then
  rc=0; timeout 5 openssl sha256 /dev/null >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 124 ] || fail "openssl did not block on the FIFO (rc $rc): the check would prove nothing"
fi
t() { timeout 60 "$@" || { rc=$?; [ "$rc" -ne 124 ] || fail "blocked on OPENSSL_CONF: $*"; return "$rc"; }; }
t "$BUNDLER" keygen --out "$T/pub" >/dev/null
t "$INSTALLER" init >/dev/null 2>&1
t "$INSTALLER" trust add "$T/pub.pub" --name publisher >/dev/null
make_model m1 1M 1
make_manifest v1.toml demo 1.0.0 m1
t "$BUNDLER" create v1.toml -o b1 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 1 -q >/dev/null
t "$BUNDLER" verify b1 --trust "$T/pub.pub" -q >/dev/null
t "$INSTALLER" verify b1 -q >/dev/null
t "$INSTALLER" install b1 -q >/dev/null
t "$INSTALLER" check -q >/dev/null
pass "bundler and installer ran with OPENSSL_CONF on a FIFO and never opened it"

# ROOT is the installer's: whatever the caller's umask (000 here), init,
# trust, install, rollback and the targets leave nothing under ROOT writable
# by group or others; keys/ is 0700, site.key 0600, ledger.db (and its
# -wal/-shm) 0600; a ledger made 0644 by an older version is made 0600 when opened.
source "$(dirname "$0")/common.sh"
umask 000
two_versions 1M 1M
"$INSTALLER" install b1 -q >/dev/null
"$INSTALLER" install b2 -q >/dev/null
"$INSTALLER" rollback demo -q >/dev/null
"$INSTALLER" targets -q >/dev/null
loose=$(find "$AIRLOCK_ROOT" ! -type l -perm /022)
[ -z "$loose" ] || fail "group/other-writable under ROOT after umask 000: $loose"
mode() { stat -c %a "$1"; }
[ "$(mode "$AIRLOCK_ROOT/keys")" = 700 ] || fail "keys/ is $(mode "$AIRLOCK_ROOT/keys"), not 700"
[ "$(mode "$AIRLOCK_ROOT/keys/site.key")" = 600 ] || fail "site.key is not 600"
for f in ledger.db ledger.db-wal ledger.db-shm; do
  [ ! -e "$AIRLOCK_ROOT/$f" ] || [ "$(mode "$AIRLOCK_ROOT/$f")" = 600 ] ||
    fail "$f is $(mode "$AIRLOCK_ROOT/$f"), not 600"
done
[ -z "$(find "$AIRLOCK_ROOT/keys" ! -type l -perm /077 ! -name '*.pub' ! -name '*.json')" ] ||
  fail "secret files under keys/ readable by others: $(find "$AIRLOCK_ROOT/keys" -perm /077)"
# A ledger an older version left 0644 becomes 0600 when a command opens it.
chmod 644 "$AIRLOCK_ROOT/ledger.db"
"$INSTALLER" list -q >/dev/null
[ "$(mode "$AIRLOCK_ROOT/ledger.db")" = 600 ] || fail "an 0644 ledger.db was left $(mode "$AIRLOCK_ROOT/ledger.db")"
pass "umask 000 leaves nothing under ROOT group/other-writable; keys/ 0700, site.key and ledger.db 0600"

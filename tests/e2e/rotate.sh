# Key rotation carried in a bundle (create --trust-add/--trust-revoke/
# --trust-threshold). Signed by the old key, it installs and the site then
# trusts the new key and has revoked the old one: old-key bundles are refused,
# new-key bundles install. A rotation signed by an untrusted key, or by too few
# of the old keys, or adding a revoked key, is refused (exit 3) with the trust
# store and the installed state unchanged. A crash after the commit leaves the
# rotation pending in the ledger; the next command's recover() completes it.
source "$(dirname "$0")/common.sh"
require_test_hooks  # AIRLOCK_TEST_CRASH_AT
setup_site
"$BUNDLER" keygen --out "$T/new" >/dev/null
"$BUNDLER" keygen --out "$T/rogue" >/dev/null
old_id=$("$INSTALLER" trust list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["keyid"])')
site="$AIRLOCK_ROOT/keys/site.pub"
make_model m1 2M 1
for v in 1 2 3 4 5; do make_manifest v$v.toml demo $v.0.0 m1; done
trust_state() { "$INSTALLER" trust list --json; ls -R "$AIRLOCK_ROOT/keys"; }

# Refused rotations first: state and trust store unchanged.
"$BUNDLER" create v1.toml -o rogue --sign "$T/rogue.key" --to "$site" --sequence 10 -q \
  --trust-add rogue="$T/rogue.pub" >/dev/null
"$BUNDLER" create v1.toml -o toomany --sign "$T/pub.key" --to "$site" --sequence 11 -q \
  --trust-add new="$T/new.pub" --trust-threshold 3 >/dev/null
save_state; trust_state > "$T/trust.before"
expect_fail 3 "untrusted" "$INSTALLER" install rogue -q
expect_fail 3 "rotation would leave 2 trusted key\(s\) under a threshold of 3" "$INSTALLER" install toomany -q
assert_state_unchanged "refused rotations"
trust_state | diff -u "$T/trust.before" - >&2 || fail "a refused rotation changed the trust store"
expect_fail 2 "NAME=FILE.pub" "$BUNDLER" create v1.toml -o bad --sign "$T/pub.key" --to "$site" --trust-add "$T/new.pub"
[ ! -e bad ] || fail "a bad --trust-add left output behind"

# The rotation, signed by the old key; killed right after the commit, so the
# next command's recover() has to apply it (recorded pending in the ledger).
"$BUNDLER" create v2.toml -o rot --sign "$T/pub.key" --to "$site" --sequence 20 -q \
  --trust-add new="$T/new.pub" --trust-revoke "$old_id" >/dev/null
"$BUNDLER" inspect rot --json | python3 -c '
import json,sys; d=json.load(sys.stdin); t=d["trust"]
assert t["add"][0]["name"]=="new" and t["revoke"]==["'"$old_id"'"], t' || fail "inspect does not show the rotation"
rc=0; AIRLOCK_TEST_CRASH_AT=activated "$INSTALLER" install rot -q >/dev/null 2>&1 || rc=$?
[ $rc -eq 137 ] || fail "expected the crash hook to kill the install (137), got $rc"
[ -e "$AIRLOCK_ROOT/keys/trusted/publisher.pub" ] && [ ! -e "$AIRLOCK_ROOT/keys/trusted/new.pub" ] ||
  fail "rotation applied before the crash point?"
"$INSTALLER" list 2>&1 >/dev/null | grep -q "recovered: completed the interrupted key rotation" ||
  fail "the next command did not complete the interrupted rotation"
"$INSTALLER" trust list | grep -q "  new$" || fail "new key not trusted after the rotation"
"$INSTALLER" trust list | grep -q "$old_id  publisher  (revoked)" || fail "old key not revoked by the rotation"
"$INSTALLER" history | grep -q "trust-rotate" || fail "rotation not in the event log"

# Afterwards: the old key no longer counts, the new one does.
bundle v3.toml old3 30
"$BUNDLER" create v4.toml -o new4 --sign "$T/new.key" --to "$site" --sequence 40 -q >/dev/null
save_state
expect_fail 3 "revoked key\(s\), not counted: 'publisher' \($old_id\)" "$INSTALLER" install old3 -q
assert_state_unchanged "old-key bundle after the rotation"
"$INSTALLER" install new4 -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 4.0.0 ] || fail "new-key bundle not active"

# Re-adding the revoked key through a rotation is refused.
"$BUNDLER" create v5.toml -o readd --sign "$T/new.key" --to "$site" --sequence 50 -q \
  --trust-add back="$T/pub.pub" >/dev/null
expect_fail 3 "adds key $old_id \('back'\), which this site revoked" "$INSTALLER" install readd -q
pass "rotation signed by the old key applied (also after a crash); untrusted, under-threshold and re-adding rotations refused"

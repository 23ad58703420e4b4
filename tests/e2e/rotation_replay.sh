# A key rotation applies once. The media of an installed bundle inserted
# again is a no-op that says nothing was applied, even after the operator
# undid part of the rotation by hand (trust remove, trust threshold): the
# removed key stays removed. "Already installed" means the same index bytes:
# an index with the same bundle id but other bytes (re-signed after an edit)
# is refused as a replay, state and trust unchanged. A crash between the
# ledger commit and the rotation's application is completed by the next
# command's recover() (here `list`), logged in history, and re-inserting the
# media afterwards applies nothing again. A rotation in a bundle made before
# the operator's last change of trust is refused (it would undo that change).
source "$(dirname "$0")/common.sh"
require_test_hooks  # AIRLOCK_TEST_CRASH_AT
setup_site
FORGE="$AIRLOCK_BUILD_DIR/tests/airlock-test-forge"
[ -x "$FORGE" ] || fail "$FORGE not built"
"$BUNDLER" keygen --out "$T/new" >/dev/null
"$BUNDLER" keygen --out "$T/k2" >/dev/null
site="$AIRLOCK_ROOT/keys/site.pub"
make_model m1 2M 1
make_model m2 2M 2
make_manifest v1.toml demo 1.0.0 m1
make_manifest v2.toml demo 2.0.0 m2
trust_state() { "$INSTALLER" trust list --json; (cd "$AIRLOCK_ROOT/keys" && ls -R trusted revoked root 2>/dev/null; cat policy.json 2>/dev/null) || true; }

# 1. A rotation that adds a key and raises the threshold to 2, signed by the
#    one key trusted now (threshold 1).
"$BUNDLER" create v1.toml -o rot --sign "$T/pub.key" --to "$site" --sequence 10 -q \
  --trust-add new="$T/new.pub" --trust-threshold 2 >/dev/null
"$INSTALLER" install rot -q >/dev/null
"$INSTALLER" trust list | grep -q "  new$" || fail "rotation did not add the new key"
"$INSTALLER" trust list | grep -q "^threshold: 2 of 2" || fail "rotation did not set threshold 2"

# Another bundle with the same rotation, made now (a higher sequence, never
# delivered yet): older than the operator's change below.
make_manifest v3.toml demo 3.0.0 m2
"$BUNDLER" create v3.toml -o late --sign "$T/pub.key" --to "$site" --sequence 30 -q \
  --trust-add new="$T/new.pub" >/dev/null
sleep 1.1  # the change below is at least a second newer than "late"

# The operator then decides the new key is not to be trusted after all.
"$INSTALLER" trust threshold 1 >/dev/null
"$INSTALLER" trust remove new >/dev/null
save_state; trust_state > "$T/trust.before"

# 2. The same media again: exit 0, says so, applies nothing.
rc=0; out=$("$INSTALLER" install rot 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "re-insert of the installed bundle exited $rc: $out"
[ ! -e "$AIRLOCK_ROOT/keys/trusted/new.pub" ] || fail "the removed key is trusted again"
trust_state | diff -u "$T/trust.before" - >&2 || fail "re-insert re-applied the rotation (threshold changed?)"
assert_state_unchanged "re-insert of an installed rotation bundle"
grep -q "already installed" <<<"$out" || fail "re-insert does not say already installed: $out"
grep -q "nothing applied" <<<"$out" || fail "re-insert does not say nothing was applied: $out"
"$INSTALLER" install rot --json -q | python3 -c '
import json,sys; j=json.load(sys.stdin)
assert j["already_installed"] is True and j["trust_changed"] is False, j' || fail "re-insert --json"
trust_state | diff -u "$T/trust.before" - >&2 || fail "second re-insert changed the trust store"
[ "$("$INSTALLER" history --json | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["action"]=="trust-rotate"))')" = 1 ] ||
  fail "the rotation was logged more than once"

# 3. Same bundle id, other index bytes (re-signed by the trusted key after an
#    edit of the header): refused as a replay, nothing changed.
cp -a rot forged
"$FORGE" forged --site-key "$AIRLOCK_ROOT/keys" --sign "$T/pub.key" --tool-bytes 40
cmp -s rot/*.airlock forged/*.airlock && fail "the forge did not change the index"
expect_fail 3 "replay refused: bundle [0-9a-f]{32} is installed here as demo 1.0.0 from an index with SHA-256 [0-9a-f]{64}, but this index hashes to [0-9a-f]{64}" \
  "$INSTALLER" install forged -q
assert_state_unchanged "same bundle id, different index bytes"
trust_state | diff -u "$T/trust.before" - >&2 || fail "a forged re-insert changed the trust store"
expect_fail 3 "same bundle id with different bytes" "$INSTALLER" verify forged -q
"$INSTALLER" history --json | python3 -c '
import json,sys; e=json.load(sys.stdin)
assert any(x["action"]=="install" and x["result"]=="refused" and "different bytes" in x["detail"] for x in e), e' ||
  fail "the refused forged bundle is not in history"

# 3b. A rotation made before the operator's change, in a newer bundle that was
#     never installed: refused, the removed key stays removed.
expect_fail 3 "key rotation refused: bundle demo 3.0.0 was created at .* before this site's trust policy was last changed by hand \(trust-remove key/new" \
  "$INSTALLER" install late -q
assert_state_unchanged "a rotation older than the trust policy"
trust_state | diff -u "$T/trust.before" - >&2 || fail "an older rotation changed the trust store"

# 4. A crash after the ledger commit, before the rotation is applied: the next
#    command (list) completes it; re-inserting applies nothing more.
"$BUNDLER" create v2.toml -o rot2 --sign "$T/pub.key" --to "$site" --sequence 20 -q \
  --trust-add k2="$T/k2.pub" >/dev/null
rc=0; AIRLOCK_TEST_CRASH_AT=rotation "$INSTALLER" install rot2 -q >/dev/null 2>&1 || rc=$?
[ $rc -eq 137 ] || fail "expected the crash hook to kill the install at 'rotation' (137), got $rc"
[ ! -e "$AIRLOCK_ROOT/keys/trusted/k2.pub" ] || fail "rotation applied before the crash point?"
"$INSTALLER" list >/dev/null 2>"$T/recover.err" || { cat "$T/recover.err" >&2; fail "list after the crash"; }
grep -q "recovered: completed the interrupted key rotation of bundle .*added k2" "$T/recover.err" ||
  { cat "$T/recover.err" >&2; fail "recover() did not report completing the rotation"; }
[ -e "$AIRLOCK_ROOT/keys/trusted/k2.pub" ] || fail "recover() did not apply the pending rotation"
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 2.0.0 ] || fail "2.0.0 not active after the crash"
"$INSTALLER" history --json | python3 -c '
import json,sys; e=json.load(sys.stdin)
assert any(x["action"]=="trust-rotate" and x["result"]=="ok" and x["target"]=="demo/2.0.0" and "added k2" in x["detail"] for x in e), e
assert any(x["action"]=="recover" and "key rotation" in x["detail"] for x in e), e' ||
  fail "the completed rotation is not in history"
"$INSTALLER" trust remove k2 >/dev/null
save_state; trust_state > "$T/trust.before"
rc=0; out=$("$INSTALLER" install rot2 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "re-insert after the recovered crash exited $rc: $out"
grep -q "nothing applied" <<<"$out" || fail "re-insert after the crash does not say nothing applied: $out"
assert_state_unchanged "re-insert after a recovered rotation"
trust_state | diff -u "$T/trust.before" - >&2 || fail "re-insert after a recovered crash re-applied the rotation"
"$INSTALLER" list >/dev/null 2>"$T/again.err"
[ ! -s "$T/again.err" ] || { cat "$T/again.err" >&2; fail "recover() settled the rotation twice"; }
"$INSTALLER" status --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["event_chain_ok"] is True'
pass "a rotation applies once: re-inserts apply nothing, a same-id index with other bytes and a rotation older than the trust policy are refused, a crash before applying is completed by recover()"

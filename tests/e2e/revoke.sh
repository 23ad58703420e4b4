# Revocation: 'trust revoke NAME' stops counting the key's signatures at once
# and for good. A bundle it signed is refused (exit 3, "revoked" and the key
# named), state unchanged; the key cannot be trusted again; bundles signed by
# the remaining trusted keys still install. Revocation is in the event log.
source "$(dirname "$0")/common.sh"
setup_site
"$BUNDLER" keygen --out "$T/second" >/dev/null
"$INSTALLER" trust add "$T/second.pub" --name second >/dev/null
pub_id=$("$INSTALLER" trust list --json | python3 -c '
import json,sys; print([k["keyid"] for k in json.load(sys.stdin)["keys"] if k["name"]=="publisher"][0])')

make_model m1 2M 1
make_manifest v1.toml demo 1.0.0 m1
make_manifest v2.toml demo 2.0.0 m1
bundle v1.toml b1 10
"$BUNDLER" create v2.toml -o b2 --sign "$T/second.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 20 -q >/dev/null

"$INSTALLER" trust revoke publisher >/dev/null
"$INSTALLER" trust list | grep -q "publisher  (revoked)" || fail "trust list does not show the revoked key"
save_state
expect_fail 3 "revoked.*publisher.*$pub_id|$pub_id.*revoked" "$INSTALLER" install b1 -q
assert_state_unchanged "bundle signed by a revoked key"
expect_fail 1 "revoked" "$INSTALLER" trust add "$T/pub.pub" --name publisher-again
"$INSTALLER" install b2 -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 2.0.0 ] || fail "v2 not active"
"$INSTALLER" history | grep -q "trust-revoke" || fail "revocation not in the event log"
pass "revoked key refused and not re-addable; other keys still install; logged"

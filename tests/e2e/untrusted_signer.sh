# Only bundles signed by a trusted publisher key install: an unknown signer,
# a key removed with 'trust remove', and a site trusting no key are all
# refused with exit 3; trust add/list behave.
source "$(dirname "$0")/common.sh"
setup_site
rogue_id=$("$BUNDLER" keygen --out "$T/rogue" | sed -n 's/^key id //p')
[ -n "$rogue_id" ] || fail "keygen printed no key id"
"$BUNDLER" keygen --out "$T/second" >/dev/null
pub_id=$("$INSTALLER" trust list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["keyid"])')
make_model m1 4M 1
make_manifest v1.toml demo 1.0.0 m1
make_manifest v2.toml demo 2.0.0 m1
make_manifest v3.toml demo 3.0.0 m1
"$BUNDLER" create v1.toml -o rogue --sign "$T/rogue.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 100 -q >/dev/null
bundle v2.toml b2 200
bundle v3.toml b3 300

save_state
expect_fail 3 "demo-1.0.0.airlock.*untrusted.*$rogue_id" "$INSTALLER" install rogue -q
expect_fail 3 "untrusted.*$rogue_id" "$INSTALLER" verify rogue -q
assert_state_unchanged "bundle from an untrusted signer"

# Same key twice: refused with a clear message, still listed once.
expect_fail 1 "already trusted" "$INSTALLER" trust add "$T/pub.pub" --name again
"$INSTALLER" trust add "$T/second.pub" --name second >/dev/null
"$INSTALLER" trust list --json | python3 -c '
import json,sys; d=json.load(sys.stdin)["keys"]; names=sorted(k["name"] for k in d)
assert names==["publisher","second"], d; assert all(len(k["keyid"])==16 for k in d), d'

"$INSTALLER" install b2 -q >/dev/null
"$INSTALLER" trust remove publisher >/dev/null
"$INSTALLER" trust list --json | grep -q "$pub_id" && fail "removed key still listed"
save_state
expect_fail 3 "demo-3.0.0.airlock.*untrusted.*$pub_id" "$INSTALLER" install b3 -q
assert_state_unchanged "bundle signed by a removed key"
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 2.0.0 ] || fail "v2 not active"

"$INSTALLER" trust remove second >/dev/null
[ "$("$INSTALLER" trust list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["keys"]))')" = 0 ] || fail "keys left"
expect_fail 3 "demo-3.0.0.airlock.*trust add" "$INSTALLER" install b3 -q
assert_state_unchanged "site with no trusted keys"
pass "untrusted, removed and absent publisher keys refused (exit 3, key id named); trust add/list/remove"

# A bundle encrypted to another site's key is refused here (exit 3, "not
# addressed to this site"); with both sites as --to recipients, both install.
source "$(dirname "$0")/common.sh"
setup_site
OTHER="$T/other-root"
"$INSTALLER" --root "$OTHER" init >/dev/null 2>&1
"$INSTALLER" --root "$OTHER" trust add "$T/pub.pub" --name publisher >/dev/null
[ -f "$OTHER/keys/site.pub" ] || fail "second site has no site.pub"
cmp -s "$OTHER/keys/site.pub" "$AIRLOCK_ROOT/keys/site.pub" && fail "two sites share a key"
make_model m1 4M 1
make_manifest v1.toml demo 1.0.0 m1
make_manifest v2.toml demo 2.0.0 m1
"$BUNDLER" create v1.toml -o elsewhere --sign "$T/pub.key" --to "$OTHER/keys/site.pub" --sequence 100 -q >/dev/null

save_state
expect_fail 3 "demo-1.0.0.airlock.*not addressed to this site" "$INSTALLER" install elsewhere -q
expect_fail 3 "not addressed to this site" "$INSTALLER" verify elsewhere -q
assert_state_unchanged "bundle for another site"
[ ! -e "$AIRLOCK_ROOT/deployments/demo" ] || fail "deployment dir created for a refused bundle"
# The intended site takes it.
"$INSTALLER" --root "$OTHER" install elsewhere -q >/dev/null
[ "$(readlink "$OTHER/deployments/demo/current")" = 1.0.0 ] || fail "other site did not install its bundle"

# Two recipients: each site opens its own stanza.
"$BUNDLER" create v2.toml -o both --sign "$T/pub.key" --to "$OTHER/keys/site.pub" \
  --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 200 -q >/dev/null
[ "$("$BUNDLER" inspect both --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["recipients"]))')" = 2 ] \
  || fail "expected two recipient stanzas"
"$INSTALLER" install both -q >/dev/null
"$INSTALLER" --root "$OTHER" install both -q >/dev/null
cmp m1/model-00001-of-00002.safetensors "$AIRLOCK_ROOT/deployments/demo/current/model/model-00001-of-00002.safetensors"
[ "$(readlink "$OTHER/deployments/demo/current")" = 2.0.0 ] || fail "other site did not activate 2.0.0"
cmp m1/model-00001-of-00002.safetensors "$OTHER/deployments/demo/current/model/model-00001-of-00002.safetensors"
"$INSTALLER" history demo --json | python3 -c '
import json,sys; e=json.load(sys.stdin)
assert any(x["action"]=="install" and x["result"]=="refused" for x in e), e
assert any(x["action"]=="install" and x["result"]=="ok" for x in e), e'
pass "bundle for another site refused (exit 3); two --to recipients install on both sites"

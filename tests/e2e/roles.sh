# Key roles: publisher keys sign bundles; root keys, once a site has any, must
# also sign every bundle that carries a key rotation (with their own
# threshold). A rotation signed by the publisher alone is then refused
# (exit 3, "root key"), trust store and state unchanged; signed by publisher
# and root it applies. A root key alone does not sign content.
source "$(dirname "$0")/common.sh"
setup_site
"$BUNDLER" keygen --out "$T/root1" >/dev/null
"$BUNDLER" keygen --out "$T/new" >/dev/null
"$INSTALLER" trust add "$T/root1.pub" --name root1 --role root >/dev/null
"$INSTALLER" trust list | grep -q "  root1  (root)" || fail "trust list does not show the root key"
[ "$("$INSTALLER" trust list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["root_keys"]), d["root_threshold"], len(d["keys"]))')" = "1 1 1" ] \
  || fail "trust list --json roles"
expect_fail 1 "threshold 2 is impossible with 1 trusted key" "$INSTALLER" trust threshold 2 --role root

site="$AIRLOCK_ROOT/keys/site.pub"
make_model m1 2M 1
for v in 1 2 3; do make_manifest v$v.toml demo $v.0.0 m1; done
"$BUNDLER" create v1.toml -o rot-pub --sign "$T/pub.key" --to "$site" --sequence 10 -q \
  --trust-add new="$T/new.pub" >/dev/null
"$BUNDLER" create v1.toml -o rootonly --sign "$T/root1.key" --to "$site" --sequence 11 -q >/dev/null
"$BUNDLER" create v2.toml -o rot-both --sign "$T/pub.key" --sign "$T/root1.key" --to "$site" --sequence 20 -q \
  --trust-add new="$T/new.pub" >/dev/null

save_state; "$INSTALLER" trust list --json > "$T/trust.before"
expect_fail 3 "key rotation needs 1 root key signature\(s\)" "$INSTALLER" install rot-pub -q
expect_fail 3 "signed by 0 trusted key\(s\), 1 required" "$INSTALLER" install rootonly -q
assert_state_unchanged "rotation without a root signature; content signed by a root key only"
"$INSTALLER" trust list --json | diff -u "$T/trust.before" - >&2 || fail "trust store changed"

"$INSTALLER" install rot-both -q >/dev/null
"$INSTALLER" trust list | grep -q "  new$" || fail "rotation signed by publisher and root not applied"
# Without root keys the publisher threshold alone governs rotations again.
"$INSTALLER" trust remove root1 --role root >/dev/null
"$BUNDLER" create v3.toml -o rot-after --sign "$T/pub.key" --to "$site" --sequence 30 -q \
  --trust-threshold 2 >/dev/null
"$INSTALLER" install rot-after -q >/dev/null
"$INSTALLER" trust list | grep -q "threshold: 2 of 2" || fail "rotation after removing the root key not applied"
pass "root keys gate rotations, not content; publisher keys sign content"

# Signature threshold: with 'trust threshold 2' a bundle needs signatures
# from two distinct trusted keys. One signature, the same key twice, or one
# trusted plus one untrusted key are refused (exit 3, "N required"), state
# unchanged; two trusted keys install. Impossible thresholds and removals
# that would undercut the threshold are refused; a malformed policy file is
# named.
source "$(dirname "$0")/common.sh"
setup_site
"$BUNDLER" keygen --out "$T/second" >/dev/null
"$BUNDLER" keygen --out "$T/rogue" >/dev/null
cp "$T/pub.key" "$T/pub-copy.key"   # the same secret key under another file name

expect_fail 1 "threshold 2 is impossible with 1 trusted key" "$INSTALLER" trust threshold 2
"$INSTALLER" trust add "$T/second.pub" --name second --threshold 2 >/dev/null
"$INSTALLER" trust list | grep -q "threshold: 2 of 2" || fail "trust list does not show the threshold"
[ "$("$INSTALLER" trust list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["threshold"])')" = 2 ] \
  || fail "trust list --json threshold"

make_model m1 2M 1
make_manifest v1.toml demo 1.0.0 m1
site="$AIRLOCK_ROOT/keys/site.pub"
mk() {  # OUT SEQ KEY...
  local out=$1 seq=$2; shift 2
  local args=()
  for k in "$@"; do args+=(--sign "$T/$k.key"); done
  "$BUNDLER" create v1.toml -o "$out" "${args[@]}" --to "$site" --sequence "$seq" -q >/dev/null
}
mk one 10 pub
mk twice 11 pub pub-copy
mk withrogue 12 pub rogue
mk two 13 pub second

save_state
expect_fail 3 "signed by 1 trusted key\(s\), 2 required" "$INSTALLER" install one -q
expect_fail 3 "signed by 1 trusted key\(s\), 2 required" "$INSTALLER" install twice -q
expect_fail 3 "signed by 1 trusted key\(s\), 2 required.*untrusted signer key id" "$INSTALLER" install withrogue -q
expect_fail 3 "2 required" "$INSTALLER" verify one -q
assert_state_unchanged "under-threshold bundles"

"$INSTALLER" install two -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 1.0.0 ] || fail "two-key bundle not active"

expect_fail 1 "would leave 1 trusted key.*threshold of 2" "$INSTALLER" trust remove second
"$INSTALLER" trust list | grep -q second || fail "second was removed anyway"
"$INSTALLER" trust threshold 1 >/dev/null
"$INSTALLER" trust remove second >/dev/null

echo '{"threshold": "two"}' > "$AIRLOCK_ROOT/keys/policy.json"
expect_fail 3 "policy.json: malformed policy" "$INSTALLER" trust list
pass "threshold 2: one key, a key twice, trusted+untrusted refused; two keys install; bad policy named"

# `create --no-encrypt`: still signed and hashed, but the installer refuses it
# (exit 3, saying why and what to pass) unless --allow-unencrypted is given.
source "$(dirname "$0")/common.sh"
setup_site
make_model m 4M 1
mkdir serve && printf '#!/bin/sh\necho serving\n' > serve/run.sh && chmod +x serve/run.sh
make_manifest v1.toml plain 1.0.0 m serve
"$BUNDLER" create v1.toml -o b1 --sign "$T/pub.key" --no-encrypt --sequence 10 -q >/dev/null
"$BUNDLER" inspect b1 > insp.out
grep -Eq "cipher +none" insp.out || fail "inspect does not say the bundle is unencrypted"
# Unencrypted: the file list is readable without any key.
grep -q "model/config.json" insp.out || fail "inspect of an unencrypted bundle lists no files"
"$BUNDLER" verify b1 --trust "$T/pub.pub" -q >/dev/null

# Refused by default, by verify and install alike, with nothing written.
save_state
expect_fail 3 "not encrypted.*--allow-unencrypted" "$INSTALLER" verify b1
expect_fail 3 "not encrypted.*--allow-unencrypted" "$INSTALLER" install b1
expect_fail 3 "not encrypted.*--allow-unencrypted" "$INSTALLER" install b1/plain-1.0.0.airlock --no-activate
assert_state_unchanged "refused unencrypted install"
[ ! -e "$AIRLOCK_ROOT/deployments/plain" ] || fail "refused install created deployments/plain"
[ -z "$(ls -A "$AIRLOCK_ROOT/staging")" ] || fail "refused install left staging"

# Accepted with the flag; signature and hashes still enforced.
"$INSTALLER" verify b1 --allow-unencrypted -q >/dev/null
"$INSTALLER" install b1 --allow-unencrypted -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/plain/current")" = 1.0.0 ] || fail "unencrypted bundle not active"
cmp m/model-00002-of-00002.safetensors "$AIRLOCK_ROOT/deployments/plain/1.0.0/model/model-00002-of-00002.safetensors"
cmp serve/run.sh "$AIRLOCK_ROOT/deployments/plain/1.0.0/serve/run.sh"
"$INSTALLER" check plain >/dev/null

# The flag is not a bypass for tampering: a flipped byte in a volume is still caught.
make_manifest v2.toml plain 2.0.0 m serve
"$BUNDLER" create v2.toml -o b2 --sign "$T/pub.key" --no-encrypt --sequence 20 -q >/dev/null
flip_byte b2/plain-2.0.0.vol001.tar 5000
save_state
expect_fail 3 "plain-2\.0\.0\.vol001\.tar" "$INSTALLER" install b2 --allow-unencrypted -q
assert_state_unchanged "tampered unencrypted bundle"
# Nor for an untrusted signer.
"$BUNDLER" keygen --out "$T/other" >/dev/null
"$BUNDLER" create v2.toml -o b3 --sign "$T/other.key" --no-encrypt --sequence 30 -q >/dev/null
expect_fail 3 "trust|signed|signature" "$INSTALLER" install b3 --allow-unencrypted -q
assert_state_unchanged "untrusted unencrypted bundle"
"$INSTALLER" history plain --json | python3 -c '
import json,sys
ev=json.load(sys.stdin)
assert any(e["action"]=="install" and e["result"]=="ok" for e in ev), ev'
pass "--no-encrypt bundles need --allow-unencrypted (exit 3 otherwise) and stay signed and hashed"

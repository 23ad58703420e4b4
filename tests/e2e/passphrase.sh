# A passphrase-encrypted bundle installs with the right passphrase file only:
# a wrong passphrase or none at all is exit 3 with a clear message and no change.
source "$(dirname "$0")/common.sh"
two_models 4M 4M
bundle v1.toml b1 100
"$INSTALLER" install b1 -q >/dev/null
printf 'correct horse battery staple\n' > pass.txt
printf 'correct horse battery stable\n' > wrong.txt
"$BUNDLER" create v2.toml -o bp --sign "$T/pub.key" --passphrase-file pass.txt --sequence 200 -q >/dev/null
"$BUNDLER" inspect bp --json | grep -q argon2id || fail "no argon2id recipient in the header"
grep -rqa "correct horse" bp && fail "passphrase stored in the bundle"

save_state
expect_fail 3 "wrong passphrase" "$INSTALLER" install bp -q --passphrase-file wrong.txt
assert_state_unchanged "wrong passphrase"
expect_fail 3 "wrong passphrase" "$INSTALLER" verify bp -q --passphrase-file wrong.txt
expect_fail 3 "demo-2.0.0.airlock.*passphrase.*--passphrase-file" "$INSTALLER" install bp -q
assert_state_unchanged "no passphrase"
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 1.0.0 ] || fail "v1 not active"
[ ! -e "$AIRLOCK_ROOT/deployments/demo/2.0.0" ] || fail "v2 files exist after refusals"

"$INSTALLER" verify bp -q --passphrase-file pass.txt >/dev/null
"$INSTALLER" install bp -q --passphrase-file pass.txt >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 2.0.0 ] || fail "v2 not active"
for f in m2/*; do cmp "$f" "$AIRLOCK_ROOT/deployments/demo/2.0.0/model/$(basename "$f")"; done
pass "passphrase bundle: right passphrase installs; wrong or missing passphrase refused (exit 3), state unchanged"

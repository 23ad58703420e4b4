# Sequence numbers only grow per deployment: an older or equal sequence from
# another bundle is refused as a replay (exit 3, recorded as "refused"); the
# very same bundle again is a no-op success.
source "$(dirname "$0")/common.sh"
two_models 4M 4M
make_manifest v3.toml demo 3.0.0 m2
bundle v2.toml s200 200
bundle v1.toml s100 100
bundle v3.toml s200b 200
bundle v2.toml s200c 200   # same name, version and sequence, another bundle id
"$INSTALLER" install s200 -q >/dev/null

save_state
expect_fail 3 "demo-1.0.0.airlock.*replay" "$INSTALLER" install s100 -q
assert_state_unchanged "older sequence"
expect_fail 3 "demo-3.0.0.airlock.*replay" "$INSTALLER" install s200b -q
assert_state_unchanged "equal sequence, other version"
expect_fail 3 "demo-2.0.0.airlock.*replay" "$INSTALLER" install s200c -q
assert_state_unchanged "equal sequence, same version, other bundle"
[ ! -e "$AIRLOCK_ROOT/deployments/demo/1.0.0" ] || fail "replayed v1 files exist"

rc=0; out=$("$INSTALLER" install s200 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "re-install of the installed bundle exited $rc: $out"
grep -q "already installed" <<<"$out" || fail "re-install does not say already installed: $out"
assert_state_unchanged "re-install of the same bundle"

"$INSTALLER" history demo --json | python3 -c '
import json,sys; e=json.load(sys.stdin)
r=[x for x in e if x["action"]=="install" and x["result"]=="refused" and "replay" in x["detail"]]
assert len(r)==3, e'
"$INSTALLER" status --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["event_chain_ok"] is True'
pass "older and equal sequences refused as replays (exit 3, in history); same bundle again is a no-op"

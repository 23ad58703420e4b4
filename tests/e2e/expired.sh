# A bundle past its --expires time is refused (exit 3, "expired"); one still
# within its lifetime installs.
source "$(dirname "$0")/common.sh"
setup_site
make_model m1 4M 1
make_manifest v1.toml demo 1.0.0 m1
bundle v1.toml short 100 --expires 1s
bundle v1.toml long 200 --expires 1h
"$BUNDLER" inspect long --json | python3 -c '
import json,sys,time; h=json.load(sys.stdin); e=h["expires"]
assert 3000 < e - time.time() <= 3600, h'
sleep 2

save_state
expect_fail 3 "demo-1.0.0.airlock.*expired" "$INSTALLER" install short -q
expect_fail 3 "expired" "$INSTALLER" verify short -q
assert_state_unchanged "expired bundle"
[ ! -e "$AIRLOCK_ROOT/deployments/demo/1.0.0" ] || fail "files of an expired bundle exist"
"$INSTALLER" history --json | python3 -c '
import json,sys; e=json.load(sys.stdin)
assert any(x["result"]=="refused" and "expired" in x["detail"] for x in e), e'

"$INSTALLER" install long -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 1.0.0 ] || fail "unexpired bundle not active"
pass "expired bundle refused (exit 3), unexpired one installs"

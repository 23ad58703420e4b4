# Volumes that are truncated, missing, renamed, swapped, duplicated or extra
# are refused with exit 3 naming the volume at fault, before anything is
# installed.
source "$(dirname "$0")/common.sh"
setup_site
make_model m1 4M 1
make_model m2 12M 2
make_manifest v1.toml demo 1.0.0 m1
make_manifest v2.toml demo 2.0.0 m2
bundle v1.toml b1 100
bundle v2.toml b2 200 --volume-size 4M
[ "$(ls b2/*.vol*.tar | wc -l)" -ge 3 ] || fail "expected at least 3 volumes"
"$INSTALLER" install b1 -q >/dev/null
V=demo-2.0.0
save_state
refused() {  # refused WHAT PATTERN
  expect_fail 3 "$2" "$INSTALLER" install t -q
  assert_state_unchanged "$1"
  [ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 1.0.0 ] || fail "v1 not active after $1"
  [ ! -e "$AIRLOCK_ROOT/deployments/demo/2.0.0" ] || fail "v2 files exist after $1"
}
fresh() { rm -rf t && cp -r b2 t; }

fresh; truncate -s 1000000 "t/$V.vol002.tar"
refused "truncated volume" "$V\.vol002\.tar.*(truncated|bytes)"
expect_fail 3 "$V\.vol002\.tar.*(truncated|bytes)" "$BUNDLER" -q verify t --trust "$T/pub.pub"
fresh; rm "t/$V.vol002.tar"
refused "missing volume" "$V\.vol002\.tar.*missing"
expect_fail 3 "$V\.vol002\.tar.*missing" "$BUNDLER" -q verify t --trust "$T/pub.pub"
fresh; mv "t/$V.vol003.tar" "t/$V.vol03.tar"
refused "renamed volume" "$V\.vol003\.tar.*missing"
fresh; mv "t/$V.vol001.tar" t/x && mv "t/$V.vol002.tar" "t/$V.vol001.tar" && mv t/x "t/$V.vol002.tar"
refused "swapped volumes" "$V\.vol00[12]\.tar"
expect_fail 3 "$V\.vol00[12]\.tar" "$INSTALLER" verify t -q
fresh; cp "t/$V.vol001.tar" "t/$V.vol002.tar"
refused "duplicated volume" "$V\.vol002\.tar"
fresh; cp "t/$V.vol001.tar" "t/$V.vol009.tar"
refused "extra volume" "$V\.vol009\.tar: volume not listed in the signed index"
expect_fail 3 "$V\.vol009\.tar: volume not listed" "$BUNDLER" -q verify t --trust "$T/pub.pub"

# Put right again, the same copy installs.
fresh; "$INSTALLER" install t -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 2.0.0 ] || fail "intact v2 did not install"
pass "truncated, missing, renamed, swapped, duplicated and extra volumes refused (exit 3, volume named), state unchanged"

# Volumes that are truncated, swapped, duplicated or extra are refused with
# exit 3 naming the volume at fault, before anything is installed. A missing
# (or renamed) volume, or a volume named instead of the bundle, is an
# operator's slip, not tampering: exit 1 saying which volume to copy or
# insert, or what to give instead.
source "$(dirname "$0")/common.sh"
two_models 4M 12M
bundle v1.toml b1 100
bundle v2.toml b2 200 --volume-size 4M
[ "$(ls b2/*.vol*.tar | wc -l)" -ge 3 ] || fail "expected at least 3 volumes"
"$INSTALLER" install b1 -q >/dev/null
V=demo-2.0.0
save_state
refused() {  # refused WHAT PATTERN [CODE]
  expect_fail "${3:-3}" "$2" "$INSTALLER" install t -q
  assert_state_unchanged "$1"
  [ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 1.0.0 ] || fail "v1 not active after $1"
  [ ! -e "$AIRLOCK_ROOT/deployments/demo/2.0.0" ] || fail "v2 files exist after $1"
}
fresh() { rm -rf t && cp -r b2 t; }

fresh; truncate -s 1000000 "t/$V.vol002.tar"
refused "truncated volume" "$V\.vol002\.tar.*(truncated|bytes)"
expect_fail 3 "$V\.vol002\.tar.*(truncated|bytes)" "$BUNDLER" -q verify t --trust "$T/pub.pub"
fresh; rm "t/$V.vol002.tar"
refused "missing volume" "$V\.vol002\.tar.*missing.*copy or insert volume $V\.vol002\.tar \(2 of" 1
expect_fail 1 "$V\.vol002\.tar.*missing.*copy or insert volume $V\.vol002\.tar" "$INSTALLER" verify t -q
expect_fail 1 "$V\.vol002\.tar.*missing.*copy or insert volume $V\.vol002\.tar" "$BUNDLER" -q verify t --trust "$T/pub.pub"
# Missing and damaged together: the damage decides (exit 3).
truncate -s 1000000 "t/$V.vol001.tar"
expect_fail 3 "$V\.vol001\.tar.*(truncated|bytes)" "$BUNDLER" -q verify t --trust "$T/pub.pub"
fresh; mv "t/$V.vol003.tar" "t/$V.vol03.tar"
refused "renamed volume" "$V\.vol003\.tar.*missing.*copy or insert volume" 1
# A volume named instead of the bundle.
fresh
expect_fail 1 "$V\.vol001\.tar: is a volume of a bundle, not its index; give the bundle directory" \
  "$INSTALLER" install "t/$V.vol001.tar" -q
assert_state_unchanged "volume named as the bundle"
cp "t/$V.vol001.tar" t/disc1
expect_fail 1 "disc1: is a volume of a bundle, not its index" "$INSTALLER" verify t/disc1 -q
expect_fail 1 "is a volume of a bundle, not its index" "$BUNDLER" -q verify "t/$V.vol002.tar" --trust "$T/pub.pub"
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
pass "truncated, swapped, duplicated and extra volumes refused (exit 3), missing or renamed ones and a volume given as the bundle exit 1 (volume named), state unchanged"

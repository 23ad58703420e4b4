# The time floor: the newest creation time of any bundle recorded here.
# A clock set back more than an hour before it (faketime, Debian's libfaketime)
# is noticed and refused (exit 3), so an expired bundle cannot be revived by
# winding the clock back; a bundle created "in the future" of the site clock
# is refused the same way; expiry is still enforced with a sane clock.
source "$(dirname "$0")/common.sh"
require_tools faketime
# libfaketime is an LD_PRELOAD library; clang's statically linked ASan
# runtime and it disagree about who owns early allocations (a double free in
# libfaketime's start-up). The sanitizer build skips this test; the regular
# build (scripts/test.sh stage 1) runs it.
skip_if_sanitized "libfaketime and ASan do not mix"
setup_site
make_model m1 2M 1
make_manifest v1.toml demo 1.0.0 m1
make_manifest v2.toml demo 2.0.0 m1
make_manifest v3.toml demo 3.0.0 m1

# v2 was made three days ago and expired one day after that: expired now.
faketime -f '-3d' "$BUNDLER" create v2.toml -o old --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" \
  --sequence 20 --expires 1d -q >/dev/null
save_state
expect_fail 3 "expired" "$INSTALLER" install old -q
assert_state_unchanged "expired bundle"

# Install v1 now: the floor becomes now.
bundle v1.toml b1 10
"$INSTALLER" install b1 -q >/dev/null
save_state
# Winding the clock back three days would make the old bundle look valid:
expect_fail 3 "clock has been set back" faketime -f '-3d' "$INSTALLER" install old -q
assert_state_unchanged "clock set back before the time floor"
# Within the hour of slack the floor does not trigger (expiry still does).
expect_fail 3 "expired" faketime -f '-30m' "$INSTALLER" install old -q

# A bundle created two days from the site's point of view in the future:
faketime -f '+2d' "$BUNDLER" create v3.toml -o future --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" \
  --sequence 30 -q >/dev/null
expect_fail 3 "clock is behind" "$INSTALLER" install future -q
assert_state_unchanged "bundle from the future"
faketime -f '+2d' "$INSTALLER" install future -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 3.0.0 ] || fail "v3 not active"
pass "clock set back before the floor and bundles from the future refused; expiry enforced"

# A root on a full filesystem: installing a version that does not fit fails
# with exit 1 saying so, the previous version stays active and intact, nothing
# is left in staging, and once there is room the same bundle installs.
source "$(dirname "$0")/common.sh"
setup_site
REG="$AIRLOCK_ROOT"
mkdir "$T/small"
mount -t tmpfs -o size=12M tmpfs "$T/small" 2>/dev/null || skip "cannot mount a tmpfs (not root?)"
E2E_MOUNTS+=("$T/small")
SMALL="$T/small/root"
"$INSTALLER" --root "$SMALL" init >/dev/null 2>&1
"$INSTALLER" --root "$SMALL" trust add "$T/pub.pub" --name publisher >/dev/null
make_model m1 2M 3
make_model m2 24M 4
make_manifest v1.toml fd 1.0.0 m1
make_manifest v2.toml fd 2.0.0 m2
bundle v1.toml b1 10 --to "$SMALL/keys/site.pub"
bundle v2.toml b2 20 --to "$SMALL/keys/site.pub"
# On the regular disk both install: the bundles are good, only space is missing below.
"$INSTALLER" install b1 -q >/dev/null
"$INSTALLER" install b2 -q >/dev/null
[ "$(readlink "$REG/deployments/fd/current")" = 2.0.0 ] || fail "v2 did not install on the regular disk"

export AIRLOCK_ROOT="$SMALL"
"$INSTALLER" install b1 -q >/dev/null
intact() {  # the small root still has exactly v1, active and verified
  [ "$(readlink "$SMALL/deployments/fd/current")" = 1.0.0 ] || fail "$1: v1 no longer active"
  [ ! -e "$SMALL/deployments/fd/2.0.0" ] || fail "$1: a 2.0.0 directory is left"
  [ -z "$(ls -A "$SMALL/staging")" ] || fail "$1: staging not empty: $(ls -A "$SMALL/staging")"
  "$INSTALLER" check fd >/dev/null || fail "$1: check fails"
  "$INSTALLER" list --json | python3 -c '
import json,sys
d=json.load(sys.stdin); v=[x["version"] for x in d[0]["versions"]]
assert d[0]["active_version"]=="1.0.0" and v==["1.0.0"], d' || fail "$1: ledger lists more than v1"
  "$INSTALLER" status --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["event_chain_ok"]' ||
    fail "$1: event chain broken"
}
intact "after v1"
save_state

# 1. v2 is twice the size of the filesystem.
expect_fail 1 "No space left" "$INSTALLER" install b2 -q
intact "after an install that does not fit"
assert_state_unchanged "failed install (too big)"
"$INSTALLER" history fd --json | python3 -c '
import json,sys
ev=json.load(sys.stdin)
assert any(e["action"]=="install" and e["result"]!="ok" and "2.0.0" in e["target"] for e in ev), ev' ||
  fail "the failed install is not in the event log"

# 2. The filesystem is completely full (not one block left, even for the ledger).
dd if=/dev/zero of="$T/small/filler" bs=4k 2>/dev/null || true
expect_fail 1 "No space left|[Dd]isk is full|ENOSPC" "$INSTALLER" install b2 -q
rm -f "$T/small/filler"
intact "after an install on a full filesystem"
assert_state_unchanged "failed install (disk full)"

# 3. With room, the same bundle installs and becomes active.
mount -o remount,size=96M "$T/small"
"$INSTALLER" install b2 -q >/dev/null
[ "$(readlink "$SMALL/deployments/fd/current")" = 2.0.0 ] || fail "v2 not active once there is room"
for f in m2/*; do cmp "$f" "$SMALL/deployments/fd/2.0.0/model/$(basename "$f")"; done
"$INSTALLER" check >/dev/null
[ -z "$(ls -A "$SMALL/staging")" ] || fail "staging not empty after the good install"
pass "no space: exit 1, v1 active and intact, nothing left behind; installs once there is room"

# The main path: bundle v1, install, bundle v2 sharing most tensors, install
# (unchanged files hardlinked), roll back, roll forward with --to, check, gc.
source "$(dirname "$0")/common.sh"
setup_site
make_model m1 8M 1
make_model m2 8M 1 --changed 0.3 --changed-seed 2
mkdir serve && printf '#!/bin/sh\necho serving\n' > serve/run.sh && chmod +x serve/run.sh
make_manifest v1.toml demo 1.0.0 m1 serve
make_manifest v2.toml demo 2.0.0 m2 serve
bundle v1.toml b1 100 --volume-size 4M
bundle v2.toml b2 200 --volume-size 4M
[ "$(ls b1/*.vol*.tar | wc -l)" -ge 2 ] || fail "expected several 4 MiB volumes"
for v in b1/*.tar; do [ "$(stat -c %s "$v")" -le $((4 * 1024 * 1024)) ] || fail "$v exceeds the volume size"; done
tar -tf b1/demo-1.0.0.vol001.tar | grep -q '^packs/' || fail "volume is not a tar of packs"

"$INSTALLER" install b1 -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 1.0.0 ] || fail "v1 not active"
cmp m1/model-00001-of-00002.safetensors "$AIRLOCK_ROOT/deployments/demo/current/model/model-00001-of-00002.safetensors"
cmp serve/run.sh "$AIRLOCK_ROOT/deployments/demo/1.0.0/serve/run.sh"
[ -x "$AIRLOCK_ROOT/deployments/demo/1.0.0/serve/run.sh" ] || fail "mode 755 lost"
[ ! -w "$AIRLOCK_ROOT/deployments/demo/1.0.0/model/config.json" ] || [ "$(id -u)" = 0 ] || fail "installed file writable"
[ "$(stat -c %a "$AIRLOCK_ROOT/deployments/demo/1.0.0/model/config.json")" = 444 ] || fail "installed file not read-only"

"$INSTALLER" install b1 -q | grep -q "already installed" || fail "re-install is not a no-op"

"$INSTALLER" install b2 -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 2.0.0 ] || fail "v2 not active"
for f in m2/*; do cmp "$f" "$AIRLOCK_ROOT/deployments/demo/2.0.0/model/$(basename "$f")"; done
# Unchanged files share the inode with v1.
[ "$(stat -c %i "$AIRLOCK_ROOT/deployments/demo/1.0.0/model/config.json")" = \
  "$(stat -c %i "$AIRLOCK_ROOT/deployments/demo/2.0.0/model/config.json")" ] || fail "unchanged file not hardlinked"

"$INSTALLER" rollback demo >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 1.0.0 ] || fail "rollback did not switch to 1.0.0"
"$INSTALLER" rollback demo --to 2.0.0 >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 2.0.0 ] || fail "rollback --to 2.0.0 failed"
expect_fail 1 "not installed" "$INSTALLER" rollback demo --to 9.9.9

"$INSTALLER" check demo | grep -q "ok: 14 installed files" || fail "check did not count 14 files"
"$INSTALLER" list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[0]["active_version"]=="2.0.0", d; assert len(d[0]["versions"])==2'
"$INSTALLER" history demo --json | python3 -c '
import json,sys
acts=[e["action"] for e in json.load(sys.stdin)]
assert acts.count("install")==2 and acts.count("rollback")==2, acts'
"$INSTALLER" status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["event_chain_ok"] is True'

"$INSTALLER" gc --keep 1 >/dev/null
[ ! -e "$AIRLOCK_ROOT/deployments/demo/1.0.0" ] || fail "gc kept 1.0.0"
[ -e "$AIRLOCK_ROOT/deployments/demo/2.0.0/model/config.json" ] || fail "gc removed the active version"
"$INSTALLER" check >/dev/null
pass "install, upgrade with hardlinks, rollback, check, gc"

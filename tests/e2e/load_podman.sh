# install --load podman: the version's images reach podman's own storage
# (here a private vfs store, so the host's is untouched) under their full
# reference, with the registry's config digest as the image id, before the
# [activate] commands run (which can see the image). Without podman on PATH
# the activation fails and, on a first version, nothing is left active.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/oci_setup.sh"
require_tools podman
cat > "$T/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$T/podman/graph"
runroot = "$T/podman/run"
EOF
export CONTAINERS_STORAGE_CONF="$T/storage.conf"
podman images >/dev/null 2>"$T/podman.err" || { cat "$T/podman.err"; skip "podman cannot use a private store here"; }

setup_site
start_registry "$T/reg"
build_image "$T/layout" v1 amd64 4
push "$T/layout:v1" "$REG/engine:v1"
CONFIG=$(skopeo inspect --tls-verify=false --raw "docker://$REG/engine:v1" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"][7:])')
{ image_manifest engine "$REG/engine:v1"
  printf '\n[activate]\nrun = ["podman image exists %s"]\n' "$REG/engine:v1"
} > m.toml
bundle m.toml b1 1

# No podman on PATH: a first version that cannot load has nothing to fall back to.
mkdir nopodman && for t in sh python3; do ln -s "$(command -v $t)" "nopodman/$t"; done
expect_fail 1 "engine 1.0.0: --load podman: podman is not installed" env PATH="$T/nopodman" "$INSTALLER" install b1 --load podman
[ ! -e "$AIRLOCK_ROOT/deployments/engine/current" ] || fail "a version is active after a failed load"
[ -z "$(ls -A "$AIRLOCK_ROOT/staging" 2>/dev/null)" ] || fail "staging left behind"
"$INSTALLER" history -q | grep -q "load .*engine/1.0.0 .*failed" || fail "no failed load event"

expect_fail 2 "cannot go with --no-activate" "$INSTALLER" install b1 --load podman --no-activate
expect_fail 2 "--load" "$INSTALLER" install b1 --load containerd

# With podman: a fresh site (this one already holds 1.0.0, installed but inactive).
export AIRLOCK_ROOT="$T/root2"
"$INSTALLER" init >/dev/null 2>&1
"$INSTALLER" trust add "$T/pub.pub" --name publisher >/dev/null
bundle m.toml b2 1
"$INSTALLER" install b2 --load podman >/dev/null 2>load.err || { cat load.err; fail "install --load podman"; }
grep -q "loaded $REG/engine:v1" load.err || { cat load.err; fail "no 'loaded' line"; }
ID=$(podman image inspect "$REG/engine:v1" --format '{{.Id}}')
[ "$ID" = "$CONFIG" ] || fail "podman's image id $ID is not the registry's config digest $CONFIG"
[ -z "$(ls -A "$AIRLOCK_ROOT/staging")" ] || fail "the load tar was left in staging"
pass "install --load podman: image in podman's store with the registry's config digest, before [activate]; failures clear"

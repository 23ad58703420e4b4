# Sourced by the release tests (tests/release/*.sh, run by scripts/test.sh
# after packaging/build-release.sh): the e2e helpers (the bundler of
# $AIRLOCK_BUILD_DIR makes the bundles), the artifacts in $AIRLOCK_DIST_DIR,
# and an empty chroot to run a static installer in.
: "${AIRLOCK_DIST_DIR:?set AIRLOCK_DIST_DIR to the folder packaging/build-release.sh wrote (dist)}"
DIST="$(cd "$AIRLOCK_DIST_DIR" && pwd)"
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/common.sh"

# The release build trees, which hold the unstripped twins of the artifacts.
RELEASE_BUILD_DIR="${AIRLOCK_RELEASE_BUILD_DIR:-${AIRLOCK_SOURCE_DIR:-.}/build-release}"

# artifact ARCH: the static installer for linux-ARCH, which must be there.
artifact() {
  local f="$DIST/airlock-installer-linux-$1"
  [ -f "$f" ] || fail "$f missing: run packaging/build-release.sh"
  echo "$f"
}

# can_chroot: chroot works here (root, or an unprivileged user namespace).
# CHROOT is the command line before DIR, with absolute paths: in_chroot runs
# it with an empty environment (no PATH).
CHROOT=()
can_chroot() {
  local chroot unshare
  chroot="$(command -v chroot)" || return 1
  if [ "$(id -u)" -eq 0 ]; then CHROOT=("$chroot"); return 0; fi
  unshare="$(command -v unshare)" || return 1
  if "$unshare" -r true 2>/dev/null; then CHROOT=("$unshare" -r "$chroot"); return 0; fi
  return 1
}

# make_chroot DIR BINARY [EMULATOR]: DIR holds nothing but /airlock-installer
# (BINARY), an empty /root for the installer's state and, when given, the
# user-mode emulator /emulator (itself static). No /lib, no /etc, no /tmp,
# no /dev, no /proc: whatever the installer needed from the system would be
# missing. The bundles and the publisher key are added by the scenario.
make_chroot() {
  local dir=$1 bin=$2 emu=${3:-}
  mkdir -p "$dir/root"
  chmod 0700 "$dir/root"
  cp "$bin" "$dir/airlock-installer"
  if [ -n "$emu" ]; then cp "$emu" "$dir/emulator"; fi
  CH="$dir"
  CH_EMU="$emu"
}

# in_chroot ARGS...: runs the installer in $CH with ROOT /root and an empty
# environment (but NO_COLOR and TERM), as from a bare console.
in_chroot() {
  local cmd=(/airlock-installer)
  if [ -n "${CH_EMU:-}" ]; then cmd=(/emulator /airlock-installer); fi
  env -i NO_COLOR=1 TERM=dumb "${CHROOT[@]}" "$CH" "${cmd[@]}" --root /root "$@"
}

# chroot_scenario: the whole site-side life of a deployment with the
# installer in $CH, on bundles the bundler makes for the site key that
# `init` printed there: init, trust add, verify, install v1, install v2,
# rollback, check (clean, then a changed file found), history, status.
chroot_scenario() {
  in_chroot init >"$T/init.out" 2>"$T/init.err" || { cat "$T/init.err" >&2; fail "init in the chroot failed"; }
  grep -q '^airlock-x25519-public-v1 ' "$T/init.out" || fail "init printed no site key"
  [ -f "$CH/root/keys/site.pub" ] || fail "init wrote no keys/site.pub"

  # The connected side: a publisher key and two versions addressed to this site.
  AIRLOCK_ROOT="$CH/root"  # so bundle() encrypts to the chroot's site key
  "$BUNDLER" keygen --out "$T/pub" >/dev/null
  make_model m1 6M 1
  make_model m2 6M 1 --changed 0.3 --changed-seed 2
  make_manifest v1.toml demo 1.0.0 m1
  make_manifest v2.toml demo 2.0.0 m2
  bundle v1.toml "$CH/b1" 1 --volume-size 4M
  bundle v2.toml "$CH/b2" 2 --volume-size 4M
  cp "$T/pub.pub" "$CH/publisher.pub"

  in_chroot trust add /publisher.pub --name publisher >/dev/null || fail "trust add in the chroot failed"
  in_chroot verify /b1 -q >"$T/verify.out" || fail "verify in the chroot failed"
  grep -q "demo 1.0.0 verified" "$T/verify.out" || fail "verify did not report demo 1.0.0: $(cat "$T/verify.out")"

  in_chroot install /b1 -q >/dev/null || fail "install b1 in the chroot failed"
  [ "$(readlink "$CH/root/deployments/demo/current")" = 1.0.0 ] || fail "1.0.0 not active"
  for f in m1/*; do cmp "$f" "$CH/root/deployments/demo/1.0.0/model/$(basename "$f")" || fail "1.0.0: $f differs"; done
  in_chroot install /b2 -q >/dev/null || fail "install b2 in the chroot failed"
  [ "$(readlink "$CH/root/deployments/demo/current")" = 2.0.0 ] || fail "2.0.0 not active"
  for f in m2/*; do cmp "$f" "$CH/root/deployments/demo/2.0.0/model/$(basename "$f")" || fail "2.0.0: $f differs"; done

  in_chroot rollback demo >/dev/null || fail "rollback in the chroot failed"
  [ "$(readlink "$CH/root/deployments/demo/current")" = 1.0.0 ] || fail "rollback did not make 1.0.0 active"

  in_chroot check >"$T/check.out" || fail "check of an intact site failed: $(cat "$T/check.out")"
  grep -q '^ok: ' "$T/check.out" || fail "check printed no ok line"
  local shard="$CH/root/deployments/demo/1.0.0/model/model-00001-of-00002.safetensors"
  chmod u+w "$(dirname "$shard")" "$shard"
  flip_byte "$shard" 100
  local rc=0
  in_chroot check >"$T/check2.out" 2>&1 || rc=$?
  [ "$rc" -eq 3 ] || fail "check of a changed file exited $rc, not 3"
  grep -q "model-00001-of-00002.safetensors: SHA-256" "$T/check2.out" || fail "check did not name the changed file"
  flip_byte "$shard" 100

  in_chroot history demo --json >"$T/history.json" || fail "history in the chroot failed"
  python3 - "$T/history.json" "$(sha256sum < "$CH/airlock-installer" | cut -d' ' -f1)" <<'PY' ||
import json, sys
ev = json.load(open(sys.argv[1]))
acts = [e["action"] for e in ev]
assert acts.count("install") == 2 and acts.count("rollback") == 1, acts
# No /etc/passwd in the chroot and no NSS: the user is the uid, never empty.
assert all(e["user"] == "0" for e in ev), [e["user"] for e in ev]
# No /proc either: each event still names this binary by its SHA-256.
assert all(e["installer"]["sha256"] == sys.argv[2] for e in ev), [e["installer"] for e in ev]
PY
    fail "history lacks the events, or they name the wrong user or installer"
  in_chroot status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["event_chain_ok"] is True, d' ||
    fail "status: the event chain does not verify"
}

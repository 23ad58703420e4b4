# kill -9 at every step of an install (AIRLOCK_TEST_CRASH_AT, see
# installer/site/crash_point.h): staged, streamed, verified, moved, committed,
# activated, targets (install targets half rebuilt). After each, the next
# command recovers: before the ledger commit v1 stays active and nothing of
# v2 is left; from the commit on v2 is active. Either way `check` passes,
# staging is empty, refs/main in ROOT/hf names the active version's snapshot,
# and re-running the install completes (or is a no-op) with v2 active.
source "$(dirname "$0")/common.sh"
require_test_hooks
steps=(staged streamed verified moved committed activated targets)
setup_roots "${steps[@]}"
export AIRLOCK_ROOT="$T/staged"
make_model m1 2M 1
make_model m2 6M 2
make_manifest v1.toml cs 1.0.0 m1
make_manifest v2.toml cs 2.0.0 m2
bundle v1.toml b1 1 "${TOS[@]}"
bundle v2.toml b2 2 "${TOS[@]}"

for s in "${steps[@]}"; do
  export AIRLOCK_ROOT="$T/$s"
  D="$AIRLOCK_ROOT/deployments/cs"
  "$INSTALLER" install b1 -q >/dev/null
  rc=0
  AIRLOCK_TEST_CRASH_AT="$s" "$INSTALLER" install b2 -q >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 137 ] || fail "step $s: expected the installer to be killed (137), got $rc"
  "$INSTALLER" list >/dev/null 2>"$T/recover.err" || { cat "$T/recover.err" >&2; fail "list after a crash at $s"; }
  case "$s" in
    staged|streamed|verified|moved) want=1.0.0 ;;
    *) want=2.0.0 ;;
  esac
  [ "$(readlink "$D/current")" = "$want" ] || fail "step $s: current -> $(readlink "$D/current"), expected $want"
  "$INSTALLER" check >/dev/null || fail "step $s: check fails"
  staging_clean "step $s"
  HF="$AIRLOCK_ROOT/hf/models--airlock--cs"
  for f in "$D/$want"/model/*.safetensors; do
    cmp "$f" "$HF/snapshots/$(cat "$HF/refs/main")/${f#"$D/$want/model/"}" ||
      fail "step $s: ROOT/hf refs/main does not name $want's snapshot"
  done
  [ ! -e "$AIRLOCK_ROOT/targets.dirty" ] || fail "step $s: targets.dirty left after recovery"
  if [ "$want" = 1.0.0 ]; then
    [ ! -e "$D/2.0.0" ] || fail "step $s: uncommitted 2.0.0 left in deployments/"
    "$INSTALLER" list --json | grep -q '"2.0.0"' && fail "step $s: ledger lists 2.0.0"
  fi
  "$INSTALLER" install b2 -q >/dev/null || fail "step $s: re-running the install failed"
  [ "$(readlink "$D/current")" = 2.0.0 ] || fail "step $s: v2 not active after the re-run"
  "$INSTALLER" check >/dev/null || fail "step $s: check fails after the re-run"
done
pass "kill -9 at each of ${steps[*]}: recovered, re-run completes"

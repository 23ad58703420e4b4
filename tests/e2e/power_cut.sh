# A power cut at every stage of an upgrade (tests/support/faultfs.cc,
# AIRLOCK_FAULT_CUT_N): just before the Nth write or sync under the root, every
# byte written since its file's last fsync is put back and the installer is
# killed, as a machine losing power would leave an ext4 file system. N is
# spread over all of an upgrade's writes and syncs. Afterwards the next command
# recovers: v1 or v2 is active, `check` re-hashes the active version's files
# against the ledger and passes (no committed version may have lost data),
# staging is empty, and a re-run completes with v2 active.
source "$(dirname "$0")/common.sh"
faultfs_upgrade pc
ops=$((WRITES + SYNCS))

v1=0 v2=0 runs=0
for n in $( { seq 1 4; seq 1 $(( (ops + 19) / 20 )) "$ops"; seq $((ops - 3)) "$ops"; } | sort -nu); do
  export AIRLOCK_ROOT="$T/cut-$n"
  cp -a "$TEMPLATE" "$AIRLOCK_ROOT"
  D="$AIRLOCK_ROOT/deployments/pc"
  rc=0
  AIRLOCK_FAULT_DIR="$AIRLOCK_ROOT" AIRLOCK_FAULT_CUT_N="$n" LD_PRELOAD="$SHIM" \
    "$INSTALLER" install b2 -q >/dev/null 2>&1 || rc=$?
  [ $rc -eq 137 ] || fail "cut at op $n: expected the installer to die (137), got $rc"
  runs=$((runs + 1))
  "$INSTALLER" list >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "cut at op $n: list after the cut"; }
  active="$(readlink "$D/current")"
  case "$active" in
    1.0.0) v1=$((v1 + 1)) ;;
    2.0.0) v2=$((v2 + 1)) ;;
    *) fail "cut at op $n: current -> '$active'" ;;
  esac
  "$INSTALLER" check >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "cut at op $n: check fails with $active active"; }
  staging_clean "cut at op $n"
  "$INSTALLER" install b2 -q >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "cut at op $n: re-run failed"; }
  [ "$(readlink "$D/current")" = 2.0.0 ] || fail "cut at op $n: v2 not active after the re-run"
  "$INSTALLER" check >/dev/null || fail "cut at op $n: check fails after the re-run"
  rm -rf "$AIRLOCK_ROOT"
done
[ $v1 -gt 0 ] && [ $v2 -gt 0 ] || fail "cuts never fell on both sides of the commit (v1 $v1, v2 $v2)"
pass "$runs power cuts over $ops writes+syncs: $v1 left v1 active, $v2 v2; check passed and the re-run completed each time"

# A failing disk (tests/support/faultfs.cc, LD_PRELOAD): the Nth write or the
# Nth fsync under the site root fails with EIO, for N spread over every write
# and sync an upgrade install makes (staged files, volume data, directory
# syncs, the ledger's WAL). Each failed run exits non-zero naming the I/O
# error; afterwards the site is consistent: the active version is v1 (or v2
# where the fault hit after the commit), `check` passes, staging is empty, and
# a re-run without faults completes with v2 active.
source "$(dirname "$0")/common.sh"
faultfs_upgrade fw
writes=$WRITES syncs=$SYNCS

# N over the whole range: the first few, evenly spread, and the last few.
picks() {
  local total=$1
  { seq 1 3; seq 1 $(( (total + 11) / 12 )) "$total"; seq $((total > 2 ? total - 2 : 1)) "$total"; } | sort -nu
}
runs=0 failed=0 late=0
for kind in WRITE SYNC; do
  if [ $kind = WRITE ]; then total=$writes; else total=$syncs; fi
  for n in $(picks "$total"); do
    export AIRLOCK_ROOT="$T/run-$kind-$n"
    cp -a "$TEMPLATE" "$AIRLOCK_ROOT"
    D="$AIRLOCK_ROOT/deployments/fw"
    rc=0
    env AIRLOCK_FAULT_DIR="$AIRLOCK_ROOT" "AIRLOCK_FAULT_${kind}_N=$n" LD_PRELOAD="$SHIM" \
      "$INSTALLER" install b2 -q >/dev/null 2>"$T/err" || rc=$?
    runs=$((runs + 1))
    if [ $rc -ne 0 ]; then
      failed=$((failed + 1))
      [ $rc -eq 1 ] || { cat "$T/err" >&2; fail "$kind $n: exit $rc, expected 1"; }
      grep -Eqi "input/output error|I/O error" "$T/err" || { cat "$T/err" >&2; fail "$kind $n: error does not say I/O"; }
    fi
    "$INSTALLER" list >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "$kind $n: list after the fault"; }
    active="$(readlink "$D/current")"
    case "$active" in
      1.0.0) [ $rc -ne 0 ] || fail "$kind $n: install reported success but v1 is active" ;;
      2.0.0) [ $rc -eq 0 ] || late=$((late + 1)) ;;
      *) fail "$kind $n: current -> '$active'" ;;
    esac
    "$INSTALLER" check >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "$kind $n: check fails with $active active"; }
    [ -z "$(ls -A "$AIRLOCK_ROOT/staging")" ] || fail "$kind $n: staging left behind"
    "$INSTALLER" install b2 -q >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "$kind $n: re-run failed"; }
    [ "$(readlink "$D/current")" = 2.0.0 ] || fail "$kind $n: v2 not active after the re-run"
    "$INSTALLER" check >/dev/null || fail "$kind $n: check fails after the re-run"
    rm -rf "$AIRLOCK_ROOT"
  done
done
[ $failed -gt 0 ] || fail "no injected fault made an install fail"
pass "$runs faulty installs ($writes writes, $syncs syncs counted; $failed failed cleanly, $late failed after committing v2): all recovered and re-ran"

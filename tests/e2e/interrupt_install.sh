# SIGTERM or SIGINT while an install reads its volumes ends it promptly with
# exit 130: nothing installed or changed, the root lock released, the ledger
# saying the install was interrupted; staging holds nothing but the volumes
# read whole before the signal (kept to resume, and said so), and the next
# install completes and leaves staging empty.
source "$(dirname "$0")/common.sh"
two_versions 1M 160M --volume-size 16M
"$INSTALLER" install b1 -q >/dev/null
save_state

# interrupted SIGNAL: starts the install, waits for its first progress line
# (it is reading the volumes then), sends SIGNAL, expects exit 130 in 20 s.
interrupted() {
  local sig=$1
  : > "$T/progress.err"
  # --threads 1: reading, decoding and writing take turns, so the install is
  # still well short of the end when the signal comes.
  "$INSTALLER" install b2 --threads 1 >"$T/progress.out" 2>"$T/progress.err" &
  local pid=$! i=0
  while ! grep -q "install " "$T/progress.err" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 400 ] || { kill -9 "$pid"; fail "no progress line after 20 s"; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill "-$sig" "$pid" 2>/dev/null || true
  local rc=0 start=$SECONDS
  ( sleep 20; kill -9 "$pid" 2>/dev/null ) &
  local watchdog=$!
  wait "$pid" || rc=$?
  kill "$watchdog" 2>/dev/null || true
  wait "$watchdog" 2>/dev/null || true
  [ "$rc" -ne 137 ] || fail "SIG$sig ignored: the install was still running after 20 s"
  [ "$rc" -eq 130 ] || { cat "$T/progress.err" >&2; fail "SIG$sig: exit $rc, not 130"; }
  [ $((SECONDS - start)) -le 10 ] || fail "SIG$sig: took $((SECONDS - start)) s to stop"
  grep -q "interrupted" "$T/progress.err" || { cat "$T/progress.err" >&2; fail "SIG$sig: no 'interrupted' message"; }
  grep -Eq "^installed |now active" "$T/progress.out" && fail "SIG$sig: success reported"
  # Volumes fully read before the signal are kept for the next install
  # (resume.json); anything else in staging is a leftover.
  staging_clean "SIG$sig"
  local kept; kept=$(ls -A "$AIRLOCK_ROOT/staging")
  if [ -n "$kept" ]; then
    grep -q "volume(s) are staged and kept: run install again" "$T/progress.err" ||
      { cat "$T/progress.err" >&2; fail "SIG$sig: a stage was kept without saying so"; }
    mv "$AIRLOCK_ROOT/staging/$kept" "$T/kept"  # out of the comparison, then back
  fi
  assert_state_unchanged "install interrupted by SIG$sig"
  [ -z "$kept" ] || mv "$T/kept" "$AIRLOCK_ROOT/staging/$kept"
  timeout 20 "$INSTALLER" list -q >/dev/null || fail "SIG$sig: the root is still locked"
  "$INSTALLER" history demo | tail -n 1 | grep -q "install .*demo/2.0.0 .*failed.*interrupted" \
    || { "$INSTALLER" history demo >&2; fail "SIG$sig: the ledger does not record the interrupted install"; }
}
interrupted TERM
interrupted INT

"$INSTALLER" install b2 -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 2.0.0 ] || fail "v2 did not install afterwards"
[ -z "$(ls -A "$AIRLOCK_ROOT/staging")" ] || fail "staging left after the install that followed"
model_installed m2 2.0.0 "the install after the interrupted ones"
pass "SIGTERM and SIGINT during the volume read: exit 130 within seconds, only whole volumes kept to resume, state unchanged, lock released"

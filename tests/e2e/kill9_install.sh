# kill -9 during an install, at several moments: the next command recovers;
# either v2 completed or v1 is still active, check passes, staging is empty,
# nothing uncommitted is left in deployments/; installing v2 again then works.
source "$(dirname "$0")/common.sh"
delays=(0.05 0.1 0.2 0.3 0.4 0.6 "0.$((RANDOM % 9))$((RANDOM % 10))")
setup_roots $(for i in "${!delays[@]}"; do echo "r$i"; done)
export AIRLOCK_ROOT="$T/r0"
make_model m1 4M 1
make_model m2 48M 5
make_manifest v1.toml kd 1.0.0 m1
make_manifest v2.toml kd 2.0.0 m2
bundle v1.toml b1 1 "${TOS[@]}"
bundle v2.toml b2 2 "${TOS[@]}" --volume-size 8M
completed=0 interrupted=0
for i in "${!delays[@]}"; do
  export AIRLOCK_ROOT="$T/r$i"
  D="$AIRLOCK_ROOT/deployments/kd"
  "$INSTALLER" install b1 -q >/dev/null
  "$INSTALLER" install b2 -q >/dev/null 2>&1 &
  pid=$!
  sleep "${delays[$i]}"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  "$INSTALLER" list >/dev/null 2>"$T/recover.err" || { cat "$T/recover.err" >&2; fail "list after kill at ${delays[$i]}s"; }
  "$INSTALLER" status >/dev/null 2>&1 || fail "status after kill at ${delays[$i]}s"
  active="$(readlink "$D/current")"
  case "$active" in
    2.0.0) completed=$((completed + 1)) ;;
    1.0.0) interrupted=$((interrupted + 1)) ;;
    *) fail "kill at ${delays[$i]}s: current -> '$active'" ;;
  esac
  "$INSTALLER" check >/dev/null || fail "kill at ${delays[$i]}s: check fails with $active active"
  staging_clean "kill at ${delays[$i]}s"
  # Every version directory on disk is one the ledger knows, and vice versa.
  on_disk="$(cd "$D" && ls -d [0-9]* | sort | tr '\n' ' ')"
  in_ledger="$("$INSTALLER" list --json | python3 -c '
import json,sys
d=json.load(sys.stdin); print(" ".join(sorted(v["version"] for v in d[0]["versions"])) + " ")')"
  [ "$on_disk" = "$in_ledger" ] || fail "kill at ${delays[$i]}s: on disk '$on_disk', ledger '$in_ledger'"
  "$INSTALLER" status --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["event_chain_ok"]' ||
    fail "kill at ${delays[$i]}s: event chain broken"
  # Installing v2 again finishes the job.
  "$INSTALLER" install b2 -q >/dev/null || fail "re-install after kill at ${delays[$i]}s"
  [ "$(readlink "$D/current")" = 2.0.0 ] || fail "v2 not active after re-install (kill at ${delays[$i]}s)"
  for f in m2/*; do cmp "$f" "$D/2.0.0/model/$(basename "$f")"; done
  "$INSTALLER" check >/dev/null || fail "check after re-install (kill at ${delays[$i]}s)"
  [ -z "$(ls -A "$AIRLOCK_ROOT/staging")" ] || fail "staging left after re-install"
done
[ "$interrupted" -ge 1 ] || fail "no kill landed mid-install (all $completed completed): make the model bigger"
pass "${#delays[@]} kill -9s ($interrupted interrupted, $completed completed): recovered, consistent, re-install works"

# A failure after the ledger's commit never bricks the root: when the install
# targets cannot be rebuilt (here a regular file planted where the snapshots
# folder of ROOT/hf's repo must be a directory; ROOT/hf itself not being a
# directory is refused earlier, by the root's ownership check), the install that committed reports the failing step, and
# list, status, history, check, rollback (either way, with and without
# --no-run) and gc all still run, each warning that the rebuild is pending;
# ROOT/targets.dirty stays. Once the cause is removed, the next command
# rebuilds. An activation that would read stale targets does not run, and
# the install says so. A ledger holding sources recorded before they were
# checked where decoded (bad meta) costs that version its targets, with a
# note, and nothing else.
source "$(dirname "$0")/common.sh"
setup_site
make_model m1 1M 1
make_model m2 1M 2
make_manifest v1.toml nb 1.0.0 m1
make_manifest v2.toml nb 2.0.0 m2
make_manifest v3.toml nb 3.0.0 m1
printf '\n[activate]\nrun = ["true"]\n' >> v3.toml
bundle v1.toml b1 1
bundle v2.toml b2 2
bundle v3.toml b3 3
"$INSTALLER" install b1 -q >/dev/null
HF="$AIRLOCK_ROOT/hf"
[ -d "$HF/models--airlock--nb" ] || fail "no ROOT/hf after the first install"
SNAP="$HF/models--airlock--nb/snapshots"
rm -rf "$SNAP" && echo "not a directory" > "$SNAP"

# The install commits; the rebuild fails, is reported, and stays pending.
"$INSTALLER" install b2 >"$T/i.out" 2>"$T/i.err" || { cat "$T/i.err" >&2; fail "install b2 failed: the targets are not its commit"; }
grep -q "rebuilding ROOT/hf.*failed.*targets.dirty stays" "$T/i.err" || { cat "$T/i.err" >&2; fail "the failed rebuild was not reported"; }
[ -f "$AIRLOCK_ROOT/targets.dirty" ] || fail "the rebuild mark went although the rebuild failed"
[ "$(readlink "$AIRLOCK_ROOT/deployments/nb/current")" = 2.0.0 ] || fail "2.0.0 is not current"

# Every later command still runs, warning that the rebuild is pending.
for cmd in "list" "list --json" "status" "history" "check nb"; do
  # shellcheck disable=SC2086
  "$INSTALLER" $cmd >/dev/null 2>"$T/c.err" || { cat "$T/c.err" >&2; fail "'$cmd' fails while the targets cannot be rebuilt"; }
  grep -q "not recovered: rebuilding ROOT/hf" "$T/c.err" || fail "'$cmd' does not report the pending rebuild"
done
# A site-wide check also verifies the targets: it runs, and reports them damaged (exit 3).
expect_fail 3 "problem\(s\) among .* install-target entries" "$INSTALLER" check
grep -q "not recovered: rebuilding ROOT/hf" "$T/last.err" || fail "'check' does not report the pending rebuild"
"$INSTALLER" rollback nb --to 1.0.0 --no-run >/dev/null 2>"$T/r.err" || { cat "$T/r.err" >&2; fail "rollback --no-run failed"; }
[ "$(readlink "$AIRLOCK_ROOT/deployments/nb/current")" = 1.0.0 ] || fail "rollback did not switch current to 1.0.0"
"$INSTALLER" rollback nb --to 2.0.0 >/dev/null 2>"$T/r.err" || { cat "$T/r.err" >&2; fail "rollback (with its activation) failed"; }
[ "$(readlink "$AIRLOCK_ROOT/deployments/nb/current")" = 2.0.0 ] || fail "rollback did not switch current to 2.0.0"
"$INSTALLER" list --json -q | grep -q '"active_version": "2.0.0"' || fail "the ledger does not record 2.0.0 active"
expect_fail 1 "rebuilding|Not a directory|cannot create" "$INSTALLER" targets
# An activation needs the targets: it does not run, and install says so (committed all the same).
expect_fail 1 "3.0.0 is installed and active, but its activation did not run" "$INSTALLER" install b3 -q
[ "$(readlink "$AIRLOCK_ROOT/deployments/nb/current")" = 3.0.0 ] || fail "3.0.0 is not current"
"$INSTALLER" history nb 2>/dev/null | grep -q "targets .*failed" || fail "the ledger does not record the failed rebuild"
"$INSTALLER" gc --keep 2 >"$T/g.out" 2>"$T/g.err" || { cat "$T/g.err" >&2; fail "gc fails while the targets cannot be rebuilt"; }
grep -q "removed nb 1.0.0" "$T/g.out" || fail "gc did not remove 1.0.0"

# The cause removed, the next command rebuilds.
rm -f "$SNAP"
"$INSTALLER" list >/dev/null 2>"$T/l.err" || fail "list failed after the cause was removed"
grep -q "recovered: rebuilt ROOT/hf" "$T/l.err" || { cat "$T/l.err" >&2; fail "the next command did not rebuild"; }
[ ! -e "$AIRLOCK_ROOT/targets.dirty" ] || fail "the rebuild mark stayed after a good rebuild"
[ -s "$HF/models--airlock--nb/refs/main" ] || fail "ROOT/hf has no refs/main after the rebuild"
"$INSTALLER" list 2>&1 >/dev/null | grep -q "recovered\|not recovered" && fail "a clean root still reports recovery"

# Bad meta an old ledger may hold: that version's targets go, with a note.
sqlite3 "$AIRLOCK_ROOT/ledger.db" "UPDATE version_meta SET sources = '[{\"kind\":\"model\",\"identity\":\"x\"}]' WHERE version = '2.0.0'"
"$INSTALLER" targets >"$T/t.out" 2>&1 || { cat "$T/t.out" >&2; fail "targets fails on a version with bad recorded sources"; }
grep -q "nb/2.0.0: its recorded sources are malformed" "$T/t.out" || { cat "$T/t.out" >&2; fail "no note for the bad meta"; }
"$INSTALLER" rollback nb --to 2.0.0 >/dev/null 2>&1 || fail "rollback to the version with bad meta failed"
[ "$(readlink "$AIRLOCK_ROOT/deployments/nb/current")" = 2.0.0 ] || fail "rollback did not switch to 2.0.0"
pass "a failed targets rebuild after the commit is reported and retried; list/status/check/rollback/gc keep working"

# [activate] on the isolated side: run commands (argv, no shell unless
# asked) get AIRLOCK_ROOT, AIRLOCK_DEPLOYMENT_DIR, HF_HUB_CACHE and
# HF_HUB_OFFLINE=1; the health check is retried until the timeout. A version
# whose health check never passes, or whose run command fails, rolls itself
# back to the previous version: current, refs/main in ROOT/hf, the ledger
# (both events) and the previous version's own activation. A first version
# that fails leaves nothing active. Manual rollback runs the target's
# activation again.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"

setup_site
make_model m1 256K 1
make_model m2 256K 2
make_model m3 256K 3
make_model m4 256K 4
H="$AIRLOCK_ROOT/hf/models--airlock--svc"
mkdir -p "$T/state"

# manifest VERSION MODEL ACTIVATE_TOML
manifest() {
  printf '[deployment]\nname = "svc"\nversion = "%s"\n\n[model]\nsource = "%s"\n\n[activate]\n%s\n' "$1" "$2" "$3" > "m-$1.toml"
}
ref_main() { cat "$H/refs/main"; }

# v1: healthy. The run command records its environment; health reads it back.
manifest 1 m1 "run = [\"python3 -c 'import os,sys; open(sys.argv[1],\\\"w\\\").write(\\\"\\\\n\\\".join(k+\\\"=\\\"+os.environ.get(k,\\\"-\\\") for k in (\\\"AIRLOCK_ROOT\\\",\\\"AIRLOCK_DEPLOYMENT_DIR\\\",\\\"HF_HUB_CACHE\\\",\\\"HF_HUB_OFFLINE\\\",\\\"AIRLOCK_VERSION\\\")) + \\\"\\\\ncwd=\\\" + os.getcwd())' $T/state/env-1\"]
health = \"test -s $T/state/env-1\"
timeout = \"5s\""
bundle m-1.toml b1 1
"$INSTALLER" install b1 >/dev/null 2>install1.err || { cat install1.err; fail "v1 install"; }
grep -q "activate svc 1: ok (1 command(s) ran, health check passed on try 1" install1.err || { cat install1.err; fail "no activation line"; }
cat > env.want <<EOF
AIRLOCK_ROOT=$AIRLOCK_ROOT
AIRLOCK_DEPLOYMENT_DIR=$AIRLOCK_ROOT/deployments/svc/1
HF_HUB_CACHE=$AIRLOCK_ROOT/hf
HF_HUB_OFFLINE=1
AIRLOCK_VERSION=1
cwd=$AIRLOCK_ROOT/deployments/svc/1
EOF
diff env.want <(cat "$T/state/env-1"; echo) || fail "the run command's environment"
C1=$(ref_main)
[ -L "$H/snapshots/$C1/config.json" ] || fail "no snapshot for v1"

# v2: its health check never passes -> exit 1, automatic rollback to 1.
manifest 2 m2 'run = ["true"]
health = "false"
timeout = "2s"'
bundle m-2.toml b2 2
rm -f "$T/state/env-1"
expect_fail 1 "svc 2: health check 'false' did not pass within 2 s .*rolled back to svc 1, which is active again" \
  "$INSTALLER" install b2
grep -q "activation of svc 2 failed; rolled back to 1" "$T/last.err" || fail "no rollback line"
[ "$(readlink "$AIRLOCK_ROOT/deployments/svc/current")" = 1 ] || fail "current does not point at 1"
[ "$(ref_main)" = "$C1" ] || fail "refs/main was not moved back to v1's commit"
[ -s "$T/state/env-1" ] || fail "v1's run command was not re-run after the rollback"
"$INSTALLER" status --json -q | python3 -c '
import json, sys
d = json.load(sys.stdin)
svc = [x for x in (d if isinstance(d, list) else d.get("deployments", [])) if x.get("name", x.get("deployment")) == "svc"]
assert svc and svc[0].get("active_version", svc[0].get("active")) == "1", d' || fail "status does not say 1 is active"
"$INSTALLER" history --json -q > hist.json
python3 - <<'PY' || fail "the ledger lacks the failure and the automatic rollback"
import json
ev = json.load(open("hist.json"))
ev = ev if isinstance(ev, list) else ev["events"]
seq = [(e["action"], e["target"], e["result"]) for e in ev]
i = seq.index(("activation", "svc/2", "failed"))
assert seq[i + 1] == ("rollback", "svc/1", "ok"), seq[i:]
assert "automatic" in ev[i + 1]["detail"] and "health check" in ev[i + 1]["detail"], ev[i + 1]
assert seq[i + 2] == ("activation", "svc/1", "ok") and "re-activated after 2 failed" in ev[i + 2]["detail"], seq[i:]
PY
# v2 stays installed, and its snapshot stays in the cache (rollback --to 2 is possible).
[ -d "$AIRLOCK_ROOT/deployments/svc/2" ] || fail "v2's files were removed"
[ "$(ls "$H/snapshots" | wc -l)" = 2 ] || fail "expected both snapshots in ROOT/hf"

# v3: a run command that exits 3 -> same, and the health check is not tried.
manifest 3 m3 'run = ["true", "sh -c \"exit 3\""]
health = "true"'
bundle m-3.toml b3 3
expect_fail 1 "svc 3: run\[1\] 'sh -c \"exit 3\"' failed with exit status 3; rolled back to svc 1" "$INSTALLER" install b3
[ "$(ref_main)" = "$C1" ] || fail "refs/main after v3's failure"

# A run command that does not finish within the timeout is killed.
manifest 4 m3 'run = ["sleep 30"]
timeout = "1s"'
bundle m-4.toml b4 4
start=$(date +%s)
expect_fail 1 "run\[0\] 'sleep 30' did not finish within 1 s and was killed; rolled back to svc 1" "$INSTALLER" install b4
[ $(( $(date +%s) - start )) -lt 20 ] || fail "the hung command was not killed in time"

# A command that does not exist.
manifest 5 m3 'run = ["/nonexistent/airlock-restart"]'
bundle m-5.toml b5 5
expect_fail 1 "run\[0\] '/nonexistent/airlock-restart': cannot run '/nonexistent/airlock-restart': No such file" \
  "$INSTALLER" install b5

# shell = true runs through /bin/sh -c: pipes and variables work there.
manifest 6 m2 "run = [\"echo \$HF_HUB_OFFLINE | tee $T/state/shell-6 >/dev/null\"]
health = \"grep -qx 1 $T/state/shell-6\"
shell = true
timeout = \"5s\""
bundle m-6.toml b6 6
"$INSTALLER" install b6 -q >/dev/null 2>install6.err || { cat install6.err; fail "v6 (shell = true)"; }
[ "$(cat "$T/state/shell-6")" = 1 ] || fail "shell = true did not see HF_HUB_OFFLINE"
C6=$(ref_main)
[ "$C6" != "$C1" ] || fail "refs/main did not move to v6"

# Manual rollback runs the target's activation again (v1's records its env).
rm -f "$T/state/env-1"
"$INSTALLER" rollback svc --to 1 >/dev/null 2>rb.err || { cat rb.err; fail "rollback"; }
[ -s "$T/state/env-1" ] || fail "rollback did not run v1's activation"
[ "$(ref_main)" = "$C1" ] || fail "rollback did not move refs/main"
rm -f "$T/state/env-1"
"$INSTALLER" rollback svc --to 6 --no-run >/dev/null 2>&1 || fail "rollback --no-run"
[ ! -e "$T/state/env-1" ] && [ "$(ref_main)" = "$C6" ] || fail "rollback --no-run"

# install --no-activate runs nothing, moves no ref, but adds the snapshot.
manifest 7 m4 "run = [\"touch $T/state/ran-7\"]"
bundle m-7.toml b7 7
n=$(ls "$H/snapshots" | wc -l)
"$INSTALLER" install b7 --no-activate -q >/dev/null 2>&1 || fail "install --no-activate"
[ ! -e "$T/state/ran-7" ] && [ "$(ref_main)" = "$C6" ] || fail "--no-activate ran commands or moved refs/main"
[ "$(ls "$H/snapshots" | wc -l)" = $((n + 1)) ] || fail "--no-activate did not add the snapshot"

# A first version that fails on a fresh site: nothing is left active.
export AIRLOCK_ROOT="$T/root2"
"$INSTALLER" init >/dev/null 2>&1
"$INSTALLER" trust add "$T/pub.pub" --name publisher >/dev/null
H="$AIRLOCK_ROOT/hf/models--airlock--svc"
manifest 1 m1 'health = "false"
timeout = "1s"'
bundle m-1.toml c1 1
expect_fail 1 "there is no earlier version to roll back to, so no version of svc is active" "$INSTALLER" install c1
[ ! -e "$AIRLOCK_ROOT/deployments/svc/current" ] || fail "current left behind after a failed first activation"
[ ! -e "$H/refs/main" ] || fail "refs/main left behind after a failed first activation"
"$INSTALLER" history -q | grep -q "deactivate .*svc/1" || { "$INSTALLER" history; fail "no deactivate event"; }
"$INSTALLER" check -q >/dev/null || fail "check after the failed first activation"

# Bad commands are refused when the bundle is made, not on the isolated side.
manifest 9 m1 'run = ["systemctl restart vllm | tee log"]'
expect_fail 1 "run\[0\].*unquoted '\|' is shell syntax" "$BUNDLER" create m-9.toml -o bad --sign "$T/pub.key" --no-encrypt
manifest 9 m1 'health = "curl \"http://x"'
expect_fail 1 "\[activate\] health.*unterminated double quote" "$BUNDLER" create m-9.toml -o bad --sign "$T/pub.key" --no-encrypt
[ ! -e bad ] || fail "a bundle was written for a bad [activate]"
pass "activation env, health retries, automatic rollback (health, exit, timeout, missing command), shell=true, manual rollback"

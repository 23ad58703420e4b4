# `check` re-hashes installed files against the ledger and names every file
# that no longer matches (changed, truncated, deleted), exiting 3.
source "$(dirname "$0")/common.sh"
setup_site
make_model m 4M 1
make_manifest v1.toml demo 1.0.0 m
bundle v1.toml b1 100
"$INSTALLER" install b1 -q >/dev/null
"$INSTALLER" check demo | grep -q "^ok: " || fail "fresh install does not check clean"

d="$AIRLOCK_ROOT/deployments/demo/1.0.0/model"
chmod u+w "$d" "$d/config.json" "$d/model-00001-of-00002.safetensors" "$d/tokenizer.json"
printf 'x' | dd of="$d/model-00001-of-00002.safetensors" bs=1 seek=4096 conv=notrunc status=none
truncate -s 10 "$d/config.json"
rm "$d/tokenizer.json"

expect_fail 3 "3 of [0-9]+ installed files no longer match" "$INSTALLER" check demo
grep -q "model-00001-of-00002.safetensors: SHA-256" "$T/last.out" || fail "changed shard not named"
grep -q "config.json: size 10" "$T/last.out" || fail "truncated file not named"
grep -q "tokenizer.json: missing" "$T/last.out" || fail "deleted file not named"
[ "$(grep -c MISMATCH "$T/last.out")" = 3 ] || fail "expected exactly 3 mismatches"
expect_fail 3 "no longer match" "$INSTALLER" check
expect_fail 1 "no deployment named 'nope'" "$INSTALLER" check nope
"$INSTALLER" history --json | python3 -c '
import json,sys
ev=[e for e in json.load(sys.stdin) if e["action"]=="check"]
assert ev[-1]["result"]=="failed", ev'
pass "check names every changed, truncated and deleted file"

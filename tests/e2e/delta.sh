# Delta bundles (create --base): a fine-tune of every tensor, an engine-only
# change, one shard changed, each a delta of the one before (a chain of
# four versions); installed, rolled back across, checked. Refused before
# anything is written: base never installed, base removed by gc, a base
# file damaged, the base version installed from another bundle, a ledger
# whose chunk map was edited. kill -9 and a stop between volumes during a
# delta install, then the install completes.
source "$(dirname "$0")/common.sh"
setup_roots main fresh gcd damaged other edited crash
export AIRLOCK_ROOT="$T/main"
vol_bytes() { cat "$1"/*.vol*.tar | wc -c; }
make_model m1 16M 1
# A fine-tune of m1: every value of every tensor moved by ~1 % (bf16).
make_model m2 16M 1 --perturb 0.01 --perturb-seed 7
# m4: m2 with its second shard back as m1 had it (one shard changed).
cp -a m2 m4 && cp m1/model-00002-of-00002.safetensors m4/
mkdir serve1 serve2
printf '#!/bin/sh\necho serving v1\n' > serve1/run.sh
head -c 200000 /dev/urandom > serve2/engine.bin && printf '#!/bin/sh\necho serving v2\n' > serve2/run.sh
chmod +x serve1/run.sh serve2/run.sh
make_manifest v1.toml demo 1.0.0 m1 serve1
make_manifest v2.toml demo 2.0.0 m2 serve1
make_manifest v3.toml demo 3.0.0 m2 serve2
make_manifest v4.toml demo 4.0.0 m4 serve2
bundle v1.toml b1 1 "${TOS[@]}"
bundle v1.toml b1alt 1 "${TOS[@]}"  # the same version, another bundle
bundle v2.toml b2full 2 "${TOS[@]}"
bundle v2.toml b2 2 "${TOS[@]}" --base b1 --volume-size 4M
bundle v3.toml b3 3 "${TOS[@]}" --base b2
bundle v3.toml b3on1 3 "${TOS[@]}" --base b1
bundle v4.toml b4 4 "${TOS[@]}" --base "$AIRLOCK_CACHE/records/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bundle_id"])' <("$BUNDLER" inspect b3 --json))".json

# Sizes: the XOR delta of the fine-tune, the engine-only change, one shard.
full=$(vol_bytes b2full) d2=$(vol_bytes b2) d3=$(vol_bytes b3) d4=$(vol_bytes b4)
[ $((d2 * 2)) -le "$full" ] || fail "fine-tune delta is $d2 bytes, more than half of the full bundle's $full"
[ "$d3" -le $((200000 + 200000 / 100 + 32768)) ] || fail "engine-only delta is $d3 bytes for 200 KB changed"
"$BUNDLER" inspect b4 --key "$AIRLOCK_ROOT/keys" --json > b4.json
python3 - b4.json "$(stat -c %s m1/model-00001-of-00002.safetensors)" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); shard1 = int(sys.argv[2])
assert j["format_version"] == 3, j["format_version"]
assert j["base"]["version"] == "3.0.0", j["base"]
assert j["base"]["omitted_bytes"] >= shard1, (j["base"], shard1)  # the unchanged shard is left out
assert j["codecs"]["xor"]["chunks"] > 0, j["codecs"]
PY
"$BUNDLER" inspect b2 | grep -q "format     version 3 (a delta bundle" || fail "inspect does not say delta"

# The chain, installed in order; each version byte for byte.
"$INSTALLER" install b1 -q >/dev/null
"$INSTALLER" install b2 -q --json > i2.json
"$INSTALLER" install b3 -q >/dev/null
"$INSTALLER" install b4 -q --json > i4.json
python3 - i2.json i4.json "$d2" <<'PY'
import json, sys
i2 = json.load(open(sys.argv[1])); i4 = json.load(open(sys.argv[2]))
assert i2["base"].startswith("demo 1.0.0 (bundle "), i2
assert i2["media_bytes"] == int(sys.argv[3]) and i2["xor_bytes"] > 0, i2
assert i4["base"].startswith("demo 3.0.0") and i4["base_bytes"] > 0, i4
PY
model_installed m1 1.0.0 "v1"
model_installed m2 2.0.0 "v2 (XOR delta)"
model_installed m2 3.0.0 "v3 (engine only)"
model_installed m4 4.0.0 "v4 (one shard)"
cmp serve2/engine.bin "$AIRLOCK_ROOT/deployments/demo/4.0.0/serve/engine.bin"
"$INSTALLER" verify b4 -q >/dev/null || fail "verify of an installed delta bundle"
"$INSTALLER" rollback demo >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 3.0.0 ] || fail "rollback across deltas"
"$INSTALLER" rollback demo --to 1.0.0 >/dev/null
"$INSTALLER" check >/dev/null || fail "check after rollbacks across delta versions"
"$INSTALLER" history demo | grep -q "delta against demo 1.0.0" || fail "the install event does not name the base"

# A have-list from the site picks the base: the version active there.
"$INSTALLER" have --export have.json -q >/dev/null
make_manifest v5.toml demo 5.0.0 m4 serve1
"$BUNDLER" create v5.toml -o b5h --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 5 \
  --have have.json --site-signing-key "$AIRLOCK_ROOT/keys/site-signing.pub" >/dev/null 2>have.err
grep -q "base demo 1.0.0 (active there)" have.err || { cat have.err >&2; fail "the have-list did not choose 1.0.0"; }
"$INSTALLER" install b5h -q >/dev/null
model_installed m4 5.0.0 "v5 (base from the have-list)"
# Another site's key, or an edited list: refused (exit 3), nothing made.
expect_fail 3 "have" "$BUNDLER" create v5.toml -o b5x --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" \
  --sequence 6 --have have.json --site-signing-key "$T/fresh/keys/site-signing.pub"
sed 's/"active":true/"active":false/' have.json > have.edited
expect_fail 3 "have" "$BUNDLER" create v5.toml -o b5x --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" \
  --sequence 6 --have have.edited --site-signing-key "$AIRLOCK_ROOT/keys/site-signing.pub"
[ ! -e b5x ] || [ -z "$(ls -A b5x)" ] || fail "a refused have-list left files in b5x"

# Refused before anything is written, naming the version needed.
export AIRLOCK_ROOT="$T/fresh"
save_state
expect_fail 1 "delta bundle against demo 1.0.0 .*never installed here" "$INSTALLER" install b2
assert_state_unchanged "base never installed"
expect_fail 1 "never installed here" "$INSTALLER" verify b2

export AIRLOCK_ROOT="$T/gcd"
"$INSTALLER" install b1 -q >/dev/null
"$INSTALLER" install b2full -q >/dev/null
"$INSTALLER" gc --keep 1 >/dev/null
save_state
expect_fail 1 "against demo 1.0.0 .*which gc removed" "$INSTALLER" install b3on1
assert_state_unchanged "base removed by gc"

export AIRLOCK_ROOT="$T/damaged"
"$INSTALLER" install b1 -q >/dev/null
f="$AIRLOCK_ROOT/deployments/demo/1.0.0/model/model-00002-of-00002.safetensors"
chmod u+w "$f" "$(dirname "$f")" && flip_byte "$f" 5000000 && chmod a-w "$f" "$(dirname "$f")"
save_state
expect_fail 3 "model-00002-of-00002.safetensors: bytes .* of the installed base demo 1.0.0" "$INSTALLER" install b2
assert_state_unchanged "base file damaged"
staging_clean "base file damaged"

export AIRLOCK_ROOT="$T/other"
"$INSTALLER" install b1alt -q >/dev/null
save_state
expect_fail 3 "installed here from another bundle" "$INSTALLER" install b2
assert_state_unchanged "base from another bundle"

export AIRLOCK_ROOT="$T/edited"
"$INSTALLER" install b1 -q >/dev/null
python3 - "$AIRLOCK_ROOT/ledger.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT map FROM chunk_maps").fetchone()
m = bytearray(row[0]); m[-20] ^= 1  # a byte of the last chunk's id
db.execute("UPDATE chunk_maps SET map = ?", (bytes(m),)); db.commit()
PY
save_state
expect_fail 3 "are not the ones the bundle was made against" "$INSTALLER" install b2
assert_state_unchanged "edited chunk map"

# Validly signed but hostile deltas (re-signed by tests/support/forge_bundle.cc):
# an XOR frame said to be against another base chunk, or one the base lacks,
# and a base chunk set that is not the installed one. Exit 3, nothing changed.
FORGE="$AIRLOCK_BUILD_DIR/tests/airlock-test-forge"
export AIRLOCK_ROOT="$T/fresh"
"$INSTALLER" install b1 -q >/dev/null
save_state
for edit in "--xor-base 0=swap:authentication failed" \
            "--xor-base 0=$(printf 'ab%.0s' {1..32}):which that version does not hold" \
            "--base-set $(printf 'cd%.0s' {1..32}):are not the ones the bundle was made against"; do
  rm -rf forged && cp -r b2 forged
  args=${edit%%:*}
  "$FORGE" forged --site-key "$AIRLOCK_ROOT/keys" --sign "$T/pub.key" $args || fail "forging $args failed"
  expect_fail 3 "${edit#*:}" "$INSTALLER" install forged
  assert_state_unchanged "forged delta: $args"
done

# Interrupted delta installs complete when run again.
export AIRLOCK_ROOT="$T/crash"
"$INSTALLER" install b1 -q >/dev/null
if have_test_hooks; then
  for s in staged streamed; do
    rc=0
    AIRLOCK_TEST_CRASH_AT="$s" "$INSTALLER" install b2 -q >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 137 ] || fail "crash at $s: expected 137, got $rc"
    "$INSTALLER" check >/dev/null || fail "check after a crash at $s in a delta install"
    [ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 1.0.0 ] || fail "crash at $s: v1 not active"
  done
fi
# Stopped between media (kill -9 while it waits for disc02), then given
# the media not yet read: the delta install resumes and completes.
make_model m5 28M 3
make_model m6 28M 3 --perturb 0.01 --perturb-seed 8
make_manifest v5.toml big 1.0.0 m5
make_manifest v6.toml big 2.0.0 m6
bundle v5.toml b5 1 "${TOS[@]}"
bundle v6.toml b6 2 "${TOS[@]}" --base b5 --media 8M
[ -d b6/disc02 ] || fail "b6 should span several 8M media"
"$INSTALLER" install b5 -q >/dev/null
ln -sfn "$T/b6/disc01" drive
"$INSTALLER" install --media-path drive --wait >/dev/null 2>stop.err &
pid=$!
for _ in $(seq 600); do
  grep -q "waiting for disc02" stop.err && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
grep -q "waiting for disc02" stop.err || { cat stop.err >&2; fail "never waited for disc02"; }
kill -9 $pid
wait $pid || true
[ -n "$(ls -A "$AIRLOCK_ROOT/staging")" ] || fail "nothing kept to resume"
rest=(); for d in b6/disc*; do [ "$d" = b6/disc01 ] || rest+=("$d"); done
"$INSTALLER" install "${rest[@]}" > resume.out 2>&1 || { cat resume.out >&2; fail "resumed install failed"; }
grep -q "resuming the interrupted install" resume.out || { cat resume.out >&2; fail "the delta install did not resume"; }
for f in m6/*; do cmp "$f" "$AIRLOCK_ROOT/deployments/big/2.0.0/model/$(basename "$f")"; done
"$INSTALLER" check >/dev/null
pass "delta chain of four versions, rollback, refusals before any write, crash and resume"

# The CDN drops the connection in the middle of a shard. With --retries 0 the
# first fetch fails naming the file and keeps what arrived; the next run asks
# only for the rest (Range: bytes=N-, N > 0) and the file is complete and
# verified. With retries, one run gets through on its own.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/hub_setup.sh"

make_hub_repo hub org/flaky 4M 5
SHARD=model-00001-of-00002.safetensors
SIZE=$(stat -c %s "hub/org/flaky/$SHARD")
SHA=$(sha256sum "hub/org/flaky/$SHARD" | cut -d' ' -f1)
DROP=$((SIZE / 2))
printf '{"drop_after": {"%s": %d, "tokenizer.json": 5000}}\n' "$SHARD" "$DROP" > hub/org/flaky.json
start_hub "$T/hub"
export HF_TOKEN=hf_any
hf_manifest m.toml flaky org/flaky 'include = ["*.safetensors", "*.json"]'

# lock downloads the git files (tokenizer.json is dropped once): --retries 0 fails, naming it.
expect_fail 1 "hf://org/flaky: tokenizer.json" "$BUNDLER" lock m.toml -o m.lock.json --retries 0
[ ! -e m.lock.json ] || fail "a lock was written"
"$BUNDLER" lock m.toml -o m.lock.json --retries 0 >/dev/null 2>&1 || fail "lock did not get through the second time"
grep -q 'hub GET /org/flaky/resolve/[0-9a-f]*/tokenizer.json range=bytes=[1-9][0-9]*- .*status=206' "$HUB_LOG" ||
  { cat "$HUB_LOG" >&2; fail "tokenizer.json was not resumed with a Range"; }

expect_fail 1 "hf://org/flaky: $SHARD.*(resume|again)" "$BUNDLER" fetch m.lock.json --retries 0 -q
[ -z "$(find "$AIRLOCK_CACHE/sha256" -name "$SHA" 2>/dev/null)" ] || fail "a partial shard entered the cache"
PART=$(find "$AIRLOCK_CACHE" -path '*partial*' -type f -size +0 | head -1)
[ -n "$PART" ] || fail "no partial download kept"
grep -q "^cdn GET .* range=- .*dropped" "$HUB_LOG" || fail "the emulator did not drop the connection"

"$BUNDLER" fetch m.lock.json --retries 0 -q >/dev/null 2>&1 || fail "the second fetch did not resume and finish"
RANGE=$(grep -o "^cdn GET /repos/org/flaky/$SHA?[^ ]* range=bytes=[0-9]*-" "$HUB_LOG" | tail -1 | sed 's/.*range=bytes=\([0-9]*\)-/\1/')
[ -n "$RANGE" ] && [ "$RANGE" -gt 0 ] && [ "$RANGE" -le "$DROP" ] || { cat "$HUB_LOG" >&2; fail "no resume with Range: bytes=N- (N > 0)"; }
CACHED=$(find "$AIRLOCK_CACHE/sha256" -name "$SHA" -type f)
[ -n "$CACHED" ] || fail "the shard is not in the cache"
cmp "$CACHED" "hub/org/flaky/$SHARD" || fail "the resumed shard differs"
# Only the missing part came again: one full GET that was dropped, one ranged GET.
[ "$(grep -c "^cdn GET /repos/org/flaky/$SHA" "$HUB_LOG")" = 2 ] || fail "the shard was downloaded more than twice"

# With retries (the default), a fresh cache and a fresh drop get through in one run.
SHA2=$(sha256sum hub/org/flaky/model-00002-of-00002.safetensors | cut -d' ' -f1)
printf '{"drop_after": {"model-00002-of-00002.safetensors": 1000}}\n' > hub/org/flaky.json
AIRLOCK_CACHE="$T/cache2" "$BUNDLER" fetch m.lock.json -q >/dev/null 2>&1 || fail "retries did not resume within the run"
grep -q "^cdn GET /repos/org/flaky/$SHA2?.* range=- .*dropped" "$HUB_LOG" || fail "the second shard was not dropped"
grep -q "^cdn GET /repos/org/flaky/$SHA2?.* range=bytes=[1-9][0-9]*- .*status=206" "$HUB_LOG" || fail "no in-run resume"
pass "dropped connections: fails with --retries 0, resumes from byte $RANGE on the next run, verified"

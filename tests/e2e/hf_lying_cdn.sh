# A CDN (or the Hub) that serves other bytes than the listing promises: the
# SHA-256 of an LFS file or the git blob SHA-1 of a small file does not match.
# The error names the repository and the file, the exit is 3, no bundle or
# lock is written and nothing of the bad file stays in the cache.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/hub_setup.sh"

make_hub_repo hub org/liar 2M 3
start_hub "$T/hub"
hf_manifest m.toml liar org/liar 'include = ["*.safetensors", "*.json"]'
"$BUNDLER" lock m.toml -o m.lock.json >/dev/null 2>&1
setup_site
SHA=$(sha256sum hub/org/liar/model-00001-of-00002.safetensors | cut -d' ' -f1)

# The CDN lies about an LFS shard: lock passed (the SHA-256 is in the listing), create catches it.
printf '{"lie": ["model-00001-of-00002.safetensors"]}\n' > hub/org/liar.json
expect_fail 3 "hf://org/liar: model-00001-of-00002.safetensors.*(SHA-256|sha256)" \
  "$BUNDLER" create m.lock.json -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q
[ -z "$(ls -A b 2>/dev/null)" ] || fail "a bundle was written: $(ls b)"
[ -z "$(find "$AIRLOCK_CACHE" -name "$SHA*" 2>/dev/null)" ] || fail "the corrupt shard stayed in the cache"
grep -q '^cdn GET /repos/org/liar/'"$SHA" "$HUB_LOG" || fail "the shard was not fetched from the CDN"
# So does fetch from the manifest, which resolves again.
expect_fail 3 "hf://org/liar: model-00001-of-00002.safetensors" "$BUNDLER" fetch m.toml -q
[ -z "$(find "$AIRLOCK_CACHE" -name "$SHA*" 2>/dev/null)" ] || fail "the corrupt shard stayed in the cache"

# The Hub lies about a git file: lock itself fails (its SHA-256 comes from the download).
printf '{"lie": ["config.json"]}\n' > hub/org/liar.json
expect_fail 3 "hf://org/liar: config.json" "$BUNDLER" lock m.toml -o bad.lock.json
[ ! -e bad.lock.json ] || fail "a lock was written"
BAD=$(python3 -c '
import hashlib, sys
d = bytearray(open("hub/org/liar/config.json", "rb").read()); d[len(d) // 2] ^= 0xFF
print(hashlib.sha256(d).hexdigest())')
[ -z "$(find "$AIRLOCK_CACHE" -name "$BAD*" 2>/dev/null)" ] || fail "the corrupt config.json entered the cache"

# Honest again: everything goes through.
rm hub/org/liar.json
"$BUNDLER" create m.lock.json -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q >/dev/null
[ -n "$(find "$AIRLOCK_CACHE" -name "$SHA*")" ] || fail "the shard is not cached after an honest fetch"
pass "lying CDN and Hub: exit 3 naming the file, no bundle, no lock, nothing cached"

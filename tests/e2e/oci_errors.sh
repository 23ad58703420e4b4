# [[image]] refs that cannot be locked: a tag or a digest the repository
# lacks, a repository the registry lacks (each quoting the registry's error
# code), and refs that are not valid (uppercase, bad tag, digest algorithms
# other than sha256). Every one exits non-zero naming the ref and writes no
# lock. A lock edited to fetch a layer from another host is refused.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/oci_setup.sh"

start_registry "$T/reg"
build_image "$T/layout" v1 amd64 1
push "$T/layout:v1" "$REG/engine:v1"

# lock_fails CODE PATTERN REF [PLATFORM]: lock exits CODE, stderr matches, no lock.
lock_fails() {
  image_manifest engine "$3" "${4:-}" > bad.toml
  expect_fail "$1" "$2" "$BUNDLER" lock bad.toml -o bad.lock.json
  [ ! -e bad.lock.json ] || fail "a lock was written for $3"
}

lock_fails 1 "$REG/engine:v9: manifest v9: no such tag in $REG/engine \(HTTP 404 Not Found, the registry says MANIFEST_UNKNOWN: manifest unknown\); check the tag in \[\[image\]\] ref \(the repository has tags: v1\)" \
  "$REG/engine:v9"
lock_fails 1 "$REG/nothere:v1: .*repository 'nothere' not found on $REG .*NAME_UNKNOWN: repository name not known to registry" \
  "$REG/nothere:v1"
MISSING=sha256:$(printf 'no such manifest' | sha256sum | cut -d' ' -f1)
lock_fails 1 "$REG/engine@$MISSING: manifest $MISSING: no such digest in $REG/engine .*MANIFEST_UNKNOWN.*check the digest" \
  "$REG/engine@$MISSING"
lock_fails 1 "image ref '$REG/Engine:v1': 'Engine' is not a valid repository name component" "$REG/Engine:v1"
lock_fails 1 "image ref '$REG/engine:-v1': '-v1' is not a valid tag" "$REG/engine:-v1"
lock_fails 1 "digest algorithm 'sha512' is not supported \(only sha256\)" "$REG/engine@sha512:$(printf x | sha512sum | cut -d' ' -f1)"
lock_fails 1 "'sha256:ABC' is not a digest" "$REG/engine@sha256:ABC"
lock_fails 1 "image ref '$REG/engine/': '' is not a valid repository name component" "$REG/engine/"
lock_fails 1 "platform 'linux' must be OS/ARCH" "$REG/engine:v1" linux

# A tag that exists works, so the failures above are about the refs.
image_manifest engine "$REG/engine:v1" > good.toml
"$BUNDLER" lock good.toml -o good.lock.json -q >/dev/null 2>&1 || fail "the good ref does not lock"

# A lock edited to send a layer download (and the registry token) elsewhere is refused.
python3 - <<'PY'
import json
lock = json.load(open("good.lock.json"))
f = lock["sources"][0]["files"][-1]
f["origin"] = "http://127.0.0.2:9/steal/" + f["sha256"]
json.dump(lock, open("evil.lock.json", "w"))
PY
setup_site
expect_fail 1 "lock: $REG/engine:v1: images/blobs/sha256/[0-9a-f]{64}: origin http://127.0.0.2:9/steal/.* is not under http://$REG/v2/engine/" \
  "$BUNDLER" create evil.lock.json -o evil --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q
[ ! -e evil ] || [ -z "$(ls -A evil)" ] || fail "a bundle was written from an edited lock"

# Listing the same image twice is refused (the layout names images by ref).
{ image_manifest engine "$REG/engine:v1"; printf '\n[[image]]\nref = "%s"\n' "$REG/engine:v1"; } > twice.toml
expect_fail 1 "\[\[image\]\] #2: $REG/engine:v1 is listed twice" "$BUNDLER" lock twice.toml -o twice.lock.json
[ ! -e twice.lock.json ] || fail "a lock was written for a duplicate image"
pass "missing tags, digests and repositories and bad refs fail clearly"

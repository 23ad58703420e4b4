# A multi-platform image (an OCI index of linux/amd64, linux/arm64/v8 and an
# unknown/unknown attestation-like entry): lock picks the [[image]] platform
# from the index and records the index digest; a ref pinned by the index's
# digest works too; two images from it land in one OCI layout that skopeo
# reads by each ref; a platform the index lacks fails listing the ones it has.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/oci_setup.sh"

setup_site
start_registry "$T/reg"
L="$T/layout"
build_image "$L" amd64 amd64 1
build_image "$L" arm64 arm64 2
# The index, written by hand next to the two images in the layout.
read -r AMD ARM INDEX < <(python3 - "$L" <<'PY'
import hashlib, json, os, sys
layout = sys.argv[1]
top = json.load(open(f"{layout}/index.json"))
by_tag = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in top["manifests"]}
def entry(tag, platform):
    m = by_tag[tag]
    return {"mediaType": m["mediaType"], "digest": m["digest"], "size": m["size"], "platform": platform}
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    entry("amd64", {"os": "linux", "architecture": "amd64"}),
    entry("arm64", {"os": "linux", "architecture": "arm64", "variant": "v8"}),
    entry("amd64", {"os": "unknown", "architecture": "unknown"}),
]}
data = json.dumps(index, indent=2).encode()
digest = "sha256:" + hashlib.sha256(data).hexdigest()
open(f"{layout}/blobs/sha256/{digest[7:]}", "wb").write(data)
top["manifests"].append({"mediaType": index["mediaType"], "digest": digest, "size": len(data),
                         "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(top, open(f"{layout}/index.json", "w"))
print(by_tag["amd64"]["digest"], by_tag["arm64"]["digest"], digest)
PY
)
push "$L:multi" "$REG/engine:multi" --all
[ "$(registry_digest "$REG/engine:multi")" = "$INDEX" ] || fail "the registry does not serve the index as written"

# The platform decides which manifest the lock pins.
for platform in linux/arm64 linux/arm64/v8 linux/amd64; do
  image_manifest engine "$REG/engine:multi" "$platform" > m.toml
  "$BUNDLER" lock m.toml -o m.lock.json -q >/dev/null 2>&1 || fail "lock for $platform"
  want=$ARM; [ "$platform" = linux/amd64 ] && want=$AMD
  lock_json m.lock.json "
want, index, platform = sys.argv[2:]
idn = lock['sources'][0]['identity']
assert idn['digest'] == want and idn['index_digest'] == index and idn['platform'] == platform, idn
paths = [f['path'] for s in lock['sources'] for f in s['files']]
assert 'images/blobs/sha256/' + index[7:] not in paths, 'the index itself ships'
assert paths[0] == 'images/blobs/sha256/' + want[7:], paths
" "$want" "$INDEX" "$platform" || fail "lock for $platform"
done

# Two images from the index, one by tag, one by the index's digest.
{
  image_manifest engine "$REG/engine:multi" linux/arm64
  printf '\n[[image]]\nref = "%s"\n' "$REG/engine@$INDEX"
} > two.toml
"$BUNDLER" lock two.toml -o two.lock.json -q >/dev/null 2>&1 || fail "lock of two images"
lock_json two.lock.json "
arm, amd, index, reg = sys.argv[2:]
a, b, layout = lock['sources']
assert a['identity']['digest'] == arm and b['identity']['digest'] == amd, (a['identity'], b['identity'])
assert b['identity']['requested_digest'] == index and b['identity']['index_digest'] == index, b['identity']
assert 'tag' not in b['identity'] and b['identity']['ref'] == reg + '/engine@' + index, b['identity']
idx = json.loads([f for f in layout['files'] if f['path'] == 'images/index.json'][0]['content'])
refs = [(m['annotations']['org.opencontainers.image.ref.name'], m['digest'], m['platform']['architecture'])
        for m in idx['manifests']]
assert refs == [(reg + '/engine:multi', arm, 'arm64'), (reg + '/engine@' + index, amd, 'amd64')], refs
" "$ARM" "$AMD" "$INDEX" "$REG" || fail "lock of two images"
bundle two.lock.json b1 1
"$INSTALLER" install b1 -q >/dev/null
D="$AIRLOCK_ROOT/deployments/engine/current/images"
got=$(skopeo inspect "oci:$D:$REG/engine:multi" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Digest"], d["Architecture"])')
[ "$got" = "$ARM arm64" ] || fail "engine:multi in the layout is '$got'"
got=$(skopeo inspect "oci:$D:$REG/engine@$INDEX" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Digest"], d["Architecture"])')
[ "$got" = "$AMD amd64" ] || fail "engine@index in the layout is '$got'"

# A platform the index lacks: the error lists what it has (not the attestation).
image_manifest engine "$REG/engine:multi" linux/s390x > bad.toml
expect_fail 1 "$REG/engine:multi: no image for platform linux/s390x .*it has: linux/amd64, linux/arm64/v8\)" \
  "$BUNDLER" lock bad.toml -o bad.lock.json
! grep -q unknown "$T/last.err" || fail "the error lists the unknown/unknown entry"
[ ! -e bad.lock.json ] || fail "a lock was written"
# ... and so does a variant it lacks.
image_manifest engine "$REG/engine:multi" linux/arm64/v7 > bad.toml
expect_fail 1 "no image for platform linux/arm64/v7" "$BUNDLER" lock bad.toml -o bad.lock.json
# A single-platform image for another platform is refused too.
image_manifest engine "$REG/engine@$ARM" linux/amd64 > bad.toml
expect_fail 1 "$REG/engine@$ARM: the image is for linux/arm64, not linux/amd64" "$BUNDLER" lock bad.toml -o bad.lock.json
[ ! -e bad.lock.json ] || fail "a lock was written"
pass "platforms picked from an index, two images in one layout"

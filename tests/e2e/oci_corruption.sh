# A registry that serves wrong bytes (blobs edited in its storage after the
# push): a layer fails `create` with a verification error (exit 3) naming the
# image and the layer digest, and nothing is bundled or cached under that
# digest; a config or a manifest fails `lock` the same way, writing no lock.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/oci_setup.sh"

setup_site
start_registry "$T/reg"
for i in 1 2 3; do
  build_image "$T/layout" "v$i" amd64 "$i"
  push "$T/layout:v$i" "$REG/engine:v$i"
done

# A layer: lock only reads manifests and configs, so it succeeds; create fetches the layer.
image_manifest engine "$REG/engine:v1" > m1.toml
"$BUNDLER" lock m1.toml -o m1.lock.json -q >/dev/null 2>&1 || fail "lock v1"
LAYER=$(lock_json m1.lock.json "print(lock['sources'][0]['files'][-1]['sha256'])")
flip_byte "$(registry_blob "$T/reg" "sha256:$LAYER")" 1000
expect_fail 3 "$REG/engine:v1: layer sha256:$LAYER: .*SHA-256" \
  "$BUNDLER" create m1.lock.json -o b1 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q
[ ! -e b1 ] || [ -z "$(ls -A b1)" ] || fail "a bundle was written from a corrupt layer"
[ ! -e "$AIRLOCK_CACHE/sha256/${LAYER:0:2}/$LAYER" ] || fail "the corrupt layer entered the cache"

# A config: lock fetches it, and checks it.
CONFIG=$(skopeo inspect --tls-verify=false --raw "docker://$REG/engine:v2" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])')
flip_byte "$(registry_blob "$T/reg" "$CONFIG")" 10
image_manifest engine "$REG/engine:v2" > m2.toml
expect_fail 3 "$REG/engine:v2: config $CONFIG: the registry sent .* bytes hashing to sha256:.*altered" \
  "$BUNDLER" lock m2.toml -o m2.lock.json
[ ! -e m2.lock.json ] || fail "a lock was written from a corrupt config"

# A manifest: one hex digit of a layer digest changed, still valid JSON; the
# registry's Docker-Content-Digest (and the digest asked for) catch it.
MANIFEST=$(registry_digest "$REG/engine:v3")
python3 - "$(registry_blob "$T/reg" "$MANIFEST")" <<'PY'
import re, sys
p = sys.argv[1]
data = open(p, "rb").read()
m = re.search(rb'"layers":\[\{[^}]*"digest":"sha256:', data)
i = m.end()
data = data[:i] + (b"1" if data[i:i + 1] != b"1" else b"2") + data[i + 1:]
open(p, "wb").write(data)
PY
image_manifest engine "$REG/engine:v3" > m3.toml
expect_fail 3 "$REG/engine:v3: manifest v3: the registry says its digest is $MANIFEST, its bytes hash to sha256:" \
  "$BUNDLER" lock m3.toml -o m3.lock.json
image_manifest engine "$REG/engine@$MANIFEST" > m3d.toml
expect_fail 3 "$REG/engine@$MANIFEST: manifest $MANIFEST: .*(asked for|the registry says its digest is) $MANIFEST" \
  "$BUNDLER" lock m3d.toml -o m3.lock.json
[ ! -e m3.lock.json ] || fail "a lock was written from a corrupt manifest"
pass "wrong bytes from the registry are refused"

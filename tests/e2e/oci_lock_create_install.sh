# An [[image]] from a registry (Debian's docker-registry on loopback, image
# built with umoci, pushed with skopeo): lock pins the manifest digest the
# registry serves, create fetches the layers, install puts an OCI image
# layout under current/images/ that skopeo reads, with the registry's digest
# and byte-identical blobs, and that pushes back to the same digest. Locking
# again gives the same lock; create from the lock works with the registry
# gone once the cache holds the blobs.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/oci_setup.sh"

setup_site
start_registry "$T/reg"
REG_PID=${E2E_PIDS[-1]}
build_image "$T/layout" v1 amd64 1
push "$T/layout:v1" "$REG/engine:v1"
REF="$REG/engine:v1"
WANT=$(skopeo inspect --tls-verify=false "docker://$REF" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
[[ "$WANT" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "registry digest '$WANT'"
[ "$WANT" = "$(registry_digest "$REF")" ] || fail "skopeo's digest is not the hash of the raw manifest"

image_manifest engine "$REF" > m.toml
"$BUNDLER" lock m.toml -o m.lock.json 2>lock.err >/dev/null || { cat lock.err; fail "lock"; }
grep -q "$REF: pinned linux/amd64 to $WANT (2 layers" lock.err || { cat lock.err; fail "no pin note"; }

lock_json m.lock.json "
want, reg = sys.argv[2], sys.argv[3]
kinds = [s['kind'] for s in lock['sources']]
assert kinds == ['image', 'oci-layout'], kinds
img, layout = lock['sources']
idn = img['identity']
assert idn['ref'] == reg + '/engine:v1' and idn['digest'] == want and idn['tag'] == 'v1', idn
assert idn['registry'] == reg and idn['repository'] == 'engine' and idn['platform'] == 'linux/amd64', idn
assert idn['media_type'] == 'application/vnd.oci.image.manifest.v1+json' and idn['insecure'] is False, idn
assert 'index_digest' not in idn and 'requested_digest' not in idn, idn
roles = [f['extra']['role'] for f in img['files']]
assert roles == ['manifest', 'config', 'layer', 'layer'], roles
m = img['files'][0]
assert m['path'] == 'images/blobs/sha256/' + want[7:] and m['sha256'] == want[7:] and m['size'] == idn['size'], m
assert m['origin'] == f'http://{reg}/v2/engine/manifests/{want}', m['origin']
for f in img['files'][1:]:
    assert f['origin'] == f'http://{reg}/v2/engine/blobs/sha256:' + f['sha256'], f
    assert f['path'] == 'images/blobs/sha256/' + f['sha256'], f
files = {f['path']: f for f in layout['files']}
assert set(files) == {'images/oci-layout', 'images/index.json'}, files
assert json.loads(files['images/oci-layout']['content']) == {'imageLayoutVersion': '1.0.0'}
idx = json.loads(files['images/index.json']['content'])
assert idx['schemaVersion'] == 2 and idx['mediaType'] == 'application/vnd.oci.image.index.v1+json', idx
(d,) = idx['manifests']
assert d['digest'] == want and d['size'] == idn['size'] and d['mediaType'] == idn['media_type'], d
assert d['annotations'] == {'org.opencontainers.image.ref.name': reg + '/engine:v1'}, d
assert d['platform'] == {'os': 'linux', 'architecture': 'amd64'}, d
" "$WANT" "$REG" || fail "lock contents"

# The manifest and config went to the cache while locking; the layers did not.
for hex in $(lock_json m.lock.json "print(' '.join(f['sha256'] for f in lock['sources'][0]['files'][:2]))"); do
  [ -f "$AIRLOCK_CACHE/sha256/${hex:0:2}/$hex" ] || fail "lock left $hex out of the cache"
done
for hex in $(lock_json m.lock.json "print(' '.join(f['sha256'] for f in lock['sources'][0]['files'][2:]))"); do
  [ ! -e "$AIRLOCK_CACHE/sha256/${hex:0:2}/$hex" ] || fail "lock downloaded layer $hex"
done

# Same registry state, same lock (index.json included).
"$BUNDLER" lock m.toml -o again.lock.json -q 2>/dev/null >/dev/null
cmp m.lock.json again.lock.json || fail "locking twice gave different locks"

bundle m.lock.json b1 1
"$INSTALLER" install b1 -q >/dev/null
D="$AIRLOCK_ROOT/deployments/engine/current/images"
[ -f "$D/oci-layout" ] && [ -f "$D/index.json" ] || fail "no OCI layout under current/images"
GOT=$(skopeo inspect "oci:$D:$REF" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Digest"], d["Architecture"], d["Os"])')
[ "$GOT" = "$WANT amd64 linux" ] || fail "skopeo reads the installed layout as '$GOT', want '$WANT amd64 linux'"
n=0
for blob in "$D"/blobs/sha256/*; do
  hex=$(basename "$blob")
  [ "$(sha256sum < "$blob" | cut -d' ' -f1)" = "$hex" ] || fail "blob $hex does not hash to its name"
  cmp "$blob" "$(registry_blob "$T/reg" "sha256:$hex")" || fail "blob $hex differs from the registry's"
  n=$((n + 1))
done
[ "$n" -eq 4 ] || fail "$n blobs installed, want 4 (manifest, config, 2 layers)"

# The installed layout is a complete image: pushed back, it is the same image.
push "$D:$REF" "$REG/engine:roundtrip"
[ "$(registry_digest "$REG/engine:roundtrip")" = "$WANT" ] || fail "pushed back under another digest"

# With the blobs cached, create from the lock needs no registry.
kill "$REG_PID"; wait "$REG_PID" 2>/dev/null || true
bundle m.lock.json b2 2 || fail "create from a lock with a warm cache needed the registry"
# ... but a manifest has to be resolved, and that names the image.
expect_fail 1 "$REF: .*$REG" "$BUNDLER" create m.toml -o b3 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q
[ ! -e b3 ] || [ -z "$(ls -A b3)" ] || fail "a failed create left files in b3"
pass "lock, create and install of an image from a registry"

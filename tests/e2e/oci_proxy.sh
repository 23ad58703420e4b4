# A registry behind tests/support/oci_proxy.py, which demands its own bearer
# token, redirects blob downloads to a "CDN" on another origin (that refuses
# any Authorization header), and can lie:
#   - lock and create work through it, the token never reaching the CDN, and
#     create gets a fresh token (the proxy's changed since lock);
#   - a manifest whose bytes do not hash to the digest asked for is refused
#     even without a Docker-Content-Digest to compare with, and one that
#     contradicts that header is refused too (exit 3, no lock);
#   - a layer altered on the way fails create naming the image and digest.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/oci_setup.sh"

setup_site
start_registry "$T/reg"
build_image "$T/layout" v1 amd64 1
push "$T/layout:v1" "$REG/engine:v1"
WANT=$(registry_digest "$REG/engine:v1")
start_proxy "$REG"
echo tok-1 > "$PROXY_STATE/bearer"
touch "$PROXY_STATE/redirect_blobs"
REF="$PROXY/engine:v1"

image_manifest engine "$REF" > m.toml
"$BUNDLER" lock m.toml -o m.lock.json -q >/dev/null 2>lock.err || { cat lock.err; fail "lock through the proxy"; }
[ "$(lock_json m.lock.json "print(lock['sources'][0]['identity']['digest'])")" = "$WANT" ] || fail "lock digest"
grep -q "^proxy GET /v2/engine/manifests/v1 auth=Bearer tok-1$" "$PROXY_LOG" || { cat "$PROXY_LOG"; fail "no token"; }
grep -q "^cdn GET /cdn/v2/engine/blobs/sha256:[0-9a-f]* auth=none$" "$PROXY_LOG" || { cat "$PROXY_LOG"; fail "no CDN"; }

echo tok-2 > "$PROXY_STATE/bearer"
: > "$PROXY_LOG"
AIRLOCK_CACHE="$T/cache2" bundle m.lock.json b1 1 || fail "create through the proxy"
[ "$(grep -c '^cdn GET .* auth=none$' "$PROXY_LOG")" -eq 3 ] || { cat "$PROXY_LOG"; fail "want config and 2 layers from the CDN"; }
grep -q "^proxy GET /v2/engine/manifests/$WANT auth=Bearer tok-2$" "$PROXY_LOG" || { cat "$PROXY_LOG"; fail "no fresh token"; }
! grep -q "tok-1" "$PROXY_LOG" || fail "create used the old token"
"$INSTALLER" install b1 -q >/dev/null
D="$AIRLOCK_ROOT/deployments/engine/current/images"
[ "$(skopeo inspect "oci:$D:$REF" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')" = "$WANT" ] ||
  fail "installed digest"

# A manifest altered on the way, asked for by digest.
echo "$WANT" > "$PROXY_STATE/corrupt"
image_manifest engine "$PROXY/engine@$WANT" > pinned.toml
expect_fail 3 "$PROXY/engine@$WANT: manifest $WANT: the registry says its digest is $WANT, its bytes hash to sha256:" \
  "$BUNDLER" lock pinned.toml -o bad.lock.json
touch "$PROXY_STATE/drop_digest"
expect_fail 3 "$PROXY/engine@$WANT: manifest $WANT: asked for $WANT, the bytes the registry sent hash to sha256:" \
  "$BUNDLER" lock pinned.toml -o bad.lock.json
[ ! -e bad.lock.json ] || fail "a lock was written from an altered manifest"
rm "$PROXY_STATE/drop_digest"

# A layer altered on the way (through the CDN).
LAYER=$(lock_json m.lock.json "print(lock['sources'][0]['files'][-1]['sha256'])")
echo "sha256:$LAYER" > "$PROXY_STATE/corrupt"
expect_fail 3 "$REF: layer sha256:$LAYER: .*SHA-256" \
  env AIRLOCK_CACHE="$T/cache3" "$BUNDLER" create m.lock.json -o b2 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q
[ ! -e b2 ] || [ -z "$(ls -A b2)" ] || fail "a bundle was written from an altered layer"
pass "token kept from the CDN, fresh token at create, altered manifests and layers refused"

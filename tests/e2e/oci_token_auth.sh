# The bearer-token dance against docker-registry with `auth: token` (JWTs
# from tests/support/oci_token_server.py, RS256 with a certificate in the
# registry's rootcertbundle):
#   - a public image: an anonymous token for repository:engine:pull;
#   - a private one: no credentials fails naming the registry and what to do;
#     wrong ones fail naming the credentials file; right ones, from
#     REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json or ~/.docker/config.json,
#     go to the token service as Basic auth;
#   - create gets a fresh token, and when that one has expired every layer's
#     401 runs the dance again (FetchItem::reauthorize);
#   - the installed layout has the registry's digest;
#   - a registry that answers `WWW-Authenticate: Basic` (auth: htpasswd) gets
#     the credentials directly.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/oci_setup.sh"

setup_site
# Push through an open registry; the token registries serve the same storage.
start_registry "$T/reg"
OPEN=$REG
build_image "$T/layout" v1 amd64 1
push "$T/layout:v1" "$OPEN/engine:v1"
WANT=$(registry_digest "$OPEN/engine:v1")

# A public image behind token auth: anonymous tokens.
start_token_registry "$T/reg"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/engine/manifests/v1")" = 401 ] ||
  fail "the token registry lets anonymous clients in"
image_manifest engine "$REG/engine:v1" > pub.toml
"$BUNDLER" lock pub.toml -o pub.lock.json -q >/dev/null 2>lock.err || { cat lock.err; fail "anonymous lock"; }
[ "$(lock_json pub.lock.json "print(lock['sources'][0]['identity']['digest'])")" = "$WANT" ] || fail "anonymous lock digest"
grep -qx '/token service=airlock-test-registry&scope=repository%3Aengine%3Apull auth=none' "$TOKEN_LOG" ||
  { cat "$TOKEN_LOG"; fail "no anonymous token request"; }
for i in 1 2; do kill "${E2E_PIDS[-i]}"; done

# A private one: the token service wants alice's password.
start_token_registry "$T/reg" alice:s3cret
image_manifest engine "$REG/engine:v1" > m.toml
expect_fail 1 "$REG/engine:v1: http://127.0.0.1:$TOKEN_PORT/token gives no anonymous token \(HTTP 401 Unauthorized\); the image may be private: log in to $REG" \
  "$BUNDLER" lock m.toml -o m.lock.json
[ ! -e m.lock.json ] || fail "a lock was written without credentials"

auth_file() {  # auth_file FILE KEY USER:PASS
  mkdir -p "$(dirname "$1")"
  printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$2" "$(printf '%s' "$3" | base64 -w0)" > "$1"
}
auth_file "$T/auth-bad.json" "$REG" alice:wrong
REGISTRY_AUTH_FILE="$T/auth-bad.json" expect_fail 1 \
  "$REG/engine:v1: .* refused the credentials of 'alice' from $T/auth-bad.json \(HTTP 401 Unauthorized\); log in to $REG again" \
  "$BUNDLER" lock m.toml -o m.lock.json
[ ! -e m.lock.json ] || fail "a lock was written with wrong credentials"
printf 'not json' > "$T/auth-broken.json"
REGISTRY_AUTH_FILE="$T/auth-broken.json" expect_fail 1 "$T/auth-broken.json: not a JSON object" \
  "$BUNDLER" lock m.toml -o m.lock.json

# Right credentials, from each place a docker config can be.
auth_file "$T/auth.json" "$REG" alice:s3cret
auth_file "$T/dockercfg/config.json" "http://$REG" alice:s3cret
auth_file "$HOME/.docker/config.json" "https://$REG/v2/" alice:s3cret
: > "$TOKEN_LOG"
REGISTRY_AUTH_FILE="$T/auth.json" "$BUNDLER" lock m.toml -o m.lock.json -q >/dev/null 2>&1 || fail "lock with REGISTRY_AUTH_FILE"
DOCKER_CONFIG="$T/dockercfg" "$BUNDLER" lock m.toml -o m2.lock.json -q >/dev/null 2>&1 || fail "lock with DOCKER_CONFIG"
"$BUNDLER" lock m.toml -o m3.lock.json -q >/dev/null 2>&1 || fail "lock with ~/.docker/config.json"
cmp m.lock.json m2.lock.json && cmp m.lock.json m3.lock.json || fail "the locks differ"
[ "$(grep -c 'scope=repository%3Aengine%3Apull auth=alice$' "$TOKEN_LOG")" -eq 3 ] || { cat "$TOKEN_LOG"; fail "token requests"; }
! grep -v 'auth=alice$' "$TOKEN_LOG" || fail "a token request without the credentials"

# create with an empty cache: the first token it gets has expired, so every
# download is answered 401 and gets a fresh token; this time the token comes
# as "access_token".
echo 1 > "$TOKEN_STATE/expire_next"
echo access_token > "$TOKEN_STATE/token_key"
: > "$TOKEN_LOG"
AIRLOCK_CACHE="$T/cache2" bundle m.lock.json b1 1 || fail "create with an expired token"
N=$(lock_json m.lock.json "print(len(lock['sources'][0]['files']))")
[ "$(wc -l < "$TOKEN_LOG")" -eq $((N + 1)) ] || { cat "$TOKEN_LOG"; fail "want 1 + $N token requests"; }
[ "$(cat "$TOKEN_STATE/expire_next")" = 0 ] || fail "the expired token was not handed out"
"$INSTALLER" install b1 -q >/dev/null
D="$AIRLOCK_ROOT/deployments/engine/current/images"
[ "$(skopeo inspect "oci:$D:$REG/engine:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')" = "$WANT" ] ||
  fail "the installed image has another digest"

# Without credentials, create with an empty cache cannot fetch, and says so.
rm -f "$HOME/.docker/config.json"
expect_fail 1 "$REG/engine:v1: .*gives no anonymous token.*log in to $REG" \
  env AIRLOCK_CACHE="$T/cache3" "$BUNDLER" create m.lock.json -o b2 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q
[ ! -e b2 ] || [ -z "$(ls -A b2)" ] || fail "a bundle was written without credentials"

# Basic auth: no credentials is a clear error; with them lock and create work.
for i in 1 2; do kill "${E2E_PIDS[-i]}"; done
start_basic_registry "$T/reg" bob:pw
image_manifest engine "$REG/engine:v1" > basic.toml
expect_fail 1 "$REG/engine:v1: manifest v1: access denied by $REG \(HTTP 401 Unauthorized, the registry says UNAUTHORIZED: authentication required\); if the image is private, log in to $REG" \
  "$BUNDLER" lock basic.toml -o basic.lock.json
[ ! -e basic.lock.json ] || fail "a lock was written without credentials"
auth_file "$T/basic.json" "$REG" bob:wrong
REGISTRY_AUTH_FILE="$T/basic.json" expect_fail 1 "$REG/engine:v1: $REG refused the credentials of 'bob' from $T/basic.json \(HTTP 401 Unauthorized\); log in to $REG again" \
  "$BUNDLER" lock basic.toml -o basic.lock.json
auth_file "$T/basic.json" "$REG" bob:pw
export REGISTRY_AUTH_FILE="$T/basic.json"
"$BUNDLER" lock basic.toml -o basic.lock.json -q >/dev/null 2>&1 || fail "lock with Basic credentials"
[ "$(lock_json basic.lock.json "print(lock['sources'][0]['identity']['digest'])")" = "$WANT" ] || fail "Basic lock digest"
AIRLOCK_CACHE="$T/cache4" bundle basic.lock.json b3 3 || fail "create with Basic credentials"
pass "bearer tokens (anonymous, with credentials, renewed when expired) and Basic auth"

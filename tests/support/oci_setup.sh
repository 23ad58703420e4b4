# Sourced by tests/e2e/oci_*.sh after common.sh: Debian's docker-registry
# (distribution 2.8) on loopback, images built with umoci and pushed with
# skopeo, and the token server (tests/support/oci_token_server.py) for
# registries that demand a bearer token.
OCI_SUPPORT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

require_tools docker-registry umoci skopeo openssl curl

# Nothing from the user's own registry log-ins may leak into a test.
unset REGISTRY_AUTH_FILE DOCKER_CONFIG
export HOME="$T/home"
mkdir -p "$HOME"
export AIRLOCK_CACHE="$T/cache"
export AIRLOCK_TEST_BACKOFF_MS=10

free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# wait_http URL: until it answers at all (any status).
wait_http() {
  local i
  for i in $(seq 100); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  fail "$1 did not answer"
}

# start_registry STORAGE [AUTH_YAML]: a registry keeping its blobs under
# STORAGE; sets REG (host:port). AUTH_YAML is an `auth:` section, indented.
start_registry() {
  local storage=$1 auth=${2:-}
  local port
  port=$(free_port)
  local conf="$T/registry-$port.yml"
  {
    printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
    printf 'storage:\n  filesystem:\n    rootdirectory: %s\n' "$storage"
    printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
    [ -n "$auth" ] && printf 'auth:\n%s\n' "$auth"
  } > "$conf"
  start_bg docker-registry serve "$conf" >"$T/registry-$port.log" 2>&1
  wait_http "http://127.0.0.1:$port/v2/"
  REG="127.0.0.1:$port"
}

# build_image LAYOUT TAG ARCH SEED: a two-layer linux/ARCH image in the OCI
# layout LAYOUT (umoci), with files that differ by SEED.
build_image() {
  local layout=$1 tag=$2 arch=$3 seed=$4
  [ -d "$layout" ] || umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  local b="$T/bundle-$tag"
  rm -rf "$b"
  umoci unpack --rootless --image "$layout:$tag" "$b" >/dev/null
  mkdir -p "$b/rootfs/etc" "$b/rootfs/opt/engine"
  printf 'engine %s %s\n' "$tag" "$arch" > "$b/rootfs/etc/engine-release"
  umoci repack --refresh-bundle --image "$layout:$tag" "$b"
  python3 -c 'import random,sys; r=random.Random(int(sys.argv[1])); sys.stdout.buffer.write(r.randbytes(300000))' \
    "$seed" > "$b/rootfs/opt/engine/weights.bin"
  printf '#!/bin/sh\necho serving\n' > "$b/rootfs/opt/engine/serve.sh"
  umoci repack --image "$layout:$tag" "$b"
  umoci config --image "$layout:$tag" --os linux --architecture "$arch" --config.cmd /opt/engine/serve.sh
  rm -rf "$b"
}

# push LAYOUT:TAG REG/NAME:TAG [skopeo args]
push() {
  skopeo copy -q --dest-tls-verify=false "${@:3}" "oci:$1" "docker://$2" >/dev/null
}

# registry_digest REG/NAME:TAG: the manifest digest the registry serves.
registry_digest() {
  skopeo inspect --tls-verify=false --raw "docker://$1" | sha256sum | sed 's/^/sha256:/; s/ .*//'
}

# registry_blob STORAGE DIGEST: where the registry keeps a blob's bytes.
registry_blob() {
  local hex=${2#sha256:}
  echo "$1/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

# image_manifest NAME [REF [PLATFORM [INSECURE]]]: a deployment manifest
# with one [[image]].
image_manifest() {
  local name=$1 ref=${2:-} platform=${3:-} insecure=${4:-}
  printf '[deployment]\nname = "%s"\nversion = "1.0.0"\n\n[[image]]\nref = "%s"\n' "$name" "$ref"
  [ -n "$platform" ] && printf 'platform = "%s"\n' "$platform"
  [ -n "$insecure" ] && printf 'insecure = %s\n' "$insecure"
  true
}

# lock_json LOCK PYTHON [ARGS]: run PYTHON with `lock` bound to the parsed
# lock; ARGS are sys.argv[2:].
lock_json() {
  python3 -c "import json,sys; lock=json.load(open(sys.argv[1])); $2" "$1" "${@:3}"
}

# start_token_registry STORAGE [USER:PASS...]: the token server
# (oci_token_server.py; Basic credentials required when users are given)
# and a registry on STORAGE that demands its bearer tokens. Sets REG,
# TOKEN_PORT, TOKEN_LOG and TOKEN_STATE (see the server's docstring).
start_token_registry() {
  local storage=$1; shift
  local users=() u
  for u in "$@"; do users+=(--users "$u"); done
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/token.key" -out "$T/token.crt" -days 2 \
    -subj /CN=airlock-test-token 2>/dev/null
  TOKEN_LOG="$T/token.log"
  TOKEN_STATE="$T/token-state"
  mkdir -p "$TOKEN_STATE"
  : > "$TOKEN_LOG"
  rm -f "$T/token.port"
  start_bg python3 "$OCI_SUPPORT/oci_token_server.py" --key "$T/token.key" --cert "$T/token.crt" \
    --issuer airlock-test-issuer --service airlock-test-registry --state "$TOKEN_STATE" --log "$TOKEN_LOG" \
    --port-file "$T/token.port" "${users[@]}"
  local i
  for i in $(seq 100); do [ -s "$T/token.port" ] && break; sleep 0.1; done
  [ -s "$T/token.port" ] || fail "the token server did not start"
  TOKEN_PORT=$(cat "$T/token.port")
  start_registry "$storage" "$(printf '  token:\n    realm: http://127.0.0.1:%s/token\n    service: airlock-test-registry\n    issuer: airlock-test-issuer\n    rootcertbundle: %s' "$TOKEN_PORT" "$T/token.crt")"
}

# start_basic_registry STORAGE USER:PASS: a registry that wants Basic
# credentials (auth: htpasswd, bcrypt through python3's crypt). Sets REG.
start_basic_registry() {
  local storage=$1 user=${2%%:*} pass=${2#*:}
  python3 -W ignore -c 'import crypt,sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
    "$user" "$pass" > "$T/htpasswd" 2>/dev/null || skip "python3 cannot make bcrypt hashes"
  start_registry "$storage" "$(printf '  htpasswd:\n    realm: airlock-test-basic\n    path: %s' "$T/htpasswd")"
}

# start_proxy UPSTREAM: oci_proxy.py in front of UPSTREAM (host:port); sets
# PROXY (host:port), CDN_PORT, PROXY_LOG and PROXY_STATE (see its docstring).
start_proxy() {
  PROXY_LOG="$T/proxy.log"
  PROXY_STATE="$T/proxy-state"
  mkdir -p "$PROXY_STATE"
  : > "$PROXY_LOG"
  rm -f "$T/proxy.ports"
  start_bg python3 "$OCI_SUPPORT/oci_proxy.py" --upstream "http://$1" --state "$PROXY_STATE" --log "$PROXY_LOG" \
    --ports-file "$T/proxy.ports"
  local i
  for i in $(seq 100); do [ -s "$T/proxy.ports" ] && break; sleep 0.1; done
  [ -s "$T/proxy.ports" ] || fail "the proxy did not start"
  local port
  read -r port CDN_PORT < "$T/proxy.ports"
  PROXY="127.0.0.1:$port"
}

# The whole connected side at once: one manifest
# pulls a model from the Hub emulator, an image from Debian's docker-registry,
# .debs from a signed apt repository and wheels from a PEP 503 index, plus a
# local [[files]] directory. lock, create and install work end to end and the
# installed bytes equal the sources'. A second create of the same lock makes
# no request to any server and downloads nothing; the bundle's signed payload
# carries the resolved sources for the installer.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/hub_setup.sh"
source "$HERE/../support/oci_setup.sh"
source "$HERE/../support/apt_setup.sh"
source "$HERE/../support/wheels_setup.sh"
require_tools docker-registry umoci skopeo

setup_site
# The model: a private Hub repository, read with a token.
make_hub_repo hub org/mini 2M 5
printf '{"tokens": ["hf_ok"]}\n' > hub/hub.json
printf '{"private": true, "allowed_tokens": ["hf_ok"], "refs": ["main"]}\n' > hub/org/mini.json
start_hub "$T/hub"
export HF_TOKEN=hf_ok
COMMIT=$(hub_commit org/mini)
# The engine image.
start_registry "$T/reg"
REG_PID=${E2E_PIDS[-1]}
build_image "$T/layout" v1 amd64 3
push "$T/layout:v1" "$REG/engine:v1"
DIGEST=$(registry_digest "$REG/engine:v1")
# The .debs and the wheels, each served by python3 -m http.server.
apt_fixture
APT_LOG="$T/http.log"
wheels_fixture
static_index "$T/pypi"
serve_dir "$T/pypi" "$T/pypi.log"
INDEX="http://127.0.0.1:$PORT/simple/"
mkdir serve && printf '#!/bin/sh\nexec vllm serve "$@"\n' > serve/run.sh && chmod +x serve/run.sh

cat > m.toml <<TOML
[deployment]
name = "stack"
version = "1.0.0"

[model]
source = "hf://org/mini"
revision = "main"
include = ["*.safetensors", "*.json"]

[[image]]
ref = "$REG/engine:v1"

[[deb]]
repo = "$REPO_FLAT"
packages = ["app"]
signed-by = "key.gpg"

[[wheels]]
index = "$INDEX"
requirements = "requirements.txt"

[[files]]
source = "serve"
dest = "serve"
TOML

"$BUNDLER" lock m.toml -o m.lock.json 2>lock.err >/dev/null || { cat lock.err; fail "lock"; }
python3 - "$COMMIT" "$DIGEST" <<'PY'
import json, sys
commit, digest = sys.argv[1:]
lock = json.load(open("m.lock.json"))
kinds = [s["kind"] for s in lock["sources"]]
assert kinds == ["model", "image", "oci-layout", "deb", "wheels", "files"], kinds
src = {s["kind"]: s for s in lock["sources"]}
assert src["model"]["identity"]["commit"] == commit
assert src["image"]["identity"]["digest"] == digest
assert [p["package"] for p in src["deb"]["identity"]["packages"]] == ["app", "base", "libfoo", "nvidia-driver"], src["deb"]
for s in lock["sources"]:
    for f in s["files"]:
        assert len(f["sha256"]) == 64 and f["size"] >= 0 and f["origin"], f
PY

"$BUNDLER" create m.lock.json -o b1 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" 2>create.err >/dev/null ||
  { cat create.err; fail "create"; }
grep -q "fetched .* remote files" create.err || { cat create.err; fail "no fetch summary"; }
# The signed payload carries the resolved sources (what the installer will lay out).
"$BUNDLER" inspect b1 --key "$AIRLOCK_ROOT/keys" > inspect.out
grep -q "^source     model      hf://org/mini @ $COMMIT (7 files)" inspect.out || { cat inspect.out; fail "inspect: model source"; }
grep -q "^source     image      $REG/engine:v1 linux/amd64 $DIGEST" inspect.out || { cat inspect.out; fail "inspect: image"; }
grep -q "^source     deb        $REPO_FLAT (4 files)" inspect.out || { cat inspect.out; fail "inspect: deb"; }

# Warm cache: the same lock again talks to no server and downloads nothing
# (the registry is stopped; the other servers' logs must stay empty).
kill "$REG_PID"; wait "$REG_PID" 2>/dev/null || true
: > "$HUB_LOG"; : > "$APT_LOG"; : > "$T/pypi.log"
"$BUNDLER" create m.lock.json -o b2 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 2 \
  2>create2.err >/dev/null || { cat create2.err; fail "second create"; }
grep -q "fetched 0 of [0-9]* remote files (0 B over the network)" create2.err || { cat create2.err; fail "the warm create downloaded"; }
[ ! -s "$HUB_LOG" ] || { cat "$HUB_LOG"; fail "the warm create asked the Hub"; }
grep -q '"GET ' "$APT_LOG" && fail "the warm create asked the apt repository"
grep -q '"GET ' "$T/pypi.log" && fail "the warm create asked the index"

"$INSTALLER" install b1 -q >/dev/null
D="$AIRLOCK_ROOT/deployments/stack/current"
for f in config.json model.safetensors.index.json model-00001-of-00002.safetensors model-00002-of-00002.safetensors; do
  cmp "hub/org/mini/$f" "$D/model/$f" || fail "model/$f differs from the Hub's"
done
for deb in "$T"/srv/flat/app_2.0_amd64.deb "$T"/srv/flat/base_1.0_all.deb "$T"/srv/flat/libfoo_1.5_amd64.deb \
           "$T"/srv/flat/nvidia-driver_550_amd64.deb; do
  cmp "$deb" "$D/debs/$(basename "$deb")" || fail "$(basename "$deb") differs from the repository's"
done
for w in "$DEMO" "$OT_LINUX" "$OT_MAC"; do
  cmp "$T/pypi/files/$w" "$D/wheels/$w" || fail "$w differs from the index's"
done
cmp serve/run.sh "$D/serve/run.sh" || fail "serve/run.sh differs"
[ -x "$D/serve/run.sh" ] || fail "serve/run.sh lost its execute bit"
for blob in "$D"/images/blobs/sha256/*; do
  cmp "$blob" "$(registry_blob "$T/reg" "sha256:$(basename "$blob")")" || fail "image blob $(basename "$blob") differs"
done
GOT=$(skopeo inspect "oci:$D/images:$REG/engine:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
[ "$GOT" = "$DIGEST" ] || fail "skopeo reads $GOT from the installed layout, the registry serves $DIGEST"

# The installed bytes' hashes as the ledger has them equal the lock's.
python3 - "$D" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
lock = json.load(open("m.lock.json"))
n = 0
for s in lock["sources"]:
    for f in s["files"]:
        with open(os.path.join(d, f["path"]), "rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == f["sha256"], f["path"]
        n += 1
print(f"{n} files match the lock")
PY
"$INSTALLER" check -q >/dev/null || fail "check after install"
pass "model + image + .debs + wheels + files: lock, create, install byte-identical; warm re-run made 0 requests"

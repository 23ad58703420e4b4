# A Hub model published as a ModelPack artifact names where it came from:
# descriptor.name is the Hub repo, descriptor.revision the commit the lock
# pinned (the one the emulator serves for main), licenses the README's; the
# layers are the installed files, README.md a doc layer.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/hub_setup.sh"
source "$HERE/../support/oci_setup.sh"

make_hub_repo hub org/pub-mini 1M 3
start_hub "$T/hub"
COMMIT=$(hub_commit org/pub-mini)
setup_site
hf_manifest m.toml pubmini org/pub-mini 'include = ["*.safetensors", "*.json", "README.md"]'
"$BUNDLER" lock m.toml -o m.lock.json >/dev/null 2>lock.err || { cat lock.err; fail "lock"; }
bundle m.lock.json b1 1
"$INSTALLER" install b1 -q >/dev/null || fail "install"
start_registry "$T/reg"
"$INSTALLER" publish pubmini --registry "$REG" >pub.out 2>pub.err || { cat pub.err; fail "publish"; }
REF="$REG/airlock/pubmini/model:1.0.0"
skopeo inspect --raw --tls-verify=false "docker://$REF" > manifest.json || fail "skopeo inspect --raw"
skopeo inspect --raw --config --tls-verify=false "docker://$REF" > config.json || fail "skopeo inspect --config"
python3 - manifest.json config.json "$COMMIT" <<'PY' || fail "ModelPack fields of a Hub model"
import json, sys
m, c, commit = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
assert m['artifactType'] == 'application/vnd.cncf.model.manifest.v1+json', m
d = c['descriptor']
assert d['name'] == 'org/pub-mini' and d['revision'] == commit and d['licenses'] == ['apache-2.0'], d
kinds = {l['annotations']['org.cncf.model.filepath']: l['mediaType'] for l in m['layers']}
assert kinds['README.md'] == 'application/vnd.cncf.model.doc.v1.raw', kinds
assert kinds['config.json'] == 'application/vnd.cncf.model.weight.config.v1.raw', kinds
assert c['config']['format'] == 'safetensors' and c['config']['precision'] == 'bf16', c['config']
assert c['modelfs']['diffIds'] == [l['digest'] for l in m['layers']], c['modelfs']
PY
pass "descriptor.name org/pub-mini, revision $COMMIT, licenses apache-2.0; README a doc layer"

# publish: the active version's images go into a second, "site" registry
# with their manifest digests unchanged (one by tag, one locked by digest
# only), and its model goes there as a CNCF ModelPack v1 artifact: every
# required field of the manifest and of the config blob (skopeo inspect
# --raw, and --config), one raw layer per installed file byte for byte, its
# media type by file kind and its digest the file's SHA-256, annotated with
# its path; paramSize and precision from the safetensors headers, licenses
# from the README. Publishing again
# gives the same digests; a registry path prefix works. A skopeo that
# reports another digest, a tampered manifest or model file, an unknown
# deployment, a registry that is not listening and a PATH without skopeo
# each fail clearly, and no failed publish leaves a staging/publish-*
# directory.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/oci_setup.sh"

setup_site
start_registry "$T/reg"
SRC=$REG
build_image "$T/layout" v1 amd64 1
build_image "$T/layout" v2 amd64 2
push "$T/layout:v1" "$SRC/engine:v1"
push "$T/layout:v2" "$SRC/tools/helper:v2"
D1=$(registry_digest "$SRC/engine:v1")
D2=$(registry_digest "$SRC/tools/helper:v2")
[ "$D1" != "$D2" ] || fail "the two test images are the same"

make_model model 1M 7
mkdir -p model/extra && printf 'tokenizer bytes\n' > model/extra/tokenizer.txt
printf -- '---\nlicense: apache-2.0\nlanguage: [en]\n---\n# engine\n' > model/README.md
printf 'Apache License 2.0\n' > model/LICENSE
printf 'def forward(x):\n    return x\n' > model/modeling_engine.py
cat > m.toml <<EOF
[deployment]
name = "engine"
version = "1.0.0+b1"

[model]
source = "model"
allow_remote_code = true

[[image]]
ref = "$SRC/engine:v1"

[[image]]
ref = "$SRC/tools/helper@$D2"
EOF
bundle m.toml b1 1
"$INSTALLER" install b1 -q >/dev/null
V="$AIRLOCK_ROOT/deployments/engine/current"
python3 - "$V/images/index.json" "$SRC" "$D1" "$D2" <<'PY' || fail "installed index.json"
import json, sys
idx, src, d1, d2 = sys.argv[1:]
got = {m['annotations']['org.opencontainers.image.ref.name']: m['digest'] for m in json.load(open(idx))['manifests']}
assert got == {f'{src}/engine:v1': d1, f'{src}/tools/helper@{d2}': d2}, got
PY

start_registry "$T/site-reg"
SITE=$REG
no_publish_staging() {
  [ -z "$(find "$AIRLOCK_ROOT/staging" -maxdepth 1 -name 'publish-*')" ] || fail "a publish-* directory was left in staging ($*)"
}

"$INSTALLER" publish engine --registry "$SITE" >pub.out 2>pub.err || { cat pub.err; fail "publish"; }
grep -q "\[1/3\] pushing image $SRC/engine:v1 to $SITE/engine:v1" pub.err || { cat pub.err; fail "no progress line"; }
[ "$(wc -l < pub.out)" -eq 3 ] || { cat pub.out; fail "want one stdout line per push"; }
grep -qx "image $SITE/engine:v1 $D1" pub.out || { cat pub.out; fail "engine line"; }
grep -qx "image $SITE/tools/helper:sha256-${D2#sha256:} $D2" pub.out || { cat pub.out; fail "helper line"; }
MODEL_REF="$SITE/airlock/engine/model:1.0.0_b1"
MD=$(awk -v r="$MODEL_REF" '$1 == "model" && $2 == r {print $3}' pub.out)
[[ "$MD" =~ ^sha256:[0-9a-f]{64}$ ]] || { cat pub.out; fail "no model line for $MODEL_REF"; }
no_publish_staging "after a publish"

# The site registry serves each image under the digest it had at the source
# and in the installed layout: raw manifest bytes and skopeo's own view.
inspect_digest() { skopeo inspect --tls-verify=false "docker://$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])'; }
for pair in "engine:v1 $D1" "tools/helper:sha256-${D2#sha256:} $D2" "tools/helper@$D2 $D2"; do
  set -- $pair
  [ "$(registry_digest "$SITE/$1")" = "$2" ] || fail "$SITE/$1 serves other manifest bytes than $2"
  [ "$(inspect_digest "$SITE/$1")" = "$2" ] || fail "skopeo inspect of $SITE/$1 does not say $2"
done
[ "$(registry_digest "$SRC/engine:v1")" = "$(registry_digest "$SITE/engine:v1")" ] || fail "source and site differ"
[ "$(registry_digest "$MODEL_REF")" = "$MD" ] || fail "the model tag does not serve the printed digest"

# The model comes back as an artifact: each layer is an installed file.
skopeo copy -q --src-tls-verify=false "docker://$MODEL_REF" "oci:$T/back:m" >/dev/null
skopeo inspect --raw --tls-verify=false "docker://$MODEL_REF" > model-manifest.json || fail "skopeo inspect --raw"
skopeo inspect --raw --config --tls-verify=false "docker://$MODEL_REF" > model-config.json || fail "skopeo inspect --config"
python3 - "$T/back" "$V" "$MD" model-manifest.json model-config.json <<'PY' > titles.txt || fail "model artifact"
import hashlib, json, struct, sys, glob, os
back, v, md, raw_manifest, raw_config = sys.argv[1:]
(d,) = json.load(open(f'{back}/index.json'))['manifests']
assert d['digest'] == md, (d, md)
raw = open(raw_manifest, 'rb').read()
assert 'sha256:' + hashlib.sha256(raw).hexdigest() == md, 'the registry serves other manifest bytes'
m = json.loads(raw)
assert m['schemaVersion'] == 2 and m['mediaType'] == 'application/vnd.oci.image.manifest.v1+json', m
assert m['artifactType'] == 'application/vnd.cncf.model.manifest.v1+json', m
craw = open(raw_config, 'rb').read()
assert m['config']['mediaType'] == 'application/vnd.cncf.model.config.v1+json', m['config']
assert m['config']['digest'] == 'sha256:' + hashlib.sha256(craw).hexdigest(), 'config digest'
assert m['config']['size'] == len(craw)
assert m['annotations']['vnd.airlock.deployment'] == 'engine' and m['annotations']['vnd.airlock.version'] == '1.0.0+b1'
kinds = {}
for l in m['layers']:
    a = l['annotations']
    path = a['org.cncf.model.filepath']
    assert a['org.opencontainers.image.title'] == path, a
    meta = json.loads(a['org.cncf.model.file.metadata+json'])
    assert meta['name'] == path and meta['size'] == l['size'] and meta['typeflag'] == 48, meta
    data = open(f'{v}/model/{path}', 'rb').read()
    assert l['digest'] == 'sha256:' + hashlib.sha256(data).hexdigest() and l['size'] == len(data), path
    kinds[path] = l['mediaType']
    print(path, l['digest'][7:])
want = {'README.md': 'doc', 'LICENSE': 'doc', 'modeling_engine.py': 'code', 'config.json': 'weight.config',
        'extra/tokenizer.txt': 'weight.config'}
for p, k in want.items():
    assert kinds[p] == f'application/vnd.cncf.model.{k}.v1.raw', (p, kinds[p])
st = [p for p in kinds if p.endswith('.safetensors')]
assert st and all(kinds[p] == 'application/vnd.cncf.model.weight.v1.raw' for p in st), kinds
assert [l['annotations']['org.cncf.model.filepath'] for l in m['layers']] == sorted(kinds), 'layers not sorted by path'
c = json.loads(craw)
desc = c['descriptor']
assert desc['name'] == 'engine' and desc['version'] == '1.0.0+b1' and desc['licenses'] == ['apache-2.0'], desc
assert desc['createdAt'].endswith('Z') and 'revision' not in desc, desc  # a local model: no HF commit
assert c['modelfs'] == {'type': 'layers', 'diffIds': [l['digest'] for l in m['layers']]}, c['modelfs']
params, dtypes = 0, {}
for p in st:
    f = open(f'{v}/model/{p}', 'rb'); (n,) = struct.unpack('<Q', f.read(8)); h = json.loads(f.read(n))
    for k, t in h.items():
        if k == '__metadata__': continue
        c1 = 1
        for x in t['shape']: c1 *= x
        params += c1; dtypes[t['dtype']] = dtypes.get(t['dtype'], 0) + c1
cfg = c['config']
assert cfg['format'] == 'safetensors', cfg
assert cfg['precision'] == 'bf16' and max(dtypes, key=dtypes.get) == 'BF16', (cfg, dtypes)
want_size = f'{params / 1e3:.1f}'.removesuffix('.0') + 'K' if params < 1e6 else f'{params / 1e6:.1f}'.removesuffix('.0') + 'M'
assert cfg['paramSize'] == want_size, (cfg, params)
PY
(cd "$V/model" && find . -type f | sed 's|^\./||' | sort) > installed.txt
cut -d' ' -f1 titles.txt | sort | diff -u installed.txt - || fail "layer titles are not the installed model paths"
[ "$(wc -l < installed.txt)" -ge 3 ] || fail "the model has only $(wc -l < installed.txt) files"
while read -r title hex; do
  cmp "$T/back/blobs/sha256/$hex" "$V/model/$title" || fail "layer $title differs from the installed file"
done < titles.txt

# Again: the same digests (the artifact's bytes are deterministic). --json.
"$INSTALLER" publish engine --registry "$SITE" >pub2.out 2>/dev/null || fail "second publish"
diff -u pub.out pub2.out || fail "publishing again gave other digests"
"$INSTALLER" publish engine --registry "$SITE" --json -q >pub.json || fail "publish --json"
python3 - pub.json "$SITE" "$D1" "$D2" "$MD" <<'PY' || fail "--json output"
import json, sys
out, site, d1, d2, md = sys.argv[1], sys.argv[2], *sys.argv[3:]
got = [(e['kind'], e['destination'], e['digest']) for e in json.load(open(out))]
assert got == [('image', f'{site}/engine:v1', d1), ('image', f'{site}/tools/helper:sha256-{d2[7:]}', d2),
               ('model', f'{site}/airlock/engine/model:1.0.0_b1', md)], got
PY
"$INSTALLER" history engine | grep -E "publish +engine/1.0.0\+b1 +ok +registry $SITE: .*$SITE/engine:v1@$D1" >/dev/null ||
  fail "no publish event in the ledger"

# A path prefix, images only, and an explicit --version.
"$INSTALLER" publish engine --registry "$SITE/team/" --no-model --version 1.0.0+b1 >team.out 2>/dev/null || fail "prefix"
[ "$(registry_digest "$SITE/team/engine:v1")" = "$D1" ] || fail "prefixed image digest"
! grep -q model team.out || fail "--no-model pushed the model"
! skopeo inspect --tls-verify=false --raw "docker://$SITE/team/airlock/engine/model:1.0.0_b1" >/dev/null 2>&1 ||
  fail "--no-model pushed the model"

# A skopeo that pushed something else than asked: exit 3 naming the image.
mkdir fakebin
cat > fakebin/skopeo <<EOF
#!/bin/sh
/usr/bin/skopeo "\$@" || exit \$?
while [ \$# -gt 0 ]; do
  [ "\$1" = --digestfile ] && printf 'sha256:%064d' 0 > "\$2"
  shift
done
exit 0
EOF
chmod +x fakebin/skopeo
expect_fail 3 "image $SRC/engine:v1: $SITE/lying/engine:v1 now holds digest sha256:0{64}, not $D1" \
  env PATH="$T/fakebin:$PATH" "$INSTALLER" publish engine --registry "$SITE/lying"
no_publish_staging "after a digest mismatch"
"$INSTALLER" history engine | grep -E "publish +engine/1.0.0\+b1 +failed +registry $SITE/lying: " >/dev/null ||
  fail "no failed publish event"

# Bad inputs: each exits 1 with the fix or the destination in the message.
expect_fail 1 "no deployment named 'nope' is installed" "$INSTALLER" publish nope --registry "$SITE"
expect_fail 1 "engine 9.9.9 is not installed" "$INSTALLER" publish engine --registry "$SITE" --version 9.9.9
expect_fail 2 "without a scheme" "$INSTALLER" publish engine --registry "http://$SITE"
DEAD="127.0.0.1:$(free_port)"
expect_fail 1 "image $SRC/engine:v1: pushing to $DEAD/engine:v1 failed \(skopeo exit status 1\): .*connection refused" \
  "$INSTALLER" publish engine --registry "$DEAD"
no_publish_staging "after a registry that is not listening"
expect_fail 1 "skopeo is not installed .*apt-get install skopeo" env PATH="$T/nowhere" "$INSTALLER" publish engine --registry "$SITE"
no_publish_staging "without skopeo"

# A manifest blob altered after install: refused before anything is pushed.
blob="$V/images/blobs/sha256/${D1#sha256:}"
cp "$blob" manifest.orig
chmod u+w "$blob" && printf ' ' >> "$blob"
expect_fail 3 "$SRC/engine:v1: manifest: .*SHA-256 mismatch .*nothing was pushed; run 'airlock-installer check engine'" \
  "$INSTALLER" publish engine --registry "$SITE/tampered"
! skopeo inspect --tls-verify=false --raw "docker://$SITE/tampered/engine:v1" >/dev/null 2>&1 ||
  fail "a tampered manifest reached the registry"
no_publish_staging "after a tampered manifest"
cat manifest.orig > "$blob"

# A model file altered after install (same size): skopeo's digest check, exit 3.
start_registry "$T/fresh-reg"
file="$V/model/$(head -n1 titles.txt | cut -d' ' -f1)"
chmod u+w "$file" && flip_byte "$file" 0
expect_fail 3 "model engine 1.0.0\+b1 model/: installed bytes do not match their digest .*run 'airlock-installer check engine'" \
  "$INSTALLER" publish engine --registry "$REG"
no_publish_staging "after a tampered model file"
pass "images keep their digests and the model is an artifact of the installed files in the site registry"

# A name in the install targets is content. Two deployments
# claiming one name with different bytes (the same HF repo at another commit,
# the same wheel file name) is a conflict: the newcomer's activation is
# refused naming both deployments and the entry, and the first deployment's
# files stay byte for byte. `check` re-verifies the targets too: a tampered
# or planted blob in ROOT/hf is reported by path (exit 3).
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/hub_setup.sh"
FORGE="$AIRLOCK_BUILD_DIR/tests/airlock-test-forge"
[ -x "$FORGE" ] || skip "$FORGE not built"

setup_site
make_hub_repo hub org/mini 1M 4
start_hub "$T/hub"
C1=$(hub_commit org/mini)
hf_manifest first.toml first org/mini
bundle first.toml bf 1
printf 'changed\n' >> hub/org/mini/README.md
C2=$(hub_commit org/mini)
hf_manifest second.toml second org/mini
bundle second.toml bs 1
for p in "${E2E_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
E2E_PIDS=()
R="$AIRLOCK_ROOT"
tree() {  # every file's hash and every link's target under ROOT/hf, ROOT/wheels
  local d
  for d in hf wheels; do
    [ -d "$R/$d" ] || continue
    (cd "$R" && find "$d" -type f -print0 | sort -z | xargs -0r sha256sum && find "$d" -type l -printf '%p -> %l\n' | sort)
  done
}

# ---- the same HF repo, another commit
"$INSTALLER" install bf -q >/dev/null || fail "install first"
tree > tree.before
expect_fail 1 "second cannot be activated.*$R/hf/models--org--mini/refs/main: first/1.0.0 and second/1.0.0 ship different bytes" \
  "$INSTALLER" install bs
tree | diff -u tree.before - >&2 || fail "the second deployment changed what the first loads"
[ "$(cat "$R/hf/models--org--mini/refs/main")" = "$C1" ] || fail "refs/main moved to the second deployment's commit"
"$INSTALLER" list --json -q | grep -q '"second"' && fail "the refused deployment was recorded"
"$INSTALLER" check -q >/dev/null || fail "check after the refusal"

# ---- a blob name claimed by other bytes: "aaliar" (listed before "first")
# ships its own config.json as git blob <first's config.json blob> of a new
# commit. The name is recomputed from the bytes: its model stays out.
CONF_BLOB=$(basename "$(readlink "$R/hf/models--org--mini/snapshots/$C1/config.json")")
[[ "$CONF_BLOB" =~ ^[0-9a-f]{40}$ ]] || fail "config.json's blob '$CONF_BLOB'"
make_model m-liar 1M 9
printf '{"liar": true}\n' > m-liar/config.json
make_manifest liar.toml aaliar 1.0.0 m-liar
bundle liar.toml bl 1
LIAR_SHA=$(sha256sum m-liar/config.json | cut -d' ' -f1)
FAKE=$(printf 'd%.0s' {1..40})
"$FORGE" bl --site-key "$R/keys" --sign "$T/pub.key" --sources \
  '[{"kind":"model","identity":{"repo":"org/mini","commit":"'"$FAKE"'","revision":"main"},"files":[{"path":"model/config.json","sha256":"'"$LIAR_SHA"'","extra":{"lfs":false,"blob":"'"$CONF_BLOB"'"}}]}]' >/dev/null
"$INSTALLER" install bl --no-activate -q >/dev/null || fail "install aaliar --no-activate"
"$INSTALLER" targets > liar.out 2>&1 || { cat liar.out; fail "targets"; }
grep -q "aaliar/1.0.0: model/config.json is not git blob $CONF_BLOB" liar.out || { cat liar.out; ls -R "$R/hf" >&2; fail "no note on the lying blob name"; }
tree | diff -u tree.before - >&2 || fail "aaliar changed what first loads"
[ ! -e "$R/hf/models--org--mini/snapshots/$FAKE" ] || fail "aaliar's snapshot was linked"

# ---- the same wheel file name, other bytes (signed bundles whose file is
# renamed into wheels/ by the test forger, as a buggy or hostile publisher could)
wheel_bundle() {  # NAME SEQ BYTES
  mkdir -p "w-$1" && printf '%s' "$3" > "w-$1/dup-1.0-py3-none-any.whl"
  printf '[deployment]\nname = "%s"\nversion = "1.0.0"\n\n[[files]]\nsource = "w-%s"\ndest = "serve"\n' "$1" "$1" > "w-$1.toml"
  bundle "w-$1.toml" "bw-$1" "$2"
  "$FORGE" "bw-$1" --site-key "$R/keys" --sign "$T/pub.key" --sources '[]' >/dev/null
  "$FORGE" "bw-$1" --site-key "$R/keys" --sign "$T/pub.key" --path "0=wheels/dup-1.0-py3-none-any.whl" >/dev/null
}
wheel_bundle wa 1 "wheel A"
wheel_bundle wb 1 "wheel B"
"$INSTALLER" install bw-wa -q >/dev/null || fail "install wa"
[ "$(cat "$R/wheels/dup-1.0-py3-none-any.whl")" = "wheel A" ] || fail "wa's wheel is not in ROOT/wheels"
tree > tree.before
expect_fail 1 "wb cannot be activated.*$R/wheels/dup-1.0-py3-none-any.whl: wa/1.0.0 and wb/1.0.0 ship different bytes" \
  "$INSTALLER" install bw-wb
tree | diff -u tree.before - >&2 || fail "wb changed what wa loads"
[ "$(cat "$R/wheels/dup-1.0-py3-none-any.whl")" = "wheel A" ] || fail "wb's wheel replaced wa's"

# ---- the same image ref and .deb name, other bytes; an OCI blob under a
# name that is not its hash. Signed bundles whose files the forger renames
# into images/ and debs/ (files 0.bin, 1.bin, ... keep their index).
forged_files() {  # NAME SOURCES_JSON DEST... (contents in f-NAME/0.bin, 1.bin, ...)
  local name=$1 sources=$2 i=0 dest; shift 2
  printf '[deployment]\nname = "%s"\nversion = "1.0.0"\n\n[[files]]\nsource = "f-%s"\ndest = "serve"\n' "$name" "$name" > "f-$name.toml"
  bundle "f-$name.toml" "bf-$name" 1
  "$FORGE" "bf-$name" --site-key "$R/keys" --sign "$T/pub.key" --sources '[]' >/dev/null
  for dest in "$@"; do
    "$FORGE" "bf-$name" --site-key "$R/keys" --sign "$T/pub.key" --path "$i=$dest" >/dev/null
    i=$((i + 1))
  done
  [ "$sources" = "[]" ] || "$FORGE" "bf-$name" --site-key "$R/keys" --sign "$T/pub.key" --sources "$sources" >/dev/null
}
image_files() {  # NAME LAYER_TEXT REF [BLOB NAME OF THE LAYER]: f-NAME/*.bin and the dests in dests-NAME
  python3 - "$@" <<'PY'
import hashlib, json, os, sys
name, layer_text, ref = sys.argv[1:4]
d = "f-" + name
os.makedirs(d, exist_ok=True)
h = lambda b: hashlib.sha256(b).hexdigest()
layer = layer_text.encode()
config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + h(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + h(layer), "size": len(layer)}]}).encode()
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:" + h(manifest), "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": ref}}]}).encode()
layer_name = sys.argv[4] if len(sys.argv) > 4 else h(layer)
files = [(index, "images/index.json"), (manifest, "images/blobs/sha256/" + h(manifest)),
         (config, "images/blobs/sha256/" + h(config)), (layer, "images/blobs/sha256/" + layer_name)]
for i, (data, dest) in enumerate(files):
    open(f"{d}/{i}.bin", "wb").write(data)
open("dests-" + name, "w").write("\n".join(dest for _, dest in files) + "\n")
print(h(layer))
PY
}
LAYER_A=$(image_files ia "layer A" reg.example/app:v1)
mapfile -t D < dests-ia; forged_files ia '[]' "${D[@]}"
image_files ib "layer B" reg.example/app:v1 >/dev/null
mapfile -t D < dests-ib; forged_files ib '[]' "${D[@]}"
image_files ic "layer C" reg.example/other:v1 "$LAYER_A" >/dev/null
mapfile -t D < dests-ic; forged_files ic '[]' "${D[@]}"
"$INSTALLER" install bf-ia -q >/dev/null || fail "install ia"
skopeo_free_digest() { python3 -c 'import json,sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == sys.argv[2]][0])' "$R/images/index.json" "$1"; }
IA_DIGEST=$(skopeo_free_digest reg.example/app:v1)
images_tree() { (cd "$R/images" && find . -type f -print0 | sort -z | xargs -0r sha256sum); }
images_tree > images.before
expect_fail 1 "ib cannot be activated.*$R/images/index.json \(image reg.example/app:v1\): ia/1.0.0 and ib/1.0.0 ship different bytes" \
  "$INSTALLER" install bf-ib
images_tree | diff -u images.before - >&2 || fail "ib changed ROOT/images"
"$INSTALLER" install bf-ic -q > ic.out 2>&1 || { cat ic.out; fail "install ic"; }
"$INSTALLER" targets > ic.out 2>&1 || { cat ic.out; fail "targets after ic"; }
grep -q "ic/1.0.0: images/blobs/sha256/$LAYER_A has signed SHA-256 [0-9a-f]*, not the hash its name says" ic.out || { cat ic.out; fail "no note on ic's misnamed blob"; }
images_tree | diff -u images.before - >&2 || fail "ic's misnamed blob changed ROOT/images"
[ "$(cat "$R/images/blobs/sha256/$LAYER_A")" = "layer A" ] || fail "ia's layer holds other bytes"
[ "$(skopeo_free_digest reg.example/app:v1)" = "$IA_DIGEST" ] || fail "reg.example/app:v1 moved"

deb_sources() {  # NAME SHA256
  printf '[{"kind":"deb","identity":{},"files":[{"path":"debs/tool_1.0_all.deb","sha256":"%s","extra":{"control":"Package: tool\\nVersion: 1.0\\nArchitecture: all\\nDescription: %s\\n","architecture":"all"}}]}]' "$2" "$1"
}
for n in da db; do
  mkdir -p "f-$n" && printf 'deb of %s' "$n" > "f-$n/0.bin"
  forged_files "$n" "$(deb_sources "$n" "$(sha256sum "f-$n/0.bin" | cut -d' ' -f1)")" debs/tool_1.0_all.deb
done
"$INSTALLER" install bf-da -q >/dev/null || fail "install da"
[ "$(cat "$R/apt/tool_1.0_all.deb")" = "deb of da" ] || fail "da's .deb is not in ROOT/apt"
cp "$R/apt/Packages" packages.before
expect_fail 1 "db cannot be activated.*$R/apt/tool_1.0_all.deb: da/1.0.0 and db/1.0.0 ship different bytes" "$INSTALLER" install bf-db
[ "$(cat "$R/apt/tool_1.0_all.deb")" = "deb of da" ] || fail "db's .deb replaced da's"
cmp "$R/apt/Packages" packages.before || fail "db changed Packages"

# ---- check re-hashes the targets
BLOBS="$R/hf/models--org--mini/blobs"
CONFIG=$(readlink -f "$R/hf/models--org--mini/snapshots/$C1/config.json")
cp "$CONFIG" config.copy && rm -f "$CONFIG" && { cat config.copy; echo ' '; } > "$CONFIG"   # replaced, not the installed copy
echo planted > "$BLOBS/$(printf 'e%.0s' {1..64})"
printf '%s' "$C2" > "$R/hf/models--org--mini/refs/main.tmp" && mv "$R/hf/models--org--mini/refs/main.tmp" "$R/hf/models--org--mini/refs/main"
"$INSTALLER" check first -q >/dev/null || fail "check first: the deployment's own files are intact"
rc=0; "$INSTALLER" check > check.out 2>check.err || rc=$?
[ "$rc" -eq 3 ] || { cat check.out check.err; fail "check exited $rc on a tampered ROOT/hf, expected 3"; }
grep -q "^MISMATCH $CONFIG: " check.out || { cat check.out; fail "check does not name the tampered blob"; }
grep -q "^MISMATCH $BLOBS/$(printf 'e%.0s' {1..64}): not created by Airlock" check.out || { cat check.out; fail "check does not name the planted blob"; }
grep -q "^MISMATCH $R/hf/models--org--mini/refs/main: holds '$C2' (should be $C1)" check.out || { cat check.out; fail "check does not name the moved ref"; }
# targets repairs what is Airlock's; the planted file is left and listed.
"$INSTALLER" targets > targets.out || fail "targets"
grep -qF "left alone (not Airlock's): $BLOBS/$(printf 'e%.0s' {1..64})" targets.out || { cat targets.out; fail "targets does not list the planted blob"; }
cmp "$CONFIG" config.copy || fail "targets did not relink the tampered blob"
[ "$(cat "$R/hf/models--org--mini/refs/main")" = "$C1" ] || fail "targets did not put refs/main back"
rm "$BLOBS/$(printf 'e%.0s' {1..64})"
"$INSTALLER" check -q >/dev/null || fail "check after the repair"
pass "conflicting HF repo and wheel refused naming both deployments, first's bytes unchanged; check names tampered/planted ROOT/hf entries"

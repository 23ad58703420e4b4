# The bundle of tests/e2e/sources_all.sh (a Hub model, an image, .debs
# and wheels) installs into the install targets, and each standard tool
# reads its target with no network:
#   ROOT/hf      the rules of huggingface_hub's cache: blobs named by sha256
#                (LFS) or git sha1, relative snapshot symlinks, refs/main
#                holding the commit with no newline, a lookup done the way
#                try_to_load_from_cache does it
#   ROOT/images  skopeo inspect/copy of the OCI layout (registry's digest),
#                and the docker-archive manifest.json read by skopeo
#   ROOT/apt     apt-get update + apt-get download with Dir:: options (the
#                host's apt is untouched), unsigned and then signed with a
#                site key in ROOT/keys/apt; a tampered Packages is refused
#   ROOT/wheels  pip download --no-index --find-links --require-hashes
# then publish reproduces the image digest in a site registry, and a version
# 2 (a new model commit) whose health check fails rolls itself back,
# refs/main included.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/hub_setup.sh"
source "$HERE/../support/oci_setup.sh"
source "$HERE/../support/apt_setup.sh"
source "$HERE/../support/wheels_setup.sh"
require_tools docker-registry umoci skopeo apt-get gpg
python3 -m pip --version >/dev/null 2>&1 || skip "pip is not installed (python3-pip)"

setup_site
make_hub_repo hub org/mini 2M 5
start_hub "$T/hub"
COMMIT=$(hub_commit org/mini)
start_registry "$T/reg"
REG_PID=${E2E_PIDS[-1]}
REG_V1="$REG/engine:v1"
build_image "$T/layout" v1 amd64 3
push "$T/layout:v1" "$REG/engine:v1"
DIGEST=$(registry_digest "$REG/engine:v1")
apt_fixture
wheels_fixture
static_index "$T/pypi"
serve_dir "$T/pypi" "$T/pypi.log"
INDEX="http://127.0.0.1:$PORT/simple/"

cat > m.toml <<TOML
[deployment]
name = "stack"
version = "1.0.0"

[model]
source = "hf://org/mini"
revision = "main"

[[image]]
ref = "$REG/engine:v1"

[[deb]]
repo = "$REPO_FLAT"
packages = ["app"]
signed-by = "key.gpg"

[[wheels]]
index = "$INDEX"
requirements = "requirements.txt"
TOML
bundle m.toml b1 1
# Version 2: a new commit of the model (README changed), and an [activate]
# whose health check never passes.
cp -r "$T/hub/org/mini" "$T/mini-v1"
printf 'a new revision\n' >> "$T/hub/org/mini/README.md"
COMMIT2=$(hub_commit org/mini)
[ "$COMMIT2" != "$COMMIT" ] || fail "the emulator kept the commit"
sed 's/^version = "1.0.0"/version = "2.0.0"/' m.toml > m2.toml
printf '\n[activate]\nrun = ["true"]\nhealth = "false"\ntimeout = "2s"\n' >> m2.toml
bundle m2.toml b2 2
# Every server goes away: what follows is the isolated side.
for p in "${E2E_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
E2E_PIDS=()
"$INSTALLER" install b1 -q >/dev/null
R="$AIRLOCK_ROOT"

# ---- ROOT/hf
python3 - "$R/hf" "$T/mini-v1" "$COMMIT" <<'PY'
import hashlib, json, os, sys
cache, src, commit = sys.argv[1:]
repo = os.path.join(cache, "models--org--mini")
assert sorted(os.listdir(repo)) == ["blobs", "refs", "snapshots"], os.listdir(repo)
ref = open(os.path.join(repo, "refs", "main"), "rb").read()
assert ref == commit.encode(), ref          # the commit, no newline
assert os.listdir(os.path.join(repo, "snapshots")) == [commit]
snap = os.path.join(repo, "snapshots", commit)
files = sorted(os.path.relpath(os.path.join(d, f), snap) for d, _, fs in os.walk(snap) for f in fs)
want = sorted(os.path.relpath(os.path.join(d, f), src) for d, _, fs in os.walk(src) for f in fs)
assert files == want, (files, want)
blobs = set()
for rel in files:
    p = os.path.join(snap, rel)
    assert os.path.islink(p), rel
    target = os.readlink(p)
    assert not os.path.isabs(target) and target.startswith("../"), target   # relative
    data = open(os.path.join(src, rel), "rb").read()
    assert open(p, "rb").read() == data, rel
    name = os.path.basename(target)
    assert os.path.normpath(os.path.join(os.path.dirname(p), target)) == os.path.join(repo, "blobs", name)
    if rel.endswith(".safetensors"):    # LFS: the sha256 of the content
        assert name == hashlib.sha256(data).hexdigest(), rel
    else:                               # git: the blob's sha1
        assert name == hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(), rel
    blobs.add(name)
assert set(os.listdir(os.path.join(repo, "blobs"))) == blobs
# huggingface_hub.try_to_load_from_cache(repo_id, filename), offline:
def cached(repo_id, filename, revision="main"):
    folder = os.path.join(cache, "models--" + repo_id.replace("/", "--"))
    rev = open(os.path.join(folder, "refs", revision)).read()
    path = os.path.join(folder, "snapshots", rev, filename)
    return path if os.path.isfile(path) else None
assert json.load(open(cached("org/mini", "config.json")))
print("ROOT/hf follows huggingface_hub's cache rules:", len(files), "files,", len(blobs), "blobs")
PY
# Blobs are the installed files themselves (hardlinks), not copies.
BLOB=$(readlink -f "$R/hf/models--org--mini/snapshots/$COMMIT/config.json")
[ "$(stat -c %i "$BLOB")" = "$(stat -c %i "$R/deployments/stack/1.0.0/model/config.json")" ] ||
  fail "the HF blob is not a hardlink of the installed file"

# ---- ROOT/images
GOT=$(skopeo inspect "oci:$R/images:$REG/engine:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
[ "$GOT" = "$DIGEST" ] || fail "skopeo reads $GOT from ROOT/images, the registry served $DIGEST"
skopeo copy -q "oci:$R/images:$REG/engine:v1" "oci:$T/copied:v1" || fail "skopeo copy from ROOT/images"
tar -C "$R/images" -cf images.tar .
skopeo inspect "docker-archive:$T/images.tar:$REG/engine:v1" > archive.json || fail "skopeo cannot read the docker-archive"
python3 - "$R/images" <<'PY' || fail "docker-archive manifest.json"
import json, sys
d = sys.argv[1]
arch = json.load(open(d + "/manifest.json"))
inspected = json.load(open("archive.json"))
assert len(arch) == 1 and arch[0]["RepoTags"][0].endswith("/engine:v1"), arch
assert len(arch[0]["Layers"]) == len(inspected["Layers"]) == 2, (arch, inspected["Layers"])
PY

# ---- ROOT/apt, unsigned: deb [trusted=yes] file:ROOT/apt ./
apt_try() {  # apt_try SOURCES_LINE: update + download app into $T/aptdl
  rm -rf "$T/apt" "$T/aptdl"
  mkdir -p "$T/apt/state/lists/partial" "$T/apt/cache/archives/partial" "$T/aptdl"
  : > "$T/apt/status"
  echo "$1" > "$T/apt/sources.list"
  local o=(-o "Dir::Etc::SourceList=$T/apt/sources.list" -o "Dir::Etc::SourceParts=$T/apt/none"
           -o "Dir::Etc::Preferences=$T/apt/none" -o "Dir::Etc::PreferencesParts=$T/apt/none"
           -o "Dir::State=$T/apt/state" -o "Dir::State::status=$T/apt/status" -o "Dir::Cache=$T/apt/cache"
           -o "Debug::NoLocking=1" -o "APT::Sandbox::User=$(id -un)" -o "Acquire::Languages=none")
  apt-get "${o[@]}" update >"$T/apt/update.log" 2>&1 || return 1
  grep -q "^[WE]:" "$T/apt/update.log" && return 1
  (cd "$T/aptdl" && apt-get "${o[@]}" download app libfoo nvidia-driver base >"$T/apt/download.log" 2>&1) || return 1
}
apt_try "deb [trusted=yes] file:$R/apt ./" || { cat "$T/apt/update.log" "$T/apt/download.log" 2>/dev/null; fail "apt-get on the unsigned ROOT/apt"; }
for deb in app_2.0_amd64.deb base_1.0_all.deb libfoo_1.5_amd64.deb nvidia-driver_550_amd64.deb; do
  cmp "$T/srv/flat/$deb" "$T/aptdl/$deb" || fail "apt-get download $deb differs from the repository's"
done
zcat "$R/apt/Packages.gz" | cmp - "$R/apt/Packages" || fail "Packages.gz is not Packages"

# signed: a site key in ROOT/keys/apt (a GnuPG home), apt-get with signed-by.
export GNUPGHOME="$R/keys/apt"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key "Airlock site apt <apt@site.invalid>" ed25519 sign never 2>/dev/null
gpg --export > "$T/site-apt.gpg"
unset GNUPGHOME
"$INSTALLER" targets > targets.out || fail "targets"
grep -q "apt .* 4 package(s), signed (InRelease)" targets.out || { cat targets.out; fail "targets does not report a signed repo"; }
[ -s "$R/apt/InRelease" ] && [ -s "$R/apt/Release.gpg" ] || fail "no InRelease / Release.gpg"
apt_try "deb [signed-by=$T/site-apt.gpg] file:$R/apt ./" || { cat "$T/apt/update.log"; fail "apt-get on the signed ROOT/apt"; }
cmp "$T/srv/flat/app_2.0_amd64.deb" "$T/aptdl/app_2.0_amd64.deb" || fail "signed: app differs"
# The wrong key is refused by apt (so the signature is really checked).
gpg --homedir "$T/gnupg-other" --export > "$T/other.gpg"
apt_try "deb [signed-by=$T/other.gpg] file:$R/apt ./" && fail "apt accepted ROOT/apt signed by the site key with another key"
grep -q "NO_PUBKEY\|not signed\|is not signed\|signatures couldn't be verified" "$T/apt/update.log" ||
  { cat "$T/apt/update.log"; fail "apt's refusal does not name the signature"; }

# A key home gpg cannot sign with: the repo is left unsigned (no stale
# InRelease), `targets` says why, and signed-by clients refuse it.
mv "$R/keys/apt" "$T/apt-key-home" && mkdir -m 700 "$R/keys/apt"
"$INSTALLER" targets > targets.out || fail "targets with an unusable key"
grep -q "note: ROOT/apt is unsigned: signing ROOT/apt/InRelease with the key in $R/keys/apt: gpg exit status" targets.out ||
  { cat targets.out; fail "no note on the failed signing"; }
[ ! -e "$R/apt/InRelease" ] && [ ! -e "$R/apt/Release.gpg" ] || fail "stale signatures left after a failed signing"
apt_try "deb [signed-by=$T/site-apt.gpg] file:$R/apt ./" && fail "apt accepted the unsigned ROOT/apt with signed-by"
apt_try "deb [trusted=yes] file:$R/apt ./" || { cat "$T/apt/update.log"; fail "the unsigned ROOT/apt after a failed signing"; }
"$INSTALLER" list >/dev/null || fail "a failed signing blocks other commands"

# ---- ROOT/wheels
python3 -m pip download -q --no-index --find-links "$R/wheels" -d "$T/pipdl" --require-hashes -r "$T/requirements.txt" \
  --only-binary=:all: --platform manylinux_2_17_x86_64 --python-version 3.11 --implementation cp \
  >pip.log 2>&1 || { cat pip.log; fail "pip download from ROOT/wheels"; }
for w in "$DEMO" "$OT_LINUX"; do
  cmp "$T/pypi/files/$w" "$T/pipdl/$w" || fail "pip download $w differs from the index's"
done

# ---- publish into the site's own registry: the same digest
start_registry "$T/site-reg"
SITE=$REG
"$INSTALLER" publish stack --registry "$SITE" > publish.out 2>publish.err || { cat publish.err; fail "publish"; }
[ "$(registry_digest "$SITE/engine:v1")" = "$DIGEST" ] || fail "the site registry serves another digest for engine:v1"
grep -q "$SITE/airlock/stack/model:1.0.0" publish.out || { cat publish.out; fail "publish did not push the model"; }

# ---- an unhealthy version 2 rolls itself back, refs/main included
expect_fail 1 "stack 2.0.0: health check 'false' did not pass within 2 s .*rolled back to stack 1.0.0" "$INSTALLER" install b2
[ "$(cat "$R/hf/models--org--mini/refs/main")" = "$COMMIT" ] || fail "refs/main was not moved back to 1.0.0's commit"
[ -d "$R/hf/models--org--mini/snapshots/$COMMIT2" ] || fail "2.0.0's snapshot is missing (it stays installed)"
GOT=$(skopeo inspect "oci:$R/images:$REG_V1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
[ "$GOT" = "$DIGEST" ] || fail "ROOT/images after the rollback"
# Rolling forward by hand with --no-run moves refs/main to the new commit.
"$INSTALLER" rollback stack --to 2.0.0 --no-run >/dev/null 2>&1 || fail "rollback --to 2.0.0 --no-run"
[ "$(cat "$R/hf/models--org--mini/refs/main")" = "$COMMIT2" ] || fail "refs/main after switching to 2.0.0"

"$INSTALLER" check -q >/dev/null || fail "check"
pass "HF cache rules, skopeo (OCI + docker-archive), apt-get (trusted=yes and signed), pip --no-index read the targets offline; publish keeps the digest; an unhealthy v2 rolled back"

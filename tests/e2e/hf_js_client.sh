# The Hub emulator answers what the official @huggingface/hub JS client asks
# (tests/support/js/, pinned in its package-lock and installed with npm ci):
# modelInfo at the default branch and at a tag pinned to an older commit,
# listFiles with expand, fileExists (true and false), pathsInfo,
# downloadFile, downloadFileToCacheDir and snapshotDownload give the source
# bytes. Then airlock installs the tag's old version (lock pins the tag's
# commit, not main's) and the client's scanCacheDir reads the installed
# ROOT/hf: the repo, the pinned commit, its refs and every top-level file
# (the JS scanCacheDir does not descend into a snapshot's folders).
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/hub_setup.sh"
require_tools node npm
JS="$HERE/../support/js"
if [ ! -d "$JS/node_modules/@huggingface/hub" ]; then
  (cd "$JS" && npm ci --prefer-offline --no-audit --no-fund >"$T/npm.log" 2>&1) || { cat "$T/npm.log"; fail "npm ci in $JS"; }
fi

# v1.0 is a tag on an older commit (hub/org/js-mini@v1.0/), main has new weights.
make_hub_repo hub org/js-mini 1M 5
cp -r hub/org/js-mini hub/org/js-mini@v1.0
make_model hub/org/js-mini 1M 6
printf '{"refs": ["main", "v1.0"]}\n' > hub/org/js-mini.json
start_hub "$T/hub"
MAIN=$(hub_commit org/js-mini main)
OLD=$(hub_commit org/js-mini v1.0)
[ "$MAIN" != "$OLD" ] || fail "the tag v1.0 does not point at another commit than main ($MAIN)"

node "$JS/hub_client.mjs" "$HF_ENDPOINT" org/js-mini v1.0 "$T/hub/org/js-mini@v1.0" "$T/js-cache" >js.json 2>js.err ||
  { cat js.err; tail -20 "$HUB_LOG"; fail "@huggingface/hub against the emulator"; }
python3 - js.json "$MAIN" "$OLD" "$T/hub/org/js-mini@v1.0" <<'PY' || fail "what @huggingface/hub got"
import json, os, sys
d, main, old, src = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
assert d["modelInfo"]["sha"] == main, d["modelInfo"]
assert d["modelInfoAtRevision"]["sha"] == old, d["modelInfoAtRevision"]
files = {f["path"]: f for f in d["listFiles"] if f["type"] == "file"}
want = sorted(os.path.relpath(os.path.join(r, f), src) for r, _, fs in os.walk(src) for f in fs)
assert sorted(files) == want, (sorted(files), want)
assert all(f["lastCommit"] == old for f in files.values()), "expand: lastCommit"
assert all(f["size"] == os.path.getsize(os.path.join(src, p)) for p, f in files.items())
assert d["fileExists"] == {"config": True, "missing": False}, d["fileExists"]
assert [p["path"] for p in d["pathsInfo"]] == ["config.json", "model.safetensors.index.json"], d["pathsInfo"]
assert d["downloadFile"]["same"] and d["downloadFileToCacheDir"]["same"]
assert f"/snapshots/{old}/" in d["downloadFileToCacheDir"]["path"], d["downloadFileToCacheDir"]
assert sorted(f["path"] for f in d["snapshotDownload"]["files"]) == want
assert all(f["same"] for f in d["snapshotDownload"]["files"]), d["snapshotDownload"]
(repo,) = d["scanCacheDir"]
assert repo["id"] == "org/js-mini" and [r["commit"] for r in repo["revisions"]] == [old], repo
PY

# What the clients rely on besides: /refs names each ref's own commit (main a
# branch, v1.0 a tag), model info without a revision and at HEAD is main's,
# and a 404 for a missing file still says which commit was looked in.
python3 - "$HF_ENDPOINT" "$MAIN" "$OLD" <<'PY' || fail "refs, model info, EntryNotFound"
import json, sys, urllib.error, urllib.request
hub, main, old = sys.argv[1:]
refs = json.load(urllib.request.urlopen(f"{hub}/api/models/org/js-mini/refs"))
assert refs["branches"] == [{"name": "main", "ref": "refs/heads/main", "targetCommit": main}], refs
assert refs["tags"] == [{"name": "v1.0", "ref": "refs/tags/v1.0", "targetCommit": old}], refs
assert json.load(urllib.request.urlopen(f"{hub}/api/models/org/js-mini"))["sha"] == main
assert json.load(urllib.request.urlopen(f"{hub}/api/models/org/js-mini/revision/HEAD"))["sha"] == main
assert json.load(urllib.request.urlopen(f"{hub}/api/models/org/js-mini/revision/{old}"))["sha"] == old
try:
    urllib.request.urlopen(urllib.request.Request(f"{hub}/org/js-mini/resolve/v1.0/nope.json", method="HEAD"))
    raise SystemExit("a missing file was found")
except urllib.error.HTTPError as e:
    assert e.code == 404 and e.headers["X-Error-Code"] == "EntryNotFound", e.headers
    assert e.headers["X-Repo-Commit"] == old, e.headers
PY

# airlock: lock the tag, install, and let the JS client scan ROOT/hf.
setup_site
hf_manifest m.toml jsmini org/js-mini 'revision = "v1.0"'
"$BUNDLER" lock m.toml -o m.lock.json >/dev/null 2>lock.err || { cat lock.err; fail "lock"; }
grep -q "pinned v1.0 to $OLD" lock.err || { cat lock.err; fail "lock did not pin the tag's commit $OLD"; }
bundle m.lock.json b1 1
"$INSTALLER" install b1 -q >/dev/null || fail "install"
node "$JS/scan_cache.mjs" "$AIRLOCK_ROOT/hf" >scan.json 2>scan.err || { cat scan.err; fail "scanCacheDir over ROOT/hf"; }
python3 - scan.json "$OLD" "$T/hub/org/js-mini@v1.0" "$AIRLOCK_ROOT/hf" <<'PY' || fail "scanCacheDir of the installed ROOT/hf"
import json, os, sys
(repo,), old, src, hf = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
assert repo["id"] == "org/js-mini" and repo["type"] == "model", repo
(rev,) = repo["revisions"]
assert rev["commit"] == old and rev["refs"] == ["main", "v1.0"], rev
snap = os.path.join(hf, "models--org--js-mini", "snapshots", old)
# This client's scanCacheDir reads a snapshot's top level only (it skips folders).
want = sorted(f for f in os.listdir(src) if os.path.isfile(os.path.join(src, f)))
got = sorted(os.path.relpath(f["path"], snap) for f in rev["files"])
assert got == want, (got, want)
for f in rev["files"]:
    p = os.path.relpath(f["path"], snap)
    assert f["size"] == os.path.getsize(os.path.join(src, p)), p
    assert open(f["path"], "rb").read() == open(os.path.join(src, p), "rb").read(), p
PY
pass "modelInfo, listFiles, fileExists, pathsInfo, downloads and snapshotDownload against the emulator; a tag on an older commit; scanCacheDir over the installed ROOT/hf"

# .debs from two signed apt repositories (a flat one with InRelease, a
# dists/ one with Release + Release.gpg): lock picks the newest app and its
# dependencies across both (alternatives, Pre-Depends, a virtual package),
# pins each .deb by the SHA-256 of the signed Packages file; create fetches
# them; install puts them, byte for byte, under current/debs/.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/apt_setup.sh"

apt_fixture
deb_manifest m.toml \
  "repo = \"$REPO_FLAT\"
packages = [\"app\"]
signed-by = \"key.gpg\"" \
  "repo = \"$REPO_DEBIAN\"
suite = \"stable\"
components = [\"main\"]
packages = [\"extra\"]
signed-by = \"key.gpg\""

"$BUNDLER" lock m.toml -o m.lock.json >/dev/null 2>lock.err || { cat lock.err; fail "lock failed"; }
if grep -q "no signed-by" lock.err; then fail "a signed repository was reported as unsigned"; fi

# app 2.0 (newest), libfoo 1.5 (newest satisfying >= 1.0, first alternative),
# base (Pre-Depends of libfoo), nvidia-driver (Provides: gpu-driver); extra's
# dependencies are already chosen from the flat repository.
want=$'app=2.0@0\nbase=1.0@0\nextra=1.0@1\nlibfoo=1.5@0\nnvidia-driver=550@0'
got=$(lock_packages m.lock.json)
[ "$got" = "$want" ] || fail "locked packages:"$'\n'"$got"$'\n'"expected:"$'\n'"$want"

python3 - "$REPO_FLAT" "$REPO_DEBIAN" "$T/srv" <<'PY'
import hashlib, json, os, sys
flat, debian, srv = sys.argv[1:]
lock = json.load(open("m.lock.json"))
debs = [s for s in lock["sources"] if s["kind"] == "deb"]
assert len(debs) == 2, lock
a, b = debs
assert a["identity"]["repo"] == flat and a["identity"]["suite"] == "" and a["identity"]["components"] == [], a["identity"]
assert a["identity"]["requested"] == ["app"] and a["identity"]["signed"] is True, a["identity"]
assert a["identity"]["architecture"] == "amd64", a["identity"]
assert b["identity"]["suite"] == "stable" and b["identity"]["components"] == ["main"], b["identity"]
assert b["identity"]["signed"] is True, b["identity"]
for s, base, root in ((a, flat, "flat"), (b, debian + "/", "debian")):
    by_name = {p["package"]: p for p in s["identity"]["packages"]}
    assert len(s["files"]) == len(by_name), s
    for f in s["files"]:
        name = os.path.basename(f["path"])
        assert f["path"] == "debs/" + name, f
        p = by_name[f["extra"]["package"]]
        rel = p["filename"][2:] if p["filename"].startswith("./") else p["filename"]
        assert f["origin"] == base + rel, (f["origin"], base, rel)
        data = open(os.path.join(srv, root, rel), "rb").read()
        assert f["size"] == len(data), f
        assert f["sha256"] == p["sha256"] == hashlib.sha256(data).hexdigest(), f
        assert f["extra"]["control"].startswith("Package: " + p["package"] + "\n"), f["extra"]
PY

# The metadata came the way apt takes it: InRelease for the flat repository,
# Release + Release.gpg for the other (it has no InRelease), Packages.xz.
for path in /flat/InRelease /flat/Packages.xz /debian/dists/stable/InRelease /debian/dists/stable/Release \
  /debian/dists/stable/Release.gpg /debian/dists/stable/main/binary-amd64/Packages.xz; do
  grep -q "\"GET $path HTTP" "$T/http.log" || { cat "$T/http.log"; fail "no request for $path"; }
done
if grep -q '"GET /flat/Release ' "$T/http.log"; then fail "fetched Release although InRelease was there"; fi

setup_site
"$BUNDLER" create m.lock.json -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q >/dev/null
"$INSTALLER" install b -q >/dev/null
CUR="$AIRLOCK_ROOT/deployments/cuda-mini/current/debs"
for f in app_2.0_amd64.deb base_1.0_all.deb libfoo_1.5_amd64.deb nvidia-driver_550_amd64.deb; do
  cmp "$T/srv/flat/$f" "$CUR/$f" || fail "$f differs from the repository's"
done
cmp "$T/srv/debian/pool/main/e/extra/extra_1.0_amd64.deb" "$CUR/extra_1.0_amd64.deb" || fail "extra differs"
[ "$(ls "$CUR" | wc -l)" -eq 5 ] || { ls "$CUR"; fail "expected exactly 5 .debs installed"; }
dpkg-deb --field "$CUR/app_2.0_amd64.deb" Version | grep -qx 2.0 || fail "installed app is not 2.0"

# create straight from the manifest gives the same set (resolved in memory).
"$BUNDLER" create m.toml -o b2 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q >/dev/null
ls b2/*.airlock >/dev/null || fail "create from the manifest wrote no bundle"
pass "lock, create and install of signed apt repositories (flat and dists/)"

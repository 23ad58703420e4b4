# Wheels pinned by hash in a pip-compile style requirements file (continued
# lines, comments, extras, markers, several hashes): lock takes exactly the
# files whose SHA-256 is pinned (both platform wheels of one release, not its
# sdist or other versions) from a static PEP 503 index, and the same from a
# PEP 691 index that negotiates JSON; create and install put them, byte for
# byte, under current/wheels/.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/wheels_setup.sh"

wheels_fixture
static_index "$T/pypi"
serve_dir "$T/pypi" "$T/http.log"
INDEX="http://127.0.0.1:$PORT/simple/"
wheels_manifest m.toml "$INDEX" requirements.txt
"$BUNDLER" lock m.toml -o m.lock.json >/dev/null 2>lock.err || { cat lock.err; fail "lock failed"; }

check_lock() {  # check_lock LOCK INDEX_URL
  python3 - "$1" "$2" "$T/pypi/files" "$DEMO" "$OT_LINUX" "$OT_MAC" <<'PY'
import hashlib, json, os, sys
lock_path, index, files_dir, demo, linux, mac = sys.argv[1:]
lock = json.load(open(lock_path))
srcs = [s for s in lock["sources"] if s["kind"] == "wheels"]
assert len(srcs) == 1, lock
s = srcs[0]
ident = s["identity"]
assert ident["index"] == index, ident
reqs = {r["name"]: r for r in ident["requirements"]}
assert set(reqs) == {"demo-pkg", "other.thing"}, ident
assert reqs["demo-pkg"]["version"] == "1.0.0" and len(reqs["demo-pkg"]["hashes"]) == 1, reqs
assert reqs["other.thing"]["version"] == "2.1" and len(reqs["other.thing"]["hashes"]) == 3, reqs
assert all(h.startswith("sha256:") for r in reqs.values() for h in r["hashes"]), reqs
got = {f["path"]: f for f in s["files"]}
assert set(got) == {"wheels/" + demo, "wheels/" + linux, "wheels/" + mac}, sorted(got)
for name in (demo, linux, mac):
    f = got["wheels/" + name]
    data = open(os.path.join(files_dir, name), "rb").read()
    assert f["sha256"] == hashlib.sha256(data).hexdigest(), f
    assert f["size"] == len(data), f
    assert f["origin"].split("?")[0].endswith("/files/" + name) and "#" not in f["origin"], f
PY
}
check_lock m.lock.json "$INDEX"
# The &amp; in the first link was unescaped.
grep -q "files/$DEMO?from=airlock&test=1\"" m.lock.json || fail "the href's &amp; was not unescaped"
# PEP 503 gives no sizes: they came from HEAD requests.
grep -q "\"HEAD /files/$DEMO" "$T/http.log" || fail "no HEAD for the size of $DEMO"

setup_site
"$BUNDLER" create m.lock.json -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q >/dev/null
"$INSTALLER" install b -q >/dev/null
CUR="$AIRLOCK_ROOT/deployments/py-mini/current/wheels"
for f in "$DEMO" "$OT_LINUX" "$OT_MAC"; do
  cmp "$T/pypi/files/$f" "$CUR/$f" || fail "$f differs from the index's"
done
[ "$(ls "$CUR" | wc -l)" -eq 3 ] || { ls "$CUR"; fail "expected exactly 3 wheels installed"; }
python3 -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; z.read('demo_pkg/__init__.py')" \
  "$CUR/$DEMO" || fail "the installed wheel is not a valid zip"

# PEP 691: the client asks for JSON first; the index answers JSON (with sizes).
start_negotiating_index "$T/pypi"
INDEX2="http://127.0.0.1:$INDEX_PORT/simple/"
wheels_manifest m2.toml "$INDEX2" requirements.txt
"$BUNDLER" lock m2.toml -o m2.lock.json >/dev/null 2>lock.err || { cat lock.err; fail "PEP 691 lock failed"; }
check_lock m2.lock.json "$INDEX2"
grep -q "^GET /simple/other-thing/ accept=application/vnd.pypi.simple.v1+json, text/html;q=0.01 -> application/vnd.pypi.simple.v1+json 200" \
  "$INDEX_LOG" || { cat "$INDEX_LOG"; fail "the project page was not negotiated as PEP 691 JSON"; }
if grep -q '^HEAD ' "$INDEX_LOG"; then fail "HEAD requests although PEP 691 gave sizes"; fi

# PEP 691 without sizes: sizes come from HEAD.
kill "${E2E_PIDS[-1]}"
start_negotiating_index "$T/pypi" --no-size
INDEX3="http://127.0.0.1:$INDEX_PORT/simple/"
wheels_manifest m3.toml "$INDEX3" requirements.txt
"$BUNDLER" lock m3.toml -o m3.lock.json >/dev/null 2>lock.err || { cat lock.err; fail "PEP 691 lock (no size) failed"; }
check_lock m3.lock.json "$INDEX3"
grep -q "^HEAD /files/$DEMO" "$INDEX_LOG" || { cat "$INDEX_LOG"; fail "no HEAD for a file without size"; }
pass "wheels pinned by hash from PEP 503 and PEP 691 indexes, locked, bundled and installed byte for byte"

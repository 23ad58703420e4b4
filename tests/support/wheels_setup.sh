# Sourced by tests/e2e/wheels_*.sh after common.sh: small real wheels (zip
# files with a package and its .dist-info, PEP 427) and sdists, a static
# PEP 503 index served by python3 -m http.server, and a PEP 691 index that
# negotiates JSON or HTML on Accept (tests/support/simple_index_server.py).
SUPPORT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$SUPPORT_DIR/serve_dir.sh"
INDEX_SERVER="$SUPPORT_DIR/simple_index_server.py"
export AIRLOCK_CACHE="$T/cache"
export AIRLOCK_TEST_BACKOFF_MS=10

# make_wheel DIR DIST VERSION [TAG] [SALT]: DIR/{dist}-{version}-{tag}.whl.
make_wheel() {
  python3 - "$@" <<'PY'
import base64, hashlib, os, re, sys, zipfile
out, dist, version = sys.argv[1:4]
tag = sys.argv[4] if len(sys.argv) > 4 else "py3-none-any"
salt = sys.argv[5] if len(sys.argv) > 5 else ""
esc = re.sub(r"[-_.]+", "_", dist)
pkg = esc.lower()
info = f"{esc}-{version}.dist-info"
files = {
    f"{pkg}/__init__.py": f'__version__ = "{version}"\n# {salt}\n',
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
    f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: airlock-tests\nRoot-Is-Purelib: true\nTag: {tag}\n",
}
record = []
for name, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    record.append(f"{name},sha256={digest},{len(text.encode())}")
record.append(f"{info}/RECORD,,")
files[f"{info}/RECORD"] = "\n".join(record) + "\n"
os.makedirs(out, exist_ok=True)
path = os.path.join(out, f"{esc}-{version}-{tag}.whl")
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    for name, text in files.items():
        zi = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
        zi.external_attr = 0o644 << 16
        z.writestr(zi, text)
PY
}

# make_sdist DIR NAME VERSION: DIR/{name}-{version}.tar.gz.
make_sdist() {
  local dir=$1 name=$2 version=$3
  mkdir -p "$T/sdist/$name-$version" "$dir"
  printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$name" "$version" > "$T/sdist/$name-$version/PKG-INFO"
  tar -C "$T/sdist" --mtime=2024-01-01 --owner=0 --group=0 -czf "$dir/$name-$version.tar.gz" "$name-$version"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# static_index ROOT: PEP 503 pages ROOT/simple/<project>/index.html for the
# files in ROOT/files/, with relative hrefs carrying #sha256=; the last file
# of each project is linked with a query string written with &amp;.
static_index() {
  python3 - "$1" <<'PY'
import hashlib, html, os, re, sys
root = sys.argv[1]
def normalize(n): return re.sub(r"[-_.]+", "-", n).lower()
def project(f):
    if f.endswith(".whl"): return normalize(f.split("-")[0])
    return normalize(f[:-len(".tar.gz")].rsplit("-", 1)[0])
projects = {}
for f in sorted(os.listdir(os.path.join(root, "files"))):
    projects.setdefault(project(f), []).append(f)
os.makedirs(os.path.join(root, "simple"), exist_ok=True)
with open(os.path.join(root, "simple", "index.html"), "w") as idx:
    idx.write("<!DOCTYPE html><html><body>\n")
    for p, files in projects.items():
        idx.write(f'<a href="{p}/">{p}</a>\n')
        os.makedirs(os.path.join(root, "simple", p), exist_ok=True)
        with open(os.path.join(root, "simple", p, "index.html"), "w") as page:
            page.write(f"<!DOCTYPE html>\n<html><head><title>Links for {p}</title></head><body>\n<h1>Links for {p}</h1>\n")
            for i, f in enumerate(files):
                sha = hashlib.sha256(open(os.path.join(root, "files", f), "rb").read()).hexdigest()
                query = "?from=airlock&amp;test=1" if i == len(files) - 1 else ""
                page.write(f'<a href="../../files/{html.escape(f)}{query}#sha256={sha}" '
                           f'data-requires-python="&gt;=3.8">{html.escape(f)}</a><br/>\n')
            page.write("</body></html>\n")
    idx.write("</body></html>\n")
PY
}

# start_negotiating_index ROOT [--no-size]: simple_index_server.py for ROOT;
# sets INDEX_PORT and INDEX_LOG.
start_negotiating_index() {
  local root=$1; shift
  INDEX_LOG="$T/index.log"
  : > "$INDEX_LOG"
  rm -f "$T/index.port"
  start_bg python3 "$INDEX_SERVER" --root "$root" --port-file "$T/index.port" --log "$INDEX_LOG" "$@"
  local i
  for i in $(seq 100); do
    [ -s "$T/index.port" ] && break
    sleep 0.1
  done
  [ -s "$T/index.port" ] || fail "the index server did not start"
  INDEX_PORT=$(cat "$T/index.port")
}

# wheels_manifest FILE INDEX_URL REQUIREMENTS: a manifest "py-mini 1.0.0".
wheels_manifest() {
  printf '[deployment]\nname = "py-mini"\nversion = "1.0.0"\n\n[[wheels]]\nindex = "%s"\nrequirements = "%s"\n' \
    "$2" "$3" > "$1"
}

# wheels_fixture: ROOT=$T/pypi/files/ with
#   demo_pkg-1.0.0-py3-none-any.whl, demo_pkg-0.9.0-py3-none-any.whl
#   Other_Thing 2.1: a manylinux and a macOS wheel, and an sdist; 2.0: a wheel
# and requirements.txt pinning demo-pkg 1.0.0 and both Other_Thing 2.1 wheels.
wheels_fixture() {
  local f="$T/pypi/files"
  make_wheel "$f" demo-pkg 1.0.0
  make_wheel "$f" demo-pkg 0.9.0
  make_wheel "$f" Other_Thing 2.1 cp311-cp311-manylinux_2_17_x86_64
  make_wheel "$f" Other_Thing 2.1 cp311-cp311-macosx_11_0_arm64
  make_wheel "$f" Other_Thing 2.0 py3-none-any
  make_sdist "$f" other_thing 2.1
  DEMO="demo_pkg-1.0.0-py3-none-any.whl"
  OT_LINUX="Other_Thing-2.1-cp311-cp311-manylinux_2_17_x86_64.whl"
  OT_MAC="Other_Thing-2.1-cp311-cp311-macosx_11_0_arm64.whl"
  cat > "$T/requirements.txt" <<EOF
# pinned with: pip-compile --generate-hashes
demo-pkg==1.0.0 \\
    --hash=sha256:$(sha256_of "$f/$DEMO")
    # via -r requirements.in
other.thing[fast] == 2.1 ; python_version >= "3.8" \\
    --hash=sha256:$(sha256_of "$f/$OT_LINUX") \\
    --hash=sha256:$(sha256_of "$f/$OT_MAC") \\
    --hash=sha256:$(printf 'not on the index' | sha256sum | cut -d' ' -f1)
EOF
}

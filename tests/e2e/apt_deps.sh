# How [[deb]] packages are chosen: NAME=VERSION pins that version; a
# dependency alternative "libbar (>= 3) | libalt" falls through to libalt when
# no libbar is new enough; a virtual package comes from its provider; what the
# target already has (--target-status, its dpkg status file) is left out,
# unless it is too old; a repository without signed-by is said to be trusted
# unsigned.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/apt_setup.sh"

apt_fixture
flat() { deb_manifest m.toml "repo = \"$REPO_FLAT\"
packages = [$1]
signed-by = \"key.gpg\""; }

expect_packages() {
  local want=$1 got
  got=$(lock_packages m.lock.json)
  [ "$got" = "$want" ] || fail "$2: locked packages:"$'\n'"$got"$'\n'"expected:"$'\n'"$want"
}

# An exact version, and an alternative whose first choice is too old (libbar 2.0 < 3).
flat '"app=1.0", "tool"'
"$BUNDLER" lock m.toml -o m.lock.json >/dev/null 2>lock.err || { cat lock.err; fail "lock failed"; }
expect_packages $'app=1.0@0\nbase=1.0@0\nlibalt=1.0@0\nlibfoo=1.5@0\ntool=1.0@0' "app=1.0 and tool"

# The target has base, an old libfoo (0.5: too old for >= 1.0, so libfoo
# ships) and a removed libalt (config-files only: not installed).
cat > status <<'EOF'
Package: base
Status: install ok installed
Version: 1.0
Architecture: all

Package: libfoo
Status: install ok installed
Version: 0.5
Architecture: amd64

Package: libalt
Status: deinstall ok config-files
Version: 1.0
Architecture: amd64
EOF
"$BUNDLER" lock m.toml -o m.lock.json --target-status status >/dev/null 2>lock.err || { cat lock.err; fail "lock failed"; }
expect_packages $'app=1.0@0\nlibalt=1.0@0\nlibfoo=1.5@0\ntool=1.0@0' "with --target-status"

# Newest app (2.0): libfoo (>= 1.0) | libalt, gpu-driver. The target has a
# new enough libfoo and another provider of gpu-driver: only app ships.
cat > status2 <<'EOF'
Package: libfoo
Status: install ok installed
Version: 1.2
Architecture: amd64

Package: vendor-driver
Status: install ok installed
Version: 1
Architecture: amd64
Provides: gpu-driver
EOF
flat '"app"'
"$BUNDLER" lock m.toml -o m.lock.json --target-status status2 >/dev/null 2>lock.err || { cat lock.err; fail "lock failed"; }
expect_packages 'app=2.0@0' "app with libfoo and a gpu-driver on the target"
# Without it: the newest libfoo and the package that provides gpu-driver.
"$BUNDLER" lock m.toml -o m.lock.json >/dev/null 2>lock.err || { cat lock.err; fail "lock failed"; }
expect_packages $'app=2.0@0\nbase=1.0@0\nlibfoo=1.5@0\nnvidia-driver=550@0' "app alone"

# Release lists Packages.xz but the mirror lacks it: Packages.gz, as apt falls back.
cp -a "$T/srv/flat" "$T/srv/flat-gz"
rm "$T/srv/flat-gz/Packages.xz"
deb_manifest m.toml "repo = \"http://127.0.0.1:$PORT/flat-gz/\"
packages = [\"libalt\"]
signed-by = \"key.gpg\""
"$BUNDLER" lock m.toml -o m.lock.json >/dev/null 2>lock.err || { cat lock.err; fail "lock (Packages.gz) failed"; }
expect_packages 'libalt=1.0@0' "from Packages.gz"
grep -q '"GET /flat-gz/Packages.gz HTTP' "$T/http.log" || fail "did not fall back to Packages.gz"

# No signed-by: accepted over loopback http, said to be trusted unsigned, and
# the lock says so.
deb_manifest m.toml "repo = \"$REPO_FLAT\"
packages = [\"libalt\"]"
"$BUNDLER" lock m.toml -o m.lock.json >/dev/null 2>lock.err || { cat lock.err; fail "lock failed"; }
grep -q "apt repo $REPO_FLAT: no signed-by: its Release is trusted unsigned" lock.err || { cat lock.err; fail "no unsigned note"; }
python3 -c 'import json,sys; s=[s for s in json.load(open("m.lock.json"))["sources"] if s["kind"]=="deb"][0]; sys.exit(s["identity"]["signed"] is not False)' ||
  fail "the lock does not say the repository was unsigned"
pass "versions, alternatives, Provides and --target-status"

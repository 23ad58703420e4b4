# [[deb]] errors at lock time, each naming the repository and the package or
# file, with a non-zero exit and no lock written: a missing package, a
# missing version, an unsatisfiable dependency (with its chain); with
# signed-by: an unsigned Release, a tampered InRelease, a tampered Release
# (detached signature), a key that is not the keyring's; a Packages file that
# does not match the signed Release; an expired Release.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/apt_setup.sh"

apt_fixture
SRV="$T/srv"

# lock_fails CODE PATTERN [[deb]]-BODY...: lock exits CODE, stderr matches, no lock.
lock_fails() {
  local code=$1 pattern=$2; shift 2
  deb_manifest m.toml "$@"
  rm -f out.lock.json
  expect_fail "$code" "$pattern" "$BUNDLER" lock m.toml -o out.lock.json
  [ ! -e out.lock.json ] || fail "a lock was written despite: $pattern"
}
signed() { printf 'repo = "%s"\npackages = [%s]\nsigned-by = "%s"' "$1" "$2" "${3:-key.gpg}"; }

lock_fails 1 "apt repo $REPO_FLAT: package 'nosuch' is not in this repository" "$(signed "$REPO_FLAT" '"nosuch"')"
lock_fails 1 "apt repo $REPO_FLAT: package 'app' has no version 3.0 \(available: (2.0, 1.0|1.0, 2.0)\)" \
  "$(signed "$REPO_FLAT" '"app=3.0"')"
lock_fails 1 "broken → mid → libmissing \(>= 2\): not in any \[\[deb\]\] repository" "$(signed "$REPO_FLAT" '"broken"')"
# A package from the suite's repository, asked of the wrong suite.
lock_fails 1 "apt repo $REPO_DEBIAN/ stable main: package 'app' is not in this repository" \
  "$(signed "$REPO_DEBIAN" '"app"')
suite = \"stable\""
lock_fails 1 "no InRelease or Release file at $REPO_DEBIAN/dists/nosuite/ .*check 'repo' and 'suite'" "$(signed "$REPO_DEBIAN" '"extra"')
suite = \"nosuite\""

# Unsigned, with signed-by: refused (exit 3, a verification failure).
cp -a "$SRV/flat" "$SRV/unsigned"
rm "$SRV/unsigned/InRelease" "$SRV/unsigned/Release.gpg"
lock_fails 3 "apt repo http://127.0.0.1:$PORT/unsigned/: .*Release is not signed .*signed-by is set" \
  "$(signed "http://127.0.0.1:$PORT/unsigned/" '"app"')"

# A tampered InRelease: one SHA256 line changed inside the signed text.
cp -a "$SRV/flat" "$SRV/tampered"
python3 - "$SRV/tampered/InRelease" <<'PY'
import re, sys
p = sys.argv[1]
t = open(p).read()
t2 = re.sub(r"^( [0-9a-f])", lambda m: " " + ("0" if m.group(1)[1] != "0" else "1"), t, count=1, flags=re.M)
assert t2 != t
open(p, "w").write(t2)
PY
lock_fails 3 "apt repo http://127.0.0.1:$PORT/tampered/: .*/tampered/InRelease: BAD signature" \
  "$(signed "http://127.0.0.1:$PORT/tampered/" '"app"')"

# Text added before the clearsigned block (how apt's InRelease parsing was attacked).
cp -a "$SRV/flat" "$SRV/prefixed"
{ printf 'Origin: evil\n\n'; cat "$SRV/flat/InRelease"; } > "$SRV/prefixed/InRelease"
lock_fails 3 "prefixed/InRelease: not a valid clearsigned file" "$(signed "http://127.0.0.1:$PORT/prefixed/" '"app"')"

# A tampered Release under a detached signature (the dists/ repository).
cp -a "$SRV/debian" "$SRV/debian-tampered"
printf 'Description: added later\n' >> "$SRV/debian-tampered/dists/stable/Release"
lock_fails 3 "dists/stable/Release: BAD signature" "$(signed "http://127.0.0.1:$PORT/debian-tampered" '"extra"')
suite = \"stable\""

# Signed, but by a key that signed-by does not hold.
lock_fails 3 "apt repo $REPO_FLAT: .*InRelease: signed by key [0-9A-F]+, which is not in the signed-by keyring .*other.gpg" \
  "$(signed "$REPO_FLAT" '"app"' other.gpg)"

# Packages.xz replaced after Release was signed: its hash is not Release's.
cp -a "$SRV/flat" "$SRV/stale"
printf 'Package: app\nVersion: 9.9\nArchitecture: amd64\nFilename: ./evil.deb\nSize: 1\nSHA256: %064d\n' 0 |
  xz > "$SRV/stale/Packages.xz"
lock_fails 3 "apt repo http://127.0.0.1:$PORT/stale/: .*/stale/Packages.xz: (size|SHA-256)" \
  "$(signed "http://127.0.0.1:$PORT/stale/" '"app"')"

# An expired Release (Valid-Until in the past), validly signed.
cp -a "$SRV/flat" "$SRV/expired"
rm "$SRV/expired/InRelease" "$SRV/expired/Release.gpg"
sed -i '1a Valid-Until: Sat, 01 Jan 2000 00:00:00 UTC' "$SRV/expired/Release"
sign_release "$SRV/expired" key inrelease
GNUPGHOME="$T/gnupg-key" gpgconf --kill gpg-agent 2>/dev/null || true
lock_fails 3 "expired/InRelease: the Release file expired on Sat, 01 Jan 2000" \
  "$(signed "http://127.0.0.1:$PORT/expired/" '"app"')"

# A validly signed index whose Filename climbs out of the repository.
cp -a "$SRV/flat" "$SRV/hostile"
rm "$SRV/hostile/InRelease" "$SRV/hostile/Release.gpg" "$SRV/hostile/Packages.gz" "$SRV/hostile/Packages.xz"
sed -i 's|^Filename: ./libalt_1.0_amd64.deb|Filename: ../flat/libalt_1.0_amd64.deb|' "$SRV/hostile/Packages"
grep -q '^Filename: \.\./flat/' "$SRV/hostile/Packages" || fail "the hostile Filename was not written"
(cd "$SRV/hostile" && apt-ftparchive release . > "$T/Release.tmp") && mv "$T/Release.tmp" "$SRV/hostile/Release"
sign_release "$SRV/hostile" key inrelease
GNUPGHOME="$T/gnupg-key" gpgconf --kill gpg-agent 2>/dev/null || true
lock_fails 1 "apt repo http://127.0.0.1:$PORT/hostile/: package libalt 1.0: unsafe or missing Filename '\.\./flat/libalt_1\.0_amd64\.deb'" \
  "$(signed "http://127.0.0.1:$PORT/hostile/" '"libalt"')"

# signed-by naming a keyring that does not exist: a manifest error.
lock_fails 1 "signed-by 'nokey.gpg': no such keyring" "$(signed "$REPO_FLAT" '"app"' nokey.gpg)"
pass "missing packages and versions, unsatisfiable dependencies, bad or missing signatures, stale and expired metadata"

# A .deb whose bytes are not what the signed Packages file says (the file on
# the mirror was replaced after indexing): create fails with a verification
# error (exit 3) naming the package file, writes no bundle and caches nothing
# bad; with the right file back, the same lock bundles.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/apt_setup.sh"

apt_fixture
deb_manifest m.toml "repo = \"$REPO_FLAT\"
packages = [\"app\"]
signed-by = \"key.gpg\""
"$BUNDLER" lock m.toml -o m.lock.json >/dev/null 2>lock.err || { cat lock.err; fail "lock failed"; }
setup_site

DEB="$T/srv/flat/app_2.0_amd64.deb"
cp "$DEB" good.deb
# Same size, one byte different: only the SHA-256 can tell.
flip_byte "$DEB" $(( $(stat -c %s "$DEB") - 100 ))
cmp -s good.deb "$DEB" && fail "the replacement .deb is identical"

for input in m.lock.json m.toml; do
  rm -rf b
  expect_fail 3 "app_2\.0_amd64\.deb.*(SHA-256|sha256)|(SHA-256|sha256).*app_2\.0_amd64\.deb" \
    "$BUNDLER" create "$input" -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q
  if ls b/*.airlock >/dev/null 2>&1; then fail "create from $input wrote a bundle index"; fi
  if ls b/*.tar >/dev/null 2>&1; then fail "create from $input wrote volumes"; fi
done
# Nothing with the tampered bytes' hash entered the cache.
BAD=$(sha256sum "$DEB" | cut -d' ' -f1)
if find "$AIRLOCK_CACHE" -name "$BAD*" | grep -q .; then fail "the tampered .deb is in the cache"; fi

# The genuine file back: the same lock bundles and installs it.
cp good.deb "$DEB"
rm -rf b
"$BUNDLER" create m.lock.json -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q >/dev/null
"$INSTALLER" install b -q >/dev/null
cmp good.deb "$AIRLOCK_ROOT/deployments/cuda-mini/current/debs/app_2.0_amd64.deb" || fail "installed app differs"
pass "a .deb that does not match Packages' SHA-256 stops create with no bundle"

# A mirror that serves other bytes than the pinned hash (its page still
# advertises the pinned SHA-256): create fails with a verification error
# (exit 3) naming the wheel, writes no bundle, and the bad bytes do not enter
# the cache; once the mirror serves the right file, the same lock bundles.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/wheels_setup.sh"

wheels_fixture
static_index "$T/pypi"
serve_dir "$T/pypi" "$T/http.log"
wheels_manifest m.toml "http://127.0.0.1:$PORT/simple/" requirements.txt
"$BUNDLER" lock m.toml -o m.lock.json >/dev/null 2>lock.err || { cat lock.err; fail "lock failed"; }
setup_site

cp "$T/pypi/files/$DEMO" good.whl
# Same size, one byte different: only the SHA-256 can tell.
flip_byte "$T/pypi/files/$DEMO" 100
cmp -s good.whl "$T/pypi/files/$DEMO" && fail "the replacement wheel is identical"

for input in m.lock.json m.toml; do
  rm -rf b
  expect_fail 3 "demo_pkg-1\.0\.0-py3-none-any\.whl" \
    "$BUNDLER" create "$input" -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q
  grep -Eqi "sha-?256" "$T/last.err" || { cat "$T/last.err"; fail "the error does not say what mismatched"; }
  if ls b/*.airlock >/dev/null 2>&1; then fail "create from $input wrote a bundle index"; fi
done
BAD=$(sha256_of "$T/pypi/files/$DEMO")
if find "$AIRLOCK_CACHE" -name "$BAD*" | grep -q .; then fail "the mirror's bytes are in the cache"; fi

cp good.whl "$T/pypi/files/$DEMO"
rm -rf b
"$BUNDLER" create m.lock.json -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q >/dev/null
"$INSTALLER" install b -q >/dev/null
cmp good.whl "$AIRLOCK_ROOT/deployments/py-mini/current/wheels/$DEMO" || fail "installed wheel differs"
pass "a mirror serving other bytes than the pinned hash stops create with no bundle"

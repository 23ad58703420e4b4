# A lock pins local files too: editing one after `lock` makes `create` from
# that lock fail, naming the file, and write no bundle (same size: caught by
# the SHA-256 after bundling; other size: caught before), not even an empty
# -o directory. A lock that is not
# a lock, and `lock` given a lock, are clear errors.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"

"$BUNDLER" keygen --out "$T/pub" >/dev/null
mkdir serve
printf 'port=8000\n' > serve/app.conf
printf '[deployment]\nname = "cfg"\nversion = "1.0.0"\n\n[[files]]\nsource = "serve"\ndest = "serve"\n' > m.toml
"$BUNDLER" lock m.toml -o m.lock.json >/dev/null
grep -q '"origin": "serve/app.conf"' m.lock.json || fail "local origin not relative to the lock"

printf 'port=9000\n' > serve/app.conf  # same size, other bytes
expect_fail 3 "serve/app.conf.*changed since the lock" "$BUNDLER" create m.lock.json -o b --sign "$T/pub.key" --no-encrypt -q
[ ! -e b ] || fail "a failed create left -o behind: $(ls -A b | head -3)"

printf 'port=80000\n' > serve/app.conf  # another size
expect_fail 1 "serve/app.conf.*changed since the lock" "$BUNDLER" create m.lock.json -o b --sign "$T/pub.key" --no-encrypt -q
[ ! -e b ] || fail "a failed create left -o behind: $(ls -A b | head -3)"

printf '{"not": "a lock"}\n' > bad.json
expect_fail 1 "bad.json: not a valid lock" "$BUNDLER" create bad.json -o b --sign "$T/pub.key" --no-encrypt -q
expect_fail 2 "already a lock" "$BUNDLER" lock m.lock.json -o again.json
[ ! -e again.json ] || fail "lock wrote a file for a lock input"
pass "edited local files, a non-lock and a lock given to 'lock' are refused; nothing written"

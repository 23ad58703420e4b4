# The bundler's inputs as a new user gives them: a manifest on a pipe
# (`lock /dev/stdin`, `lock <(...)`, `create /dev/stdin`) is read once, its
# relative sources found from the working directory; `keygen --out
# keys/publisher` makes the missing folder (owner-only); a manifest that is
# neither TOML nor a lock is named in the error.
source "$(dirname "$0")/common.sh"

expect_fail 1 "nope.toml" "$BUNDLER" lock nope.toml -o x.lock.json
[ ! -e x.lock.json ] || fail "lock of a missing manifest wrote a lock"

# keygen into a folder that does not exist yet (the README's first step).
"$BUNDLER" keygen --out keys/publisher >/dev/null
[ -f keys/publisher.key ] && [ -f keys/publisher.pub ] || fail "keygen --out keys/publisher made no key"
[ "$(stat -c %a keys)" = 700 ] || fail "keys/ made by keygen is $(stat -c %a keys), not 700"
[ "$(stat -c %a keys/publisher.key)" = 600 ] || fail "publisher.key is not 600"

mkdir serve
printf 'port=8000\n' > serve/app.conf
manifest() { printf '[deployment]\nname = "cfg"\nversion = "%s"\n\n[[files]]\nsource = "serve"\ndest = "serve"\n' "$1"; }
manifest 1.0.0 > m.toml
"$BUNDLER" lock m.toml -o want.lock.json >/dev/null

manifest 1.0.0 | "$BUNDLER" lock /dev/stdin -o stdin.lock.json >/dev/null 2>lock.err \
  || { cat lock.err >&2; fail "lock /dev/stdin failed"; }
"$BUNDLER" lock <(manifest 1.0.0) -o procsub.lock.json >/dev/null 2>lock.err \
  || { cat lock.err >&2; fail "lock <(...) failed"; }
for l in stdin procsub; do
  python3 - want.lock.json "$l.lock.json" <<'PY' || fail "$l: the lock differs from the one of m.toml"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
strip = lambda j: [[(f["path"], f["sha256"], f.get("origin")) for f in s["files"]] for s in j["sources"]]
assert strip(a) == strip(b), (strip(a), strip(b))
PY
done

# A lock on a pipe is a lock (and refused by 'lock'), a TOML manifest on a pipe bundles.
cat want.lock.json | expect_fail 2 "already a lock" "$BUNDLER" lock /dev/stdin -o again.json
[ ! -e again.json ] || fail "lock wrote a file for a lock input"
manifest 1.0.0 | "$BUNDLER" create /dev/stdin -o b1 --sign keys/publisher.key --no-encrypt -q >/dev/null 2>create.err \
  || { cat create.err >&2; fail "create /dev/stdin failed"; }
"$BUNDLER" create <(cat want.lock.json) -o b2 --sign keys/publisher.key --no-encrypt -q >/dev/null 2>create.err \
  || { cat create.err >&2; fail "create <(lock) failed"; }
[ -f b1/cfg-1.0.0.airlock ] && [ -f b2/cfg-1.0.0.airlock ] || fail "no bundle from a piped manifest or lock"
"$BUNDLER" verify b1 --trust keys/publisher.pub >/dev/null || fail "bundle of a piped manifest does not verify"

# A manifest on a pipe with a bad line is named as the path given.
printf '[deployment\nname=1\n' | expect_fail 1 "/dev/stdin.*line 1" "$BUNDLER" lock /dev/stdin -o bad.lock.json
[ ! -e bad.lock.json ] || fail "a bad manifest wrote a lock"
pass "manifests and locks on pipes read once; keygen makes its folder; bad input named"

# [[wheels]] errors at lock time, each naming the requirements file and line
# or the index and project, with exit 1 and no lock written: an unpinned
# requirement, a requirement without --hash, md5 hashes, an option line, a
# hash that matches no file on the index, sha512-only pins, a project the
# index does not have, and a pin that selects another project's file.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/wheels_setup.sh"

wheels_fixture
F="$T/pypi/files"
# A file of another project that the demo-pkg page lists (a confused or hostile index).
make_wheel "$T/evil" evil 1.0
static_index "$T/pypi"
cp "$T/evil/evil-1.0-py3-none-any.whl" "$F/"
EVIL_SHA=$(sha256_of "$F/evil-1.0-py3-none-any.whl")
printf '<a href="../../files/evil-1.0-py3-none-any.whl#sha256=%s">evil</a>\n' "$EVIL_SHA" >> "$T/pypi/simple/demo-pkg/index.html"
serve_dir "$T/pypi" "$T/http.log"
INDEX="http://127.0.0.1:$PORT/simple/"
DEMO_SHA=$(sha256_of "$F/$DEMO")

# lock_fails PATTERN REQUIREMENTS-TEXT: lock exits 1, stderr matches, no lock.
lock_fails() {
  local pattern=$1 text=$2
  printf '%s\n' "$text" > req.txt
  wheels_manifest m.toml "$INDEX" req.txt
  rm -f out.lock.json
  expect_fail 1 "$pattern" "$BUNDLER" lock m.toml -o out.lock.json
  [ ! -e out.lock.json ] || fail "a lock was written despite: $pattern"
}

lock_fails "\[\[wheels\]\] index http://127.0.0.1:[0-9]+/simple/: req\.txt:2: requirement 'demo-pkg>=1\.0' is not pinned" \
  "# comment"$'\n'"demo-pkg>=1.0 --hash=sha256:$DEMO_SHA"
lock_fails "req\.txt:1: requirement 'demo-pkg' is not pinned" "demo-pkg --hash=sha256:$DEMO_SHA"
lock_fails "req\.txt:1: requirement 'demo-pkg==1\.0\.0' has no --hash" "demo-pkg==1.0.0"
lock_fails "req\.txt:1: --hash md5: allowed hash algorithms are sha256, sha384, sha512" \
  "demo-pkg==1.0.0 --hash=md5:$(md5sum "$F/$DEMO" | cut -d' ' -f1)"
lock_fails "req\.txt:1: option line '--index-url https://pypi\.org/simple' is not supported" \
  "--index-url https://pypi.org/simple"$'\n'"demo-pkg==1.0.0 --hash=sha256:$DEMO_SHA"
lock_fails "req\.txt:2: option line '-r other\.txt' is not supported" \
  "demo-pkg==1.0.0 --hash=sha256:$DEMO_SHA"$'\n'"-r other.txt"
lock_fails "req\.txt:1: demo-pkg==1\.0\.0: no file on index $INDEX matches its hashes .*the index lists demo_pkg-0\.9\.0" \
  "demo-pkg==1.0.0 --hash=sha256:$(printf x | sha256sum | cut -d' ' -f1)"
lock_fails "req\.txt:1: demo-pkg==1\.0\.0 is pinned by sha384/sha512 only" \
  "demo-pkg==1.0.0 --hash=sha512:$(sha512sum "$F/$DEMO" | cut -d' ' -f1)"
lock_fails "index $INDEX: project 'nosuch' .*not found at ${INDEX}nosuch/" \
  "nosuch==1.0 --hash=sha256:$DEMO_SHA"
lock_fails "req\.txt:1: the pin sha256:$EVIL_SHA of demo-pkg selects 'evil-1\.0-py3-none-any\.whl' on index $INDEX, which is not demo-pkg 1\.0\.0" \
  "demo-pkg==1.0.0 --hash=sha256:$EVIL_SHA"
pass "unpinned, hash-less, weak-hash, option, unmatched, sha512-only, missing and misattributed requirements are refused"

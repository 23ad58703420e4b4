# init adopts nothing it did not create: on an existing directory holding a
# site key, a trusted key, a policy (or anything else) it refuses with exit 1
# naming what is there, and changes nothing; an empty existing directory (or
# a new one) is initialised; a group/other-writable one is refused.
source "$(dirname "$0")/common.sh"
"$BUNDLER" keygen --out "$T/evil" >/dev/null
"$INSTALLER" --root "$T/other" init >/dev/null 2>&1  # a real site key pair to plant
snapshot() { (cd "$1" && find . -printf '%p %y %m\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
# planted WHAT FILE...: a root holding those files is refused, naming each.
planted() {
  local what=$1; shift
  local R="$T/planted-$what"
  mkdir -p "$R/keys/trusted"
  for f in "$@"; do
    case $f in
      keys/site.key) cp "$T/other/keys/site.key" "$R/$f" ;;
      keys/site.pub) cp "$T/other/keys/site.pub" "$R/$f" ;;
      keys/trusted/*) cp "$T/evil.pub" "$R/$f" ;;
      keys/policy.json) echo '{"threshold": 1}' > "$R/$f" ;;
      *) echo "x" > "$R/$f" ;;
    esac
  done
  snapshot "$R" > "$T/before"
  expect_fail 1 "is not empty.*will not adopt" "$INSTALLER" --root "$R" init
  for f in "$@"; do
    grep -qF "$f" "$T/last.err" || { cat "$T/last.err" >&2; fail "init with a planted $f does not name it"; }
  done
  snapshot "$R" > "$T/after"
  diff -u "$T/before" "$T/after" >&2 || fail "a refused init ($what) changed $R"
  [ ! -e "$R/ledger.db" ] || fail "a refused init ($what) made a ledger"
}
planted sitekey keys/site.key keys/site.pub
planted sitekey-only keys/site.key
planted trusted keys/trusted/x.pub
planted policy keys/policy.json
planted other notes.txt
# An empty keys/trusted/ alone is something init did not make either.
R="$T/planted-dir"; mkdir -p "$R/keys/trusted"
expect_fail 1 "keys/trusted" "$INSTALLER" --root "$R" init
[ -z "$(find "$R" -type f)" ] || fail "a refused init wrote into $R"

# An empty existing directory: initialised, its own fresh key.
mkdir "$T/empty"
"$INSTALLER" --root "$T/empty" init >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "init of an empty directory failed"; }
[ -f "$T/empty/ledger.db" ] && [ -f "$T/empty/keys/site.key" ] || fail "init of an empty directory made no site"
cmp -s "$T/empty/keys/site.key" "$T/other/keys/site.key" && fail "two inits made the same key"
"$INSTALLER" --root "$T/empty" list >/dev/null
# A world-writable existing directory is not adopted.
mkdir -m 0777 "$T/open"
expect_fail 1 "$T/open: writable by group or others.*chmod go-w" "$INSTALLER" --root "$T/open" init
[ -z "$(ls -A "$T/open")" ] || fail "a refused init wrote into $T/open"
pass "init refuses planted keys, trusted keys, a policy and other files; initialises an empty directory"

# The command line itself: help, usage errors (exit 2), --version, volume sizes,
# keygen safety, inspect with and without a key, --json, and progress output.
source "$(dirname "$0")/common.sh"
helps() {  # helps PROGRAM "SUBCOMMAND..." WORDS...
  local prog=$1 sub=$2; shift 2
  # shellcheck disable=SC2086
  "$prog" $sub --help > help.out 2>&1 || fail "$(basename "$prog") $sub --help exited non-zero"
  for w in "$@"; do grep -q -- "$w" help.out || fail "$(basename "$prog") $sub --help lacks '$w'"; done
}
helps "$BUNDLER" "" keygen create inspect verify --version -q
helps "$BUNDLER" keygen --out
helps "$BUNDLER" create --sign --to --passphrase-file --no-encrypt --volume-size fat32 --sequence --expires -o
helps "$BUNDLER" inspect --key --json
helps "$BUNDLER" verify --trust
helps "$INSTALLER" "" --root init trust verify install list history status rollback check gc have "Exit codes"
helps "$INSTALLER" init --help
helps "$INSTALLER" trust add list remove
helps "$INSTALLER" "trust add" --name
for c in verify install; do helps "$INSTALLER" $c --passphrase-file --allow-unencrypted --json; done
helps "$INSTALLER" install --no-activate
for c in list history status; do helps "$INSTALLER" $c --json; done
helps "$INSTALLER" rollback --to
helps "$INSTALLER" check name
helps "$INSTALLER" gc --keep
helps "$INSTALLER" have --export --force --json "airlock-bundler create --have FILE --site-signing-key"
for p in "$BUNDLER" "$INSTALLER"; do
  "$p" --version | grep -Eq "^$(basename "$p") [0-9]+\.[0-9]+\.[0-9]+" || fail "$p --version"
  expect_fail 2 "." "$p" frobnicate
  expect_fail 2 "." "$p"
done
expect_fail 2 "manifest" "$BUNDLER" create
expect_fail 2 "--out" "$BUNDLER" keygen
expect_fail 2 "bundle" "$INSTALLER" install
expect_fail 2 "name" "$INSTALLER" rollback
expect_fail 2 "key" "$INSTALLER" trust add
expect_fail 2 "keep" "$INSTALLER" gc --keep lots

setup_site
make_model m 12M 1
make_manifest v1.toml demo 1.0.0 m
make_manifest v2.toml demo 2.0.0 m
[ "$(stat -c %a "$T/pub.key")" = 600 ] || fail "publisher .key is not mode 600"
keys="$(sha256sum pub.key pub.pub)"
expect_fail 1 "exist" "$BUNDLER" keygen --out "$T/pub"
[ "$keys" = "$(sha256sum pub.key pub.pub)" ] || fail "keygen overwrote a key"
for vs in 12Q 3M 100 4194303 1.5 4.7XB 4,7G .5G; do
  expect_fail 2 "volume-size.*($vs|4194304|4M)" "$BUNDLER" create v1.toml -o bad --sign pub.key --no-encrypt --volume-size "$vs"
  [ ! -e bad ] || fail "--volume-size $vs left $(ls -A bad | head -1) behind (or an empty -o directory)"
done
seq=1
for vs in dvd bd25 fat32 8M 4.7GB 4.5G 25GB 0.5G; do bundle v1.toml "b-$vs" $((seq++)) --volume-size "$vs"; done
[ "$(ls b-8M/*.tar | wc -l)" -ge 2 ] || fail "8M volumes: expected several for a 12M model"
for v in b-8M/*.tar; do [ "$(stat -c %s "$v")" -le $((8 << 20)) ] || fail "$v > 8M"; done
[ "$(ls b-fat32/*.tar | wc -l)" = 1 ] || fail "fat32: expected one volume"

"$BUNDLER" inspect b-8M > insp.out
for w in "demo 1.0.0" "bundle id" "sequence" "aes-256-gcm" "demo-1.0.0.vol002.tar"; do grep -q "$w" insp.out || fail "inspect lacks $w"; done
! grep -q "model/config.json" insp.out || fail "inspect listed files without a key"
"$BUNDLER" inspect b-8M --key "$AIRLOCK_ROOT/keys" | grep -q "model/model-00001-of-00002.safetensors" || fail "inspect --key lists no files"
json() { python3 -c 'import json,sys; json.load(sys.stdin)' || fail "not JSON: $*"; }
"$BUNDLER" inspect b-8M --json | json inspect --json
"$INSTALLER" install b-8M -q 2>q.err >/dev/null
[ ! -s q.err ] || { cat q.err >&2; fail "install -q wrote to stderr"; }
for c in list history status; do "$INSTALLER" $c --json | json $c --json; done
bundle v2.toml b2 10
"$INSTALLER" install b2 </dev/null >/dev/null 2>p.err || { cat p.err >&2; fail "install b2"; }
! grep -q $'\r' p.err || fail "progress to a non-terminal uses carriage returns"
! grep -q $'\e' p.err || fail "progress to a non-terminal uses escape sequences"
grep -q "install.*%" p.err || fail "no plain progress lines without -q"
# No encryption choice, or two of them, is a usage error (exit 2).
expect_fail 2 "exactly one of --to" "$BUNDLER" create v1.toml -o nochoice --sign pub.key
expect_fail 2 "exactly one of --to" "$BUNDLER" create v1.toml -o nochoice --sign pub.key --no-encrypt --to "$AIRLOCK_ROOT/keys/site.pub"
[ ! -e nochoice ] || [ -z "$(ls -A nochoice)" ] || fail "usage error left output behind"
pass "help, usage errors, --version, volume sizes, keygen, inspect, --json, progress"

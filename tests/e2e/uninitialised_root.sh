# Every installer command but init refuses a root that was never initialised,
# says so, points at `init`, and creates nothing; a second init is refused.
source "$(dirname "$0")/common.sh"
"$BUNDLER" keygen --out "$T/pub" >/dev/null
make_model m 4M 1
make_manifest v1.toml demo 1.0.0 m
"$BUNDLER" create v1.toml -o b1 --sign "$T/pub.key" --no-encrypt --sequence 1 -q >/dev/null

cmds=("install b1 --allow-unencrypted" "verify b1 --allow-unencrypted" "list" "list --json" "history"
      "status" "status --json" "rollback demo" "rollback demo --to 1.0.0" "check" "check demo" "gc"
      "trust list" "trust add $T/pub.pub" "trust remove pub")
refused() {  # refused DESCRIPTION ROOT_DIR [--root DIR] : runs every command
  local what=$1 dir=$2; shift 2
  for c in "${cmds[@]}"; do
    # shellcheck disable=SC2086
    expect_fail 1 "not (an )?initiali[sz]ed.*airlock-installer init" "$INSTALLER" "$@" $c
    grep -q "$dir" "$T/last.err" || { cat "$T/last.err" >&2; fail "$what: '$c' does not name $dir"; }
  done
}
# Via $AIRLOCK_ROOT, the directory missing: it must not be created.
refused "AIRLOCK_ROOT" "$AIRLOCK_ROOT"
[ ! -e "$AIRLOCK_ROOT" ] || fail "a refused command created $AIRLOCK_ROOT: $(find "$AIRLOCK_ROOT")"
# Via --root, the directory missing.
refused "--root" "$T/other" --root "$T/other"
[ ! -e "$T/other" ] || fail "a refused command created $T/other"
# An existing, empty directory: still refused, and no ledger appears in it.
mkdir "$T/empty"
AIRLOCK_ROOT="$T/empty" refused "empty dir" "$T/empty"
[ -z "$(ls -A "$T/empty")" ] || fail "refused commands wrote into $T/empty: $(ls -A "$T/empty")"

# init works once; a second init is refused and the site key is unchanged.
"$INSTALLER" init >init.out 2>init.err || fail "init failed: $(cat init.err)"
grep -q "airlock-x25519-public-v1" init.out || fail "init did not print the site public key"
[ -f "$AIRLOCK_ROOT/ledger.db" ] || fail "init made no ledger.db"
[ "$(stat -c %a "$AIRLOCK_ROOT/keys/site.key")" = 600 ] || fail "site.key is not 0600"
keys_before="$(sha256sum "$AIRLOCK_ROOT/keys/site.key" "$AIRLOCK_ROOT/keys/site.pub")"
"$INSTALLER" history --json > hist.before
expect_fail 1 "already initiali[sz]ed" "$INSTALLER" init
expect_fail 1 "already initiali[sz]ed" "$INSTALLER" init --root "$AIRLOCK_ROOT"
[ "$keys_before" = "$(sha256sum "$AIRLOCK_ROOT/keys/site.key" "$AIRLOCK_ROOT/keys/site.pub")" ] ||
  fail "a second init changed the site key"
"$INSTALLER" history --json | cmp -s - hist.before || fail "a refused init wrote to the ledger"
# The initialised root now works.
"$INSTALLER" trust add "$T/pub.pub" --name pub >/dev/null
"$INSTALLER" install b1 --allow-unencrypted -q >/dev/null
"$INSTALLER" check >/dev/null
pass "${#cmds[@]} commands refuse an uninitialised root (3 ways) without creating it; init twice refused"

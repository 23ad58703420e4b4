# The install targets hold only what Airlock created (the
# ledger records it); what an operator put in ROOT/hf, ROOT/images, ROOT/apt
# and ROOT/wheels survives install, rollback, gc and a version with no model,
# and `targets` lists it as left alone, by absolute path (the root is given
# relative here).
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"

setup_site
make_model m1 1M 1
make_model m2 1M 2
mkdir -p plain && echo "served" > plain/app.txt
make_manifest v1.toml fo 1.0.0 m1
make_manifest v2.toml fo 2.0.0 m2
printf '[deployment]\nname = "fo"\nversion = "3.0.0"\n\n[[files]]\nsource = "plain"\ndest = "serve"\n' > v3.toml
bundle v1.toml b1 1
bundle v2.toml b2 2
bundle v3.toml b3 3
R="$AIRLOCK_ROOT"

# What an operator put there by hand, before and between Airlock's commands.
plant() {
  mkdir -p "$R/hf/models--other--repo/blobs" "$R/hf/models--other--repo/refs" "$R/hf/.locks/models--other--repo" \
    "$R/wheels" "$R/apt" "$R/images/blobs/sha256"
  echo "their blob" > "$R/hf/models--other--repo/blobs/0123456789abcdef0123456789abcdef01234567"
  printf 'abcdef0123456789abcdef0123456789abcdef01' > "$R/hf/models--other--repo/refs/main"
  echo 1 > "$R/hf/version.txt"
  echo lock > "$R/hf/.locks/models--other--repo/x.lock"
  echo wheel > "$R/wheels/extra-1.0-py3-none-any.whl"
  echo notes > "$R/apt/notes.txt"
  echo layer > "$R/images/blobs/sha256/$(printf 'f%.0s' {1..64})"
}
FOREIGN=(hf/models--other--repo/blobs/0123456789abcdef0123456789abcdef01234567 hf/models--other--repo/refs/main
         hf/version.txt hf/.locks/models--other--repo/x.lock wheels/extra-1.0-py3-none-any.whl apt/notes.txt
         "images/blobs/sha256/$(printf 'f%.0s' {1..64})")
survives() {  # survives WHEN
  for f in "${FOREIGN[@]}"; do
    [ -f "$R/$f" ] || fail "$1: ROOT/$f (not Airlock's) was removed"
  done
  (cd "$R" && sha256sum "${FOREIGN[@]}") | diff - "$T/foreign.sha" >&2 || fail "$1: a foreign file changed"
}
plant
(cd "$R" && sha256sum "${FOREIGN[@]}") > "$T/foreign.sha"

"$INSTALLER" install b1 -q >/dev/null || fail "install v1"
survives "install v1"
C1=$(cat "$R/hf/models--airlock--fo/refs/main")
[ -d "$R/hf/models--airlock--fo/snapshots/$C1" ] || fail "v1's snapshot"
"$INSTALLER" install b2 -q >/dev/null || fail "install v2"
survives "install v2"
C2=$(cat "$R/hf/models--airlock--fo/refs/main")
[ "$C1" != "$C2" ] || fail "v2 has v1's commit"
"$INSTALLER" rollback fo -q >/dev/null 2>&1 || fail "rollback"
survives "rollback"
[ "$(cat "$R/hf/models--airlock--fo/refs/main")" = "$C1" ] || fail "refs/main after the rollback"
"$INSTALLER" rollback fo --to 2.0.0 -q >/dev/null 2>&1 || fail "roll forward"
"$INSTALLER" gc --keep 1 -q >/dev/null 2>&1 || fail "gc"
survives "gc"
[ ! -e "$R/hf/models--airlock--fo/snapshots/$C1" ] || fail "gc left v1's snapshot"
# A version with no model: Airlock's own repo goes, the rest stays.
"$INSTALLER" install b3 -q >/dev/null || fail "install v3 (no model)"
"$INSTALLER" gc --keep 1 -q >/dev/null 2>&1 || fail "gc after v3"
survives "a version with no model, then gc"
[ ! -e "$R/hf/models--airlock--fo" ] || { find "$R/hf" >&2; fail "Airlock's own repo folder stayed after its last version went"; }

# targets, from elsewhere with a relative --root: absolute paths, and the
# foreign files listed as left alone.
mkdir -p "$T/elsewhere"
(cd "$T" && "$INSTALLER" --root root targets > "$T/targets.out") || fail "targets"
grep -q "^hf      $R/hf: " targets.out || { cat targets.out; fail "targets does not print the absolute path of ROOT/hf"; }
grep -q "root/hf" targets.out && ! grep -q "$R/hf" targets.out && fail "targets prints the root as given"
for f in hf/models--other--repo hf/version.txt hf/.locks wheels/extra-1.0-py3-none-any.whl apt/notes.txt images/blobs; do
  grep -qF "left alone (not Airlock's): $R/$f" targets.out || { cat targets.out; fail "targets does not list $R/$f as left alone"; }
done
survives "targets"
"$INSTALLER" check -q >/dev/null || fail "check fails on a site with foreign files beside Airlock's"
pass "foreign files in ROOT/hf, images, apt, wheels survive install, rollback, gc and a model-less version; targets lists them by absolute path"

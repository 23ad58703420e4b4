# A model directory whose symlink leaves it is refused (naming the link, writing
# nothing); a symlink that stays inside is followed and its bytes ship.
source "$(dirname "$0")/common.sh"
setup_site
make_model m 4M 1
echo "do not ship me" > secret.txt
mkdir -p m/extra
nothing_written() {
  [ ! -e "$1" ] || [ -z "$(ls -A "$1")" ] || { ls -A "$1" >&2; fail "$1 not empty after a refused create"; }
}

# Relative link out of the tree.
ln -s ../secret.txt m/secret.txt
make_manifest v1.toml demo 1.0.0 m
expect_fail 1 "v1\.toml.*m/secret\.txt.*outside.*\.\./secret\.txt" \
  "$BUNDLER" create v1.toml -o b1 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 1 -q
nothing_written b1
rm m/secret.txt

# Deeper relative link and an absolute link, both out.
ln -s ../../secret.txt m/extra/notes.txt
expect_fail 1 "m/extra/notes\.txt.*outside" \
  "$BUNDLER" create v1.toml -o b1 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 1 -q
nothing_written b1
rm m/extra/notes.txt
ln -s "$T/secret.txt" m/abs.txt
expect_fail 1 "m/abs\.txt.*outside" \
  "$BUNDLER" create v1.toml -o b1 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 1 -q
nothing_written b1
rm m/abs.txt
# A linked directory outside the tree.
mkdir outside && echo x > outside/x.txt && ln -s ../outside m/linkdir
expect_fail 1 "m/linkdir.*outside" \
  "$BUNDLER" create v1.toml -o b1 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 1 -q
nothing_written b1
rm m/linkdir
[ ! -e "$AIRLOCK_ROOT/deployments/demo" ] || fail "refused bundles installed something"

# Links inside the tree are fine: the target's bytes ship as a regular file.
ln -s config.json m/config-link.json
ln -s ../tokenizer.json m/extra/tok.json
bundle v1.toml b1 2
"$INSTALLER" install b1 -q >/dev/null
D="$AIRLOCK_ROOT/deployments/demo/current/model"
cmp m/config.json "$D/config-link.json" || fail "in-tree link bytes differ"
cmp m/tokenizer.json "$D/extra/tok.json" || fail "nested in-tree link bytes differ"
[ -f "$D/config-link.json" ] && [ ! -L "$D/config-link.json" ] || fail "link installed as a symlink"
for f in m/*.safetensors; do cmp "$f" "$D/$(basename "$f")"; done
! grep -rq "do not ship me" "$AIRLOCK_ROOT/deployments" || fail "secret shipped"
"$INSTALLER" check demo >/dev/null
pass "out-of-tree symlinks refused by name; in-tree symlinks ship their bytes"

# Issue 12 item 7: a name in the install targets is content. Two deployments
# claiming one name with different bytes (the same HF repo at another commit,
# the same wheel file name) is a conflict: the newcomer's activation is
# refused naming both deployments and the entry, and the first deployment's
# files stay byte for byte. `check` re-verifies the targets too: a tampered
# or planted blob in ROOT/hf is reported by path (exit 3).
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/hub_setup.sh"
FORGE="$AIRLOCK_BUILD_DIR/tests/airlock-test-forge"
[ -x "$FORGE" ] || { echo "skip: $FORGE not built"; exit 77; }

setup_site
make_hub_repo hub org/mini 1M 4
start_hub "$T/hub"
C1=$(hub_commit org/mini)
hf_manifest first.toml first org/mini
bundle first.toml bf 1
printf 'changed\n' >> hub/org/mini/README.md
C2=$(hub_commit org/mini)
hf_manifest second.toml second org/mini
bundle second.toml bs 1
for p in "${E2E_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
E2E_PIDS=()
R="$AIRLOCK_ROOT"
tree() {  # every file's hash and every link's target under ROOT/hf, ROOT/wheels
  local d
  for d in hf wheels; do
    [ -d "$R/$d" ] || continue
    (cd "$R" && find "$d" -type f -print0 | sort -z | xargs -0r sha256sum && find "$d" -type l -printf '%p -> %l\n' | sort)
  done
}

# ---- the same HF repo, another commit
"$INSTALLER" install bf -q >/dev/null || fail "install first"
tree > tree.before
expect_fail 1 "second cannot be activated.*$R/hf/models--org--mini/refs/main: first/1.0.0 and second/1.0.0 ship different bytes" \
  "$INSTALLER" install bs
tree | diff -u tree.before - >&2 || fail "the second deployment changed what the first loads"
[ "$(cat "$R/hf/models--org--mini/refs/main")" = "$C1" ] || fail "refs/main moved to the second deployment's commit"
"$INSTALLER" list --json -q | grep -q '"second"' && fail "the refused deployment was recorded"
"$INSTALLER" check -q >/dev/null || fail "check after the refusal"

# ---- a blob name claimed by other bytes: "aaliar" (listed before "first")
# ships its own config.json as git blob <first's config.json blob> of a new
# commit. The name is recomputed from the bytes: its model stays out.
CONF_BLOB=$(basename "$(readlink "$R/hf/models--org--mini/snapshots/$C1/config.json")")
[[ "$CONF_BLOB" =~ ^[0-9a-f]{40}$ ]] || fail "config.json's blob '$CONF_BLOB'"
make_model m-liar 1M 9
printf '{"liar": true}\n' > m-liar/config.json
make_manifest liar.toml aaliar 1.0.0 m-liar
bundle liar.toml bl 1
LIAR_SHA=$(sha256sum m-liar/config.json | cut -d' ' -f1)
FAKE=$(printf 'd%.0s' {1..40})
"$FORGE" bl --site-key "$R/keys" --sign "$T/pub.key" --sources \
  '[{"kind":"model","identity":{"repo":"org/mini","commit":"'"$FAKE"'","revision":"main"},"files":[{"path":"model/config.json","sha256":"'"$LIAR_SHA"'","extra":{"lfs":false,"blob":"'"$CONF_BLOB"'"}}]}]' >/dev/null
"$INSTALLER" install bl --no-activate -q >/dev/null || fail "install aaliar --no-activate"
"$INSTALLER" targets > liar.out 2>&1 || { cat liar.out; fail "targets"; }
grep -q "aaliar/1.0.0: model/config.json is not git blob $CONF_BLOB" liar.out || { cat liar.out; ls -R "$R/hf" >&2; fail "no note on the lying blob name"; }
tree | diff -u tree.before - >&2 || fail "aaliar changed what first loads"
[ ! -e "$R/hf/models--org--mini/snapshots/$FAKE" ] || fail "aaliar's snapshot was linked"

# ---- the same wheel file name, other bytes (signed bundles whose file is
# renamed into wheels/ by the test forger, as a buggy or hostile publisher could)
wheel_bundle() {  # NAME SEQ BYTES
  mkdir -p "w-$1" && printf '%s' "$3" > "w-$1/dup-1.0-py3-none-any.whl"
  printf '[deployment]\nname = "%s"\nversion = "1.0.0"\n\n[[files]]\nsource = "w-%s"\ndest = "serve"\n' "$1" "$1" > "w-$1.toml"
  bundle "w-$1.toml" "bw-$1" "$2"
  "$FORGE" "bw-$1" --site-key "$R/keys" --sign "$T/pub.key" --sources '[]' >/dev/null
  "$FORGE" "bw-$1" --site-key "$R/keys" --sign "$T/pub.key" --path "0=wheels/dup-1.0-py3-none-any.whl" >/dev/null
}
wheel_bundle wa 1 "wheel A"
wheel_bundle wb 1 "wheel B"
"$INSTALLER" install bw-wa -q >/dev/null || fail "install wa"
[ "$(cat "$R/wheels/dup-1.0-py3-none-any.whl")" = "wheel A" ] || fail "wa's wheel is not in ROOT/wheels"
tree > tree.before
expect_fail 1 "wb cannot be activated.*$R/wheels/dup-1.0-py3-none-any.whl: wa/1.0.0 and wb/1.0.0 ship different bytes" \
  "$INSTALLER" install bw-wb
tree | diff -u tree.before - >&2 || fail "wb changed what wa loads"
[ "$(cat "$R/wheels/dup-1.0-py3-none-any.whl")" = "wheel A" ] || fail "wb's wheel replaced wa's"

# ---- check re-hashes the targets
BLOBS="$R/hf/models--org--mini/blobs"
CONFIG=$(readlink -f "$R/hf/models--org--mini/snapshots/$C1/config.json")
cp "$CONFIG" config.copy && rm -f "$CONFIG" && { cat config.copy; echo ' '; } > "$CONFIG"   # replaced, not the installed copy
echo planted > "$BLOBS/$(printf 'e%.0s' {1..64})"
printf '%s' "$C2" > "$R/hf/models--org--mini/refs/main.tmp" && mv "$R/hf/models--org--mini/refs/main.tmp" "$R/hf/models--org--mini/refs/main"
"$INSTALLER" check first -q >/dev/null || fail "check first: the deployment's own files are intact"
rc=0; "$INSTALLER" check > check.out 2>check.err || rc=$?
[ "$rc" -eq 3 ] || { cat check.out check.err; fail "check exited $rc on a tampered ROOT/hf, expected 3"; }
grep -q "^MISMATCH $CONFIG: " check.out || { cat check.out; fail "check does not name the tampered blob"; }
grep -q "^MISMATCH $BLOBS/$(printf 'e%.0s' {1..64}): not created by Airlock" check.out || { cat check.out; fail "check does not name the planted blob"; }
grep -q "^MISMATCH $R/hf/models--org--mini/refs/main: holds '$C2' (should be $C1)" check.out || { cat check.out; fail "check does not name the moved ref"; }
# targets repairs what is Airlock's; the planted file is left and listed.
"$INSTALLER" targets > targets.out || fail "targets"
grep -qF "left alone (not Airlock's): $BLOBS/$(printf 'e%.0s' {1..64})" targets.out || { cat targets.out; fail "targets does not list the planted blob"; }
cmp "$CONFIG" config.copy || fail "targets did not relink the tampered blob"
[ "$(cat "$R/hf/models--org--mini/refs/main")" = "$C1" ] || fail "targets did not put refs/main back"
rm "$BLOBS/$(printf 'e%.0s' {1..64})"
"$INSTALLER" check -q >/dev/null || fail "check after the repair"
pass "conflicting HF repo and wheel refused naming both deployments, first's bytes unchanged; check names tampered/planted ROOT/hf entries"

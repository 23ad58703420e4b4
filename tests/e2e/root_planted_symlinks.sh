# Nothing under ROOT is followed through a symlink the installer did not make:
# a link to a directory of precious files, planted at ROOT/staging, inside
# staging, at ROOT/deployments/NAME (known or not), inside an installed
# version, at ROOT/hf or deeper in it, at ROOT/images, ROOT/apt, ROOT/wheels,
# ROOT/keys/trusted, never makes a command (install, verify, list, status,
# history, check, gc, rollback, targets, trust list) write, chmod or delete
# there: the precious files survive byte-identical, and each command either
# works (the link removed or left alone) or refuses with exit 1 naming it
# (check may also exit 3: the version's files no longer match the ledger).
source "$(dirname "$0")/common.sh"
setup_site
make_model m1 1M 1
make_model m2 1M 2
make_model m3 1M 3
make_manifest v1.toml demo 1.0.0 m1
make_manifest v2.toml demo 2.0.0 m2
make_manifest v3.toml demo 3.0.0 m3
bundle v1.toml b1 1
bundle v2.toml b2 2
bundle v3.toml b3 3
"$INSTALLER" install b1 -q >/dev/null
"$INSTALLER" install b2 -q >/dev/null
[ -d "$AIRLOCK_ROOT/hf/models--airlock--demo/blobs" ] || fail "no ROOT/hf to plant links in"
TEMPLATE="$T/template"
cp -a "$AIRLOCK_ROOT" "$TEMPLATE"

# Names the old code would delete or write over: a models--* folder (pruned
# from ROOT/hf), a version-like folder, plain files; modes a chmod would change.
P="$T/precious"
mkdir -p "$P/sub" "$P/models--other/blobs" "$P/9.9.9"
echo "keep me" > "$P/a.txt"
head -c 4096 /dev/urandom > "$P/sub/b.bin"
echo "blob" > "$P/models--other/blobs/c"
echo "d" > "$P/9.9.9/d"
chmod 0640 "$P/a.txt"
chmod 0750 "$P/sub"
precious() { (cd "$P" && find . -printf '%p %y %m\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
precious > "$T/precious.before"

V1="deployments/demo/1.0.0"
places=(staging staging/x deployments/demo deployments/ghost "$V1/model/planted" "$V1/model" hf
        hf/models--airlock--demo hf/models--airlock--demo/blobs hf/models--airlock--demo/snapshots
        images apt wheels keys/trusted)
cmds=("install b3" "verify b3" "list" "status" "history" "check" "gc --keep 0" "rollback demo" "targets"
      "trust list")
runs=0
for place in "${places[@]}"; do
  for c in "${cmds[@]}"; do
    R="$T/r"
    chmod -R u+w "$R" 2>/dev/null || true
    rm -rf "$R"
    cp -a "$TEMPLATE" "$R"
    link="$R/$place"
    chmod u+w "$(dirname "$link")"
    rm -rf "$link"
    ln -s "$P" "$link"
    rc=0
    # shellcheck disable=SC2086
    AIRLOCK_ROOT="$R" "$INSTALLER" $c -q >"$T/out" 2>"$T/err" || rc=$?
    precious > "$T/precious.after"
    diff -u "$T/precious.before" "$T/precious.after" >&2 ||
      fail "'$c' with a link at ROOT/$place changed files outside ROOT ($(cat "$T/err"))"
    if [ "$rc" -eq 3 ] && [ "$c" = check ]; then
      :  # check reads through the link and reports the version's files as not matching the ledger
    elif [ "$rc" -ne 0 ]; then
      [ "$rc" -eq 1 ] || { cat "$T/err" >&2; fail "'$c' with a link at ROOT/$place: exit $rc, expected 0 or 1"; }
      grep -qF "$link" "$T/err" || { cat "$T/err" >&2; fail "'$c' refused a link at ROOT/$place without naming it"; }
      grep -q "symlink" "$T/err" || { cat "$T/err" >&2; fail "'$c' does not say ROOT/$place is a symlink"; }
    fi
    runs=$((runs + 1))
  done
done
pass "$runs runs: links planted at ${#places[@]} places under ROOT never reach the precious files"

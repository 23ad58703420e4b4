# Names a signed bundle carries become entries of ROOT's layout: the version
# (deployments/NAME/VERSION beside `current`), a Hub revision (ROOT/hf/.../
# refs/REVISION beside refs/main), image refs, and every field of `sources`
# the targets read. A validly signed bundle whose names collide with the
# layout, or whose `sources` has a wrongly typed field, is refused at install
# (exit 3, the field named, nothing changed), and the bundler refuses to make
# one. core/names/names.h and core/format/sources.cc hold the rules.
source "$(dirname "$0")/common.sh"
FORGE="${AIRLOCK_FORGE:-$AIRLOCK_BUILD_DIR/tests/airlock-test-forge}"
setup_site
make_model m1 1M 1
make_manifest v1.toml ln 1.0.0 m1
make_manifest v2.toml ln 2.0.0 m1
bundle v1.toml b1 1
bundle v2.toml b2 2
"$INSTALLER" install b1 -q >/dev/null
save_state
# The bundler refuses a version the installer keeps as a layout entry.
for v in current .tmp-1 1.0.tmp-x; do
  make_manifest bad.toml ln "$v" m1
  rc=0; "$BUNDLER" create bad.toml -o bad --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 3 -q \
    >/dev/null 2>"$T/b.err" || rc=$?
  [ "$rc" -ne 0 ] && grep -q "not a valid version" "$T/b.err" || fail "the bundler made a bundle of version '$v'"
done
forged() {  # NAME EDIT VALUE PATTERN
  local name=$1 edit=$2 value=$3 pattern=$4
  rm -rf "$name" && cp -r b2 "$name"
  "$FORGE" "$name" --site-key "$AIRLOCK_ROOT/keys" --sign "$T/pub.key" "$edit" "$value" || fail "forging $name failed"
  expect_fail 3 "$pattern" "$INSTALLER" install "$name" -q
  echo "   $name: $(head -c 300 "$T/last.err")"
  assert_state_unchanged "$name"
  "$INSTALLER" list -q >/dev/null || fail "list fails after $name"
}
forged version-current --version current "deployment name or version"
forged version-tmp --version .tmp-2 "deployment name or version"
F="model/$(cd m1 && ls | sort | head -1)"
A40=$(printf 'a%.0s' {1..40})
hub() {  # REVISION EXTRA: a Hub-shaped model source over the bundle's first model file
  printf '[{"kind":"model","identity":{"repo":"org/m","commit":"%s","revision":"%s"},"files":[{"path":"%s","extra":%s}]}]' \
    "$A40" "$1" "$F" "$2"
}
forged revision-main-x --sources "$(hub main/x '{"lfs":true}')" "identity.revision 'main/x'"
forged revision-dotdot --sources "$(hub 'v1/../../x' '{"lfs":true}')" "identity.revision"
forged revision-dot --sources "$(hub '.tmp-x' '{"lfs":true}')" "identity.revision"
forged lfs-string --sources "$(hub main '{"lfs":"yes"}')" "files\[0\]\.extra\.lfs must be a boolean"
forged blob-missing --sources "$(hub main '{"lfs":false}')" "extra\.blob"
forged path-number --sources '[{"kind":"model","files":[{"path":7}]}]' "files\[0\]\.path must be a string"
forged files-object --sources '[{"kind":"deb","files":{"path":"debs/x.deb"}}]' "files must be an array of objects"
forged identity-string --sources '[{"kind":"model","identity":"org/m","files":[]}]' "identity must be an object"
forged extra-string --sources '[{"kind":"model","files":[{"path":"'"$F"'","extra":"lfs"}]}]' "extra must be an object"
forged kind-number --sources '[{"kind":5}]' "kind must be a non-empty string"
forged local-revision --sources '[{"kind":"model","identity":{"revision":"main/x"},"files":[{"path":"'"$F"'"}]}]' \
  "identity.revision 'main/x'"
forged image-dotdot --sources '[{"kind":"image","identity":{"ref":"reg.example/../../x:1"}}]' "identity.ref"
forged image-control --sources '[{"kind":"image","identity":{"ref":"reg.example/x:1\u000aInjected: 1"}}]' \
  "identity.ref must be a string without control characters"
forged layout-refs --sources '[{"kind":"oci-layout","identity":{"refs":["reg.example/a/..:1"]}}]' "identity.refs"
forged sha-mismatch --sources '[{"kind":"model","files":[{"path":"'"$F"'","sha256":"'"$(printf 'c%.0s' {1..64})"'"}]}]' \
  "size or sha256 differs"
"$INSTALLER" install b2 -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/ln/current")" = 2.0.0 ] || fail "the genuine v2 did not install after the forgeries"
"$INSTALLER" check -q >/dev/null || fail "check fails after the forgeries"
pass "layout names (version current/.tmp-, revision main/x) and wrongly typed sources refused at install, exit 3"

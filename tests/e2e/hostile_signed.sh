# A bundle signed by a trusted key can still be hostile (a stolen key, a
# buggy or subverted build machine). The installer's checks behind the
# signature refuse it all the same (exit 3, the fault named, nothing changed):
# paths out of the root, setuid modes, a frame that inflates past its signed
# size (a decompression bomb: caught by the frame's AAD when encrypted, by the
# bounded decoder when not), an oversized key stanza, an oversized header,
# `sources` naming files the bundle does not hold.
# tests/support/forge_bundle.cc re-signs each edit with the publisher key.
source "$(dirname "$0")/common.sh"
FORGE="$AIRLOCK_BUILD_DIR/tests/airlock-test-forge"
setup_site
make_model m1 3M 1
make_manifest v1.toml hs 1.0.0 m1
make_manifest v2.toml hs 2.0.0 m1
bundle v1.toml b1 1
bundle v2.toml b2 2
"$INSTALLER" install b1 -q >/dev/null
save_state
forged() {  # NAME EDIT VALUE PATTERN [SOURCE [install args]]
  local name=$1 edit=$2 value=$3 pattern=$4 src=${5:-b2}; shift 5 2>/dev/null || shift $#
  rm -rf "$name" && cp -r "$src" "$name"
  "$FORGE" "$name" --site-key "$AIRLOCK_ROOT/keys" --sign "$T/pub.key" "$edit" "$value" \
    || fail "forging $name failed"
  "$BUNDLER" -q verify "$name" --trust "$T/pub.pub" >/dev/null 2>&1 || true  # signatures alone still verify
  expect_fail 3 "$pattern" "$INSTALLER" install "$name" -q "$@"
  echo "   $name: $(head -c 300 "$T/last.err")"
  assert_state_unchanged "$name"
}
forged dotdot --path "0=../../../etc/cron.d/evil" "unsafe|not a safe|path"
forged absolute --path "0=/etc/passwd" "unsafe|not a safe|path"
forged setuid --mode "0=4755" "mode 4755; only 644 and 755"
forged bomb --shrink-chunk 0 "chunk 0: authentication failed"
"$BUNDLER" create v2.toml -o plain2 --sign "$T/pub.key" --no-encrypt --sequence 2 -q >/dev/null
forged bomb-plain --shrink-chunk 0 "chunk 0.*(stored, expected|declares [0-9]+ bytes, expected)" plain2 --allow-unencrypted
forged stanza --wrapped-key-bytes 4000 "wrapped_key is oversized"
forged header --tool-bytes 2000000 "header of [0-9]+ bytes exceeds the cap"
# `sources` (what ROOT/hf, ROOT/apt... are built from) may only name shipped files.
forged sources --sources '[{"kind":"model","identity":{"repo":"org/m","commit":"'"$(printf 'a%.0s' {1..40})"'"},"files":[{"path":"model/../../../etc/cron.d/evil","extra":{"lfs":false,"blob":"'"$(printf 'b%.0s' {1..40})"'"}}]}]' \
  "sources\[0\] \(model\): files\[0\]\.path 'model/../../../etc/cron.d/evil' is not a file of the bundle"
forged sources-shape --sources '[{"kind":"deb","files":"x"}]' "sources\[0\] \(deb\): files must be an array of objects"
[ -z "$(find "$T" -path '*/etc/*' -o -name evil | grep -v "^$T/[a-z]*/" || true)" ] || fail "something was written outside"
"$INSTALLER" install b2 -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/hs/current")" = 2.0.0 ] || fail "the genuine v2 did not install after the forgeries"
pass "validly signed but hostile bundles refused: path escapes, setuid, inflating frame, oversized stanza and header"

# A damaged or altered index (header, body, signature envelope, truncated,
# garbage appended) never installs: exit 3 naming the .airlock file, and the
# installed v1 stays active with no trace of v2.
source "$(dirname "$0")/common.sh"
two_models 4M 4M
bundle v1.toml b1 100
bundle v2.toml b2 200
"$INSTALLER" install b1 -q >/dev/null
IDX=demo-2.0.0.airlock
# Layout: magic(8) version(4) header_len(4) header body_len(8) body sig_len(4) envelope.
read -r hdr body sig end < <(python3 -c '
import struct,sys; d=open(sys.argv[1],"rb").read()
h=struct.unpack_from("<I",d,12)[0]; b=struct.unpack_from("<Q",d,16+h)[0]
print(16, 16+h+8, 16+h+8+b+4, len(d))' "b2/$IDX")

save_state
tampered() {  # tampered NAME PATTERN: install and verify of t/ both refused
  expect_fail 3 "$IDX.*$2" "$INSTALLER" install t -q
  expect_fail 3 "$IDX" "$INSTALLER" verify t -q
  assert_state_unchanged "$1"
  [ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 1.0.0 ] || fail "v1 not active after $1"
  [ ! -e "$AIRLOCK_ROOT/deployments/demo/2.0.0" ] || fail "v2 files exist after $1"
}
fresh() { rm -rf t && cp -r b2 t; }
fresh; flip_byte "t/$IDX" $((hdr + 40)); tampered "header byte flipped" "header"
# A still-valid JSON header with one field changed must fail the signature.
fresh; sed -i 's/"sequence":200/"sequence":900/' "t/$IDX"
cmp -s "b2/$IDX" "t/$IDX" && fail "sequence edit did not apply"
tampered "header field edited" "signature.*(altered|damaged)"
fresh; flip_byte "t/$IDX" $(((body + sig) / 2)); tampered "body byte flipped" "signature.*(altered|damaged)"
expect_fail 3 "$IDX" "$BUNDLER" -q verify t --trust "$T/pub.pub"
fresh; flip_byte "t/$IDX" $((sig + 20)); tampered "envelope byte flipped" "signature"
# Alter one base64 character of the signature itself (still well-formed).
fresh; python3 - "t/$IDX" "$sig" <<'PY'
import sys; p, o = sys.argv[1], int(sys.argv[2]); d = bytearray(open(p, "rb").read())
i = d.index(b'"sig":"', o) + 10; d[i] = ord("A") if d[i] != ord("A") else ord("B"); open(p, "wb").write(d)
PY
tampered "signature altered" "signature.*(altered|damaged)"
fresh; truncate -s $((end - 50)) "t/$IDX"; tampered "index truncated" "truncated"
fresh; printf 'garbage' >> "t/$IDX"; tampered "garbage appended" "unexpected bytes"
"$INSTALLER" install b2 -q >/dev/null || fail "the intact v2 bundle does not install"
pass "index header/body/envelope tampering, truncation and trailing garbage refused (exit 3, index named), state unchanged"

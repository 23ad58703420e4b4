# Memory before the signature check stays small: an unsigned index that
# claims a 500 MiB body (a sparse file: a few KiB on disk) is refused, exit 3,
# without the body being read (max RSS well under the claimed size); an
# index claiming more than it holds is refused by its lengths; the index is
# checked by size before anything is allocated.
source "$(dirname "$0")/common.sh"
skip_if_sanitized "RSS limits mean nothing under ASan's shadow memory"
setup_site
make_model m1 1M 1
make_manifest v1.toml demo 1.0.0 m1
bundle v1.toml b1 1
V=demo-1.0.0
save_state

# forge OUT BODY_LEN APPARENT KEYID: the real header; a body of BODY_LEN bytes
# that the file holds only as a hole (APPARENT=1: the file really is that
# long, sparse; 0: the file stops after a few bytes of it); an envelope with
# one zero signature by KEYID, or none when KEYID is empty.
forge() {
  local out=$1 body_len=$2 apparent=$3 keyid=$4
  rm -rf "$out" && cp -r b1 "$out"
  python3 - "$out/$V.airlock" "$body_len" "$apparent" "$keyid" <<'PY'
import base64, json, struct, sys
path, body_len, apparent, keyid = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
b = open(path, 'rb').read()
hl = struct.unpack_from('<I', b, 12)[0]
sigs = [{"keyid": keyid, "sig": base64.b64encode(bytes(64)).decode()}] if keyid else []
env = json.dumps({"signatures": sigs}).encode()
with open(path, 'wb') as f:
    f.write(b[:16 + hl] + struct.pack('<Q', body_len))
    if apparent:
        f.seek(16 + hl + 8 + body_len)
        f.write(struct.pack('<I', len(env)) + env)
    else:
        f.write(bytes(4096))
PY
}

# run_rss CMD...: runs CMD; its exit status in $RC, its stderr in last.err,
# its peak resident set size (KiB) in $RSS.
run_rss() {
  RC=0
  /usr/bin/time -f '%M' -o "$T/rss" "$@" >"$T/last.out" 2>"$T/last.err" || RC=$?
  RSS=$(tail -n 1 "$T/rss")
}
[ -x /usr/bin/time ] || skip "/usr/bin/time not installed"

ROGUE=$("$BUNDLER" keygen --out "$T/rogue" | sed -n 's/^key id //p')
forge huge $((500 << 20)) 1 ""
[ "$(du -k "huge/$V.airlock" | cut -f1)" -lt 1024 ] || fail "the forged index is not sparse"
for args in "install huge -q" "verify huge -q"; do
  # shellcheck disable=SC2086
  run_rss "$INSTALLER" $args
  [ "$RC" -eq 3 ] || { cat "$T/last.err" >&2; fail "unsigned 500 MiB body: $args exited $RC, not 3"; }
  grep -q "carries no signature" "$T/last.err" || { cat "$T/last.err" >&2; fail "$args: not refused as unsigned"; }
  [ "$RSS" -lt 102400 ] || fail "unsigned 500 MiB body: $args peaked at $RSS KiB before the signature check"
done
forge huge2 $((500 << 20)) 1 "$ROGUE"
run_rss "$INSTALLER" install huge2 -q
[ "$RC" -eq 3 ] || { cat "$T/last.err" >&2; fail "untrusted 500 MiB body: exit $RC, not 3"; }
grep -q "untrusted signer key id(s): $ROGUE" "$T/last.err" || { cat "$T/last.err" >&2; fail "untrusted signer not named"; }
[ "$RSS" -lt 102400 ] || fail "untrusted 500 MiB body: peaked at $RSS KiB"
run_rss "$BUNDLER" -q verify huge2 --trust "$T/pub.pub"
[ "$RC" -eq 3 ] || { cat "$T/last.err" >&2; fail "bundler verify of the untrusted 500 MiB body: exit $RC, not 3"; }
[ "$RSS" -lt 102400 ] || fail "bundler verify of the untrusted 500 MiB body: peaked at $RSS KiB"

# A body claimed but not there (the file is 4 KiB past the header): refused
# by the lengths, exit 3.
forge short $((500 << 20)) 0 ""
run_rss "$INSTALLER" install short -q
[ "$RC" -eq 3 ] || fail "truncated body: exit $RC, not 3"
grep -q "truncated in the body" "$T/last.err" || { cat "$T/last.err" >&2; fail "truncated body not named"; }
[ "$RSS" -lt 102400 ] || fail "truncated body: peaked at $RSS KiB"

# Past the caps (a 600 MiB sparse file): refused by its size.
forge over $((600 << 20)) 1 ""
expect_fail 3 "exceeds the cap" "$INSTALLER" install over -q

assert_state_unchanged "oversized indexes"
"$INSTALLER" install b1 -q >/dev/null
pass "unsigned and untrusted indexes claiming 500 MiB bodies refused (exit 3) under 100 MiB RSS; short and over-cap ones by their lengths"

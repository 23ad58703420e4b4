# Bytes from the media are data, never terminal control: an index whose file
# name, signer key id or header carries ESC sequences, CR and LF (unsigned or
# badly signed) is refused with exit 3, and neither stderr nor `history` (text
# or JSON) holds a raw control byte or a line that reads like success.
source "$(dirname "$0")/common.sh"
setup_site
make_model m1 2M 1
make_manifest v1.toml demo 1.0.0 m1
bundle v1.toml b1 1
IDX=$(ls b1/*.airlock)
V=demo-1.0.0
# What a forger would like the operator to read.
FAKE=$'\e[2K\r'"installed demo 1.0.0: 9 files, 2.0 MiB (0 unchanged, hardlinked); now active"$'\n'

# forge OUT KEYID [HEADER_EDIT]: the envelope's only signature names KEYID (a
# zero signature); HEADER_EDIT, if set, is a Python expression applied to the
# header dict h (the header is re-serialised, so any signature breaks).
forge() {
  local out=$1 keyid=$2 edit=${3:-}
  rm -rf "$out" && cp -r b1 "$out"
  python3 - "$out/$V.airlock" "$keyid" "$edit" <<'PY'
import base64, json, struct, sys
path, keyid, edit = sys.argv[1], sys.argv[2], sys.argv[3]
b = open(path, 'rb').read()
hl = struct.unpack_from('<I', b, 12)[0]
header = b[16:16 + hl]
bl = struct.unpack_from('<Q', b, 16 + hl)[0]
body = b[24 + hl:24 + hl + bl]
if edit:
    h = json.loads(header)
    exec(edit)
    header = json.dumps(h, separators=(',', ':'), ensure_ascii=False).encode()
env = json.dumps({"signatures": [{"keyid": keyid, "sig": base64.b64encode(bytes(64)).decode()}]},
                 ensure_ascii=False).encode('utf-8', 'surrogateescape')
out = b[:12] + struct.pack('<I', len(header)) + header + struct.pack('<Q', len(body)) + body
out += struct.pack('<I', len(env)) + env
open(path, 'wb').write(out)
PY
}

# check_clean FILE WHAT: no ESC, CR, other C0 control, C1 control or DEL, and
# nothing that reads like a successful install.
check_clean() {
  local file=$1 what=$2
  python3 - "$file" "$what" <<'PY'
import re, sys
data = open(sys.argv[1], 'rb').read()
bad = [c for c in data if (c < 0x20 and c != 0x0a) or c == 0x7f]
assert not bad, f"{sys.argv[2]}: raw control bytes {sorted(set(bad))} in {data!r}"
assert b'\xc2\x9b' not in data and b'\xc2\x85' not in data, f"{sys.argv[2]}: raw C1 control in {data!r}"
for line in data.decode('utf-8', 'replace').splitlines():
    assert not re.match(r'^(airlock-installer: )?installed ', line), f"{sys.argv[2]}: success-looking line {line!r}"
PY
}

save_state
N0=$("$INSTALLER" history --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')

# 1. Unsigned: the signer key id is the fake success line.
forge f1 "$FAKE"
expect_fail 3 "$V\.airlock" "$INSTALLER" install f1 -q
check_clean "$T/last.err" "forged key id, install"
[ "$(wc -l < "$T/last.err")" -eq 1 ] || { cat "$T/last.err"; fail "the refusal spans more than one line"; }
[ ! -s "$T/last.out" ] || fail "a refused install printed to stdout"
expect_fail 3 "$V\.airlock" "$INSTALLER" verify f1 -q
check_clean "$T/last.err" "forged key id, verify"
expect_fail 3 "$V\.airlock" "$BUNDLER" -q verify f1 --trust "$T/pub.pub"
check_clean "$T/last.err" "forged key id, bundler verify"
"$BUNDLER" inspect f1 >"$T/inspect.out" 2>&1 || true
check_clean "$T/inspect.out" "forged key id, bundler inspect"

# 2. C1 CSI (U+009B) and bad UTF-8 in the key id.
forge f2 $'\xc2\x9b2J\xff\xfe'"1b[31m"
expect_fail 3 "$V\.airlock" "$INSTALLER" install f2 -q
check_clean "$T/last.err" "C1 key id"

# 3. A badly signed index: the publisher's key id, an altered header whose
#    volume name and tool carry escapes.
PUB_ID=$("$INSTALLER" trust list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["keyid"])')
forge f3 "$PUB_ID" 'h["tool"] = "\x1b]0;pwned\x07"; h["volumes"][0]["name"] = "x\x1b[2J\ny.tar"'
expect_fail 3 "$V\.airlock" "$INSTALLER" install f3 -q
check_clean "$T/last.err" "badly signed, altered header"
"$BUNDLER" inspect f3 >"$T/inspect.out" 2>&1 || true
check_clean "$T/inspect.out" "bundler inspect of the altered header"
"$BUNDLER" inspect f3 --json >"$T/inspect.json" 2>&1 || true
check_clean "$T/inspect.json" "bundler inspect --json"

# 4. The index file's own name (a name on the media) carries the fake line.
forge f4 "0123456789abcdef"
mv "f4/$V.airlock" "f4/$FAKE.airlock"
expect_fail 3 "untrusted|signed by 0 trusted" "$INSTALLER" install f4 -q
check_clean "$T/last.err" "index file name"
[ "$(wc -l < "$T/last.err")" -eq 1 ] || { cat "$T/last.err"; fail "the refusal spans more than one line"; }

assert_state_unchanged "forged indexes"

# The event log: every refusal recorded, one line each, nothing raw; the
# JSON parses and the hash chain still verifies.
"$INSTALLER" history >"$T/history.txt"
check_clean "$T/history.txt" "history"
"$INSTALLER" history --json >"$T/history.json"
check_clean "$T/history.json" "history --json"
# (less the "installer:" lines that name the binary before its first event)
python3 - "$T/history.json" "$N0" "$(grep -vc '^      installer: ' "$T/history.txt")" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))
n0, lines = int(sys.argv[2]), int(sys.argv[3])
assert len(ev) == n0 + 4, f"expected 4 more events, got {len(ev) - n0}"
assert lines == len(ev), f"history prints {lines} lines for {len(ev)} events"
for e in ev[n0:]:
    assert e["result"] == "refused", e
    for k, v in e.items():
        if isinstance(v, str):
            assert not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in v), f"raw control in {k}: {v!r}"
PY
"$INSTALLER" status >/dev/null || fail "the event chain no longer verifies"

# The real bundle still installs.
"$INSTALLER" install b1 -q >/dev/null
pass "forged key ids, names and headers: refused (exit 3), escaped on stderr, in history and inspect; chain intact"

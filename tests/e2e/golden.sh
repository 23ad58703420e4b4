# The committed golden bundle (tests/fixtures/golden/, docs/FORMAT.md §11)
# installs on a site holding the committed site key and trusting the
# committed publisher key: the installer of today reads the bytes that
# tests/unit/core/format/golden_test.cc rebuilds, and installs exactly the
# committed input files.
source "$(dirname "$0")/common.sh"
: "${AIRLOCK_SOURCE_DIR:?set AIRLOCK_SOURCE_DIR to the source tree}"
G="$AIRLOCK_SOURCE_DIR/tests/fixtures/golden"
# site_with_keys ROOT KEYS: a new site holding the fixture's site key and
# trusting its publisher key.
site_with_keys() {
  "$INSTALLER" --root "$1" init >/dev/null 2>&1
  install -m 0600 "$2/site.key" "$1/keys/site.key"
  install -m 0644 "$2/site.pub" "$1/keys/site.pub"
  "$INSTALLER" --root "$1" trust add "$2/publisher.pub" --name publisher >/dev/null
}
site_with_keys "$AIRLOCK_ROOT" "$G/keys"
# The bundle is read where it lies in the source tree; nothing there changes.
before="$(cd "$G" && find . -type f -print0 | sort -z | xargs -0 sha256sum)"
"$INSTALLER" verify "$G/bundle" -q >/dev/null
"$INSTALLER" install "$G/bundle" -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/golden/current")" = 1.0.0 ] || fail "golden 1.0.0 is not the active version"
got="$(cd "$AIRLOCK_ROOT/deployments/golden/current" && find . -type f | sort)"
[ "$got" = "$(printf './model/model.safetensors\n./serve/README.txt')" ] || fail "installed files: $got"
cmp "$G/input/model/model.safetensors" "$AIRLOCK_ROOT/deployments/golden/current/model/model.safetensors"
cmp "$G/input/serve/README.txt" "$AIRLOCK_ROOT/deployments/golden/current/serve/README.txt"
[ "$before" = "$(cd "$G" && find . -type f -print0 | sort -z | xargs -0 sha256sum)" ] || fail "the fixture changed"
# The same bundle as the writer made it before fixed cuts inside tensors
# (tests/fixtures/golden-fastcdc/: "algorithm": "fastcdc-v1", no "tensor"):
# readers of today go on installing it, with the same files.
R3="$T/fastcdc"
site_with_keys "$R3" "$G/keys"
"$INSTALLER" --root "$R3" install "$AIRLOCK_SOURCE_DIR/tests/fixtures/golden-fastcdc/bundle" -q >/dev/null
cmp "$G/input/model/model.safetensors" "$R3/deployments/golden/current/model/model.safetensors"
cmp "$G/input/serve/README.txt" "$R3/deployments/golden/current/serve/README.txt"
# The format-2 golden bundle (tests/fixtures/golden-solid/: three small
# files in one solid block; same keys, from the same seed) installs too,
# and verify reads it.
R4="$T/solid"
S="$AIRLOCK_SOURCE_DIR/tests/fixtures/golden-solid"
site_with_keys "$R4" "$S/keys"
"$INSTALLER" --root "$R4" verify "$S/bundle" -q >/dev/null
"$INSTALLER" --root "$R4" install "$S/bundle" -q >/dev/null
for f in model/model.safetensors serve/README.txt serve/LICENSE.txt serve/start.sh; do
  cmp "$S/input/$f" "$R4/deployments/golden/current/$f"
done
[ -x "$R4/deployments/golden/current/serve/start.sh" ] || fail "start.sh lost its execute bit in a solid block"
"$INSTALLER" --root "$R4" check golden -q >/dev/null
# The format-3 golden delta (tests/fixtures/golden-delta/): installed over
# its base, it rebuilds version 2.0.0 from the base's installed files and
# the one XOR frame; on a site without the base it is refused.
R5="$T/delta"
GD="$AIRLOCK_SOURCE_DIR/tests/fixtures/golden-delta"
site_with_keys "$R5" "$GD/base/keys"
expect_fail 1 "delta bundle against golden 1.0.0 .*never installed here" "$INSTALLER" --root "$R5" install "$GD/bundle"
"$INSTALLER" --root "$R5" install "$GD/base/bundle" -q >/dev/null
"$INSTALLER" --root "$R5" verify "$GD/bundle" -q >/dev/null
"$INSTALLER" --root "$R5" install "$GD/bundle" -q >/dev/null
for f in model/model.safetensors serve/README.txt; do
  cmp "$GD/input/$f" "$R5/deployments/golden/2.0.0/$f"
done
"$INSTALLER" --root "$R5" check golden -q >/dev/null
# Without the committed site key the same bytes are not for this site.
R2="$T/other"
"$INSTALLER" --root "$R2" init >/dev/null 2>&1
"$INSTALLER" --root "$R2" trust add "$G/keys/publisher.pub" --name publisher >/dev/null
expect_fail 3 "not addressed to this site" "$INSTALLER" --root "$R2" install "$G/bundle" -q
# docs/FORMAT.md §10: every event's hash, recomputed from the description there.
python3 - "$AIRLOCK_ROOT/ledger.db" <<'PY'
import hashlib, sqlite3, struct, sys
def text(x): b = x.encode(); return struct.pack('<Q', len(b)) + b
def integer(x): return struct.pack('<Qq', 8, x)
# The worked example of docs/FORMAT.md §10, version 1 and version 2.
ex = (text('0' * 64) + integer(1) + integer(1700000000) + b''.join(text(x) for x in
      ['root', 'init', 'site', 'ok', 'site key 0123456789abcdef']))
assert hashlib.sha256(ex).hexdigest() == '78f53d4d52e275d610341b9f42540e96bf5a7d792e5c20acc2ad26a6153a00b0'
ex += text('0.1.0') + text('unavailable: test')
assert len(ex) == 221 and hashlib.sha256(ex).hexdigest() == '976b31de590e5c10a971127c93c0e1a2ad34f70758ceb3ee5189d36db76e44cd'
db = sqlite3.connect(sys.argv[1])
prev, n = '0' * 64, 0
for (i, t, user, action, target, result, detail, prev_hash, h, iv, isha) in db.execute(
        'SELECT id, time, user, action, target, result, detail, prev_hash, hash, installer_version, '
        'installer_sha256 FROM events ORDER BY id'):
    n += 1
    assert i == n and prev_hash == prev, (i, prev_hash)
    rec = text(prev_hash) + integer(i) + integer(t) + b''.join(text(x) for x in [user, action, target, result, detail])
    assert iv is not None and isha is not None, i
    rec += text(iv) + text(isha)
    assert hashlib.sha256(rec).hexdigest() == h, (i, h)
    prev = h
assert n >= 3, n
PY
pass "the committed golden bundle installs with the committed keys, and only there"

# have --export: init prints the site signing key beside the site key; a
# root made before site signing keys gets one on first use; the have-list
# names every intact installed version, is signed by that key (checked here
# with stock openssl over the exact bytes), leaves a damaged version out with
# a warning, is written whole, and never replaces an existing file without --force.
source "$(dirname "$0")/common.sh"

# have_entries FILE: "NAME VERSION SEQUENCE ACTIVE" per entry; checks the
# file's layout and its signature with openssl (the bytes before the last
# line, after the domain "airlock-have-v1" and a NUL).
have_entries() {
  python3 - "$1" "$AIRLOCK_ROOT/keys/site-signing.pub" "$T/pub.pem" "$T/msg" "$T/sig" <<'PY'
import base64, json, sys
text = open(sys.argv[1], 'rb').read()
lines = text.split(b'\n')
assert lines[-1] == b'' and lines[-2].startswith(b'signature ed25519 '), lines[-2:]
signed = b'\n'.join(lines[:-2]) + b'\n'
_, _, keyid, sig = lines[-2].decode().split(' ')
pub = base64.b64decode(open(sys.argv[2]).read().split()[1])
der = bytes.fromhex('302a300506032b6570032100') + pub
open(sys.argv[3], 'w').write('-----BEGIN PUBLIC KEY-----\n' + base64.b64encode(der).decode() + '\n-----END PUBLIC KEY-----\n')
open(sys.argv[4], 'wb').write(b'airlock-have-v1\0' + signed)
open(sys.argv[5], 'wb').write(base64.b64decode(sig))
j = json.loads(signed)
assert j['airlock_have'] == 1 and j['signing_key'] == keyid, j
for e in j['deployments']:
    print(e['name'], e['version'], e['sequence'], 'active' if e['active'] else '-')
PY
  openssl pkeyutl -verify -pubin -inkey "$T/pub.pem" -rawin -in "$T/msg" -sigfile "$T/sig" >/dev/null ||
    fail "$1: the signature does not verify with ROOT/keys/site-signing.pub"
}

# init prints both public keys; the note names the signing .pub and its key id.
"$BUNDLER" keygen --out "$T/pub" >/dev/null
"$INSTALLER" init >init.out 2>init.err || fail "init failed: $(cat init.err)"
grep -q '^airlock-x25519-public-v1 ' init.out || fail "init did not print the site key"
grep -qxF "$(cat "$AIRLOCK_ROOT/keys/site-signing.pub")" init.out || fail "init did not print the site signing key"
[ "$(stat -c %a "$AIRLOCK_ROOT/keys/site-signing.key")" = 600 ] || fail "site-signing.key is not 0600"
grep -q "site signing key [0-9a-f]\{16\} ($AIRLOCK_ROOT/keys/site-signing.pub).*have-list" init.err ||
  fail "init's note does not name the site signing key: $(cat init.err)"
"$INSTALLER" trust add "$T/pub.pub" --name publisher >/dev/null

# A root from before site signing keys: the first have --export makes one.
rm "$AIRLOCK_ROOT/keys/site-signing.key" "$AIRLOCK_ROOT/keys/site-signing.pub"
"$INSTALLER" have --export empty.have >out 2>err || fail "have --export on an older root failed: $(cat err)"
[ -f "$AIRLOCK_ROOT/keys/site-signing.key" ] && [ -f "$AIRLOCK_ROOT/keys/site-signing.pub" ] ||
  fail "no site signing key made on first use"
[ "$(stat -c %a "$AIRLOCK_ROOT/keys/site-signing.key")" = 600 ] || fail "the made site-signing.key is not 0600"
grep -q "made this site's signing key" err || fail "making the key was not said: $(cat err)"
grep -q "^wrote empty.have: 0 version(s) of 0 deployment(s)" out || fail "summary: $(cat out)"
[ -z "$(have_entries empty.have)" ] || fail "an empty site lists versions"
key_before=$(sha256sum "$AIRLOCK_ROOT/keys/site-signing.key")
"$INSTALLER" have --export again.have >/dev/null 2>err
grep -q "made this" err && fail "a second export made another key"
[ "$key_before" = "$(sha256sum "$AIRLOCK_ROOT/keys/site-signing.key")" ] || fail "the site signing key changed"

# Two installed versions, one active.
make_model m1 2M 1
make_model m2 2M 2
make_manifest v1.toml demo 1.0.0 m1
make_manifest v2.toml demo 2.0.0 m2
bundle v1.toml b1 1
bundle v2.toml b2 2
"$INSTALLER" install b1 -q >/dev/null
"$INSTALLER" install b2 -q >/dev/null
"$INSTALLER" have --export site.have >out 2>err || fail "have --export failed: $(cat err)"
grep -q "^wrote site.have: 2 version(s) of 1 deployment(s), signed by site signing key [0-9a-f]\{16\}$" out ||
  fail "summary: $(cat out)"
[ "$(have_entries site.have)" = "$(printf 'demo 1.0.0 1 -\ndemo 2.0.0 2 active')" ] ||
  fail "have-list entries: $(have_entries site.have)"
bid=$("$INSTALLER" list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["versions"][0]["bundle_id"])')
grep -q "\"bundle_id\":\"$bid\"" site.have || fail "the have-list lacks 1.0.0's bundle id $bid"
[ "$(wc -l < site.have)" = 5 ] || fail "expected header, two entry lines, ']}' and the signature line"
"$INSTALLER" history --json | python3 -c '
import json,sys
ev=[e for e in json.load(sys.stdin) if e["action"]=="have-export"]
assert len(ev)==3 and ev[-1]["result"]=="ok" and "2 version(s) of 1 deployment(s)" in ev[-1]["detail"], ev'

# No overwrite without --force: exit 1, the file unchanged, nothing left beside it.
cp site.have site.have.orig
expect_fail 1 "site.have already exists; refusing to overwrite it \(--force replaces it\)" \
  "$INSTALLER" have --export site.have
cmp -s site.have site.have.orig || fail "a refused export changed the file"
ln -s site.have.orig link.have
expect_fail 1 "already exists" "$INSTALLER" have --export link.have

# A damaged installed file: that version is left out, with a warning naming it.
d="$AIRLOCK_ROOT/deployments/demo/1.0.0/model"
shard=model-00001-of-00002.safetensors  # 1.0.0's own (config.json is shared with 2.0.0 by a hardlink)
[ "$(stat -c %i "$d/$shard")" != "$(stat -c %i "$AIRLOCK_ROOT/deployments/demo/2.0.0/model/$shard")" ] ||
  fail "$shard is shared by both versions"
chmod u+w "$d" "$d/$shard"
printf 'x' | dd of="$d/$shard" bs=1 seek=4096 conv=notrunc status=none
"$INSTALLER" have --export site.have --force --json >out.json 2>err || fail "have --export --force failed: $(cat err)"
grep -q "warning: left out demo 1.0.0: 1 file(s) no longer match the ledger (first: .*$shard: SHA-256" err ||
  fail "the damaged version is not named in a warning: $(cat err)"
[ "$(have_entries site.have)" = "demo 2.0.0 2 active" ] || fail "entries with 1.0.0 damaged: $(have_entries site.have)"
python3 - out.json <<'PY' || fail "--json summary: $(cat out.json)"
import json, sys
j = json.load(open(sys.argv[1]))
assert j['versions'] == 1 and j['deployments'] == 1 and j['file'] == 'site.have', j
assert [(l['name'], l['version']) for l in j['left_out']] == [('demo', '1.0.0')], j
assert len(j['signing_key']) == 16 and len(j['site_key']) == 16, j
PY
[ -z "$(find . -maxdepth 1 -name '*.tmp-*')" ] || fail "a temporary file was left: $(ls -a)"

# A damaged signing key is an error naming it, never replaced.
chmod u+w "$AIRLOCK_ROOT/keys/site-signing.key"
echo "airlock-ed25519-secret-v1 AAAA" > "$AIRLOCK_ROOT/keys/site-signing.key"
expect_fail 1 "site-signing.key" "$INSTALLER" have --export other.have
[ ! -e other.have ] || fail "an export with a damaged key wrote a file"
grep -q AAAA "$AIRLOCK_ROOT/keys/site-signing.key" || fail "the damaged key was replaced"
pass "init prints the site signing key; older roots get one; have --export lists intact versions, signed, leaves out damaged ones, never overwrites without --force"

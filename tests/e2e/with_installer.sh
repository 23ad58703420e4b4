# create --with-installer: the static installers travel with the bundle,
# signed by every --sign key, and the operator can check them with stock
# tools before running one (the commands README.txt gives, run as written);
# both verifys check them too, and a flipped byte, a missing binary or an
# unlisted one is exit 3 naming the file. keygen's .pem is what OpenSSL reads.
# $AIRLOCK_DIST_DIR (the release stage sets it to dist/) gives the real static
# binaries; without it a dist dir is made from this build's installer and a
# small AArch64 ELF.
source "$(dirname "$0")/common.sh"
require_tools openssl
setup_site
"$BUNDLER" keygen --out "$T/pub2" >/dev/null

# keygen's PATH.pem: stock OpenSSL reads it, and it holds the .pub's key.
for k in pub pub2; do
  openssl pkey -pubin -in "$T/$k.pem" -noout || fail "openssl refuses $k.pem"
  pem_raw=$(openssl pkey -pubin -in "$T/$k.pem" -outform DER | tail -c 32 | base64)
  pub_raw=$(cut -d' ' -f2 "$T/$k.pub")
  [ "$pem_raw" = "$pub_raw" ] || fail "$k.pem holds another key than $k.pub ($pem_raw vs $pub_raw)"
done

if [ -n "${AIRLOCK_DIST_DIR:-}" ]; then
  DIST=$AIRLOCK_DIST_DIR
else
  DIST=$T/dist
  mkdir "$DIST"
  # The build's own installer under the x86_64 name (without debug info, to
  # keep the copies small).
  strip -o "$DIST/airlock-installer-linux-x86_64" "$INSTALLER" 2>/dev/null ||
    cp "$INSTALLER" "$DIST/airlock-installer-linux-x86_64"
  if command -v aarch64-linux-gnu-gcc >/dev/null; then
    printf 'int main(void) { return 0; }\n' > "$T/a.c"
    aarch64-linux-gnu-gcc -static -O2 -o "$DIST/airlock-installer-linux-aarch64" "$T/a.c"
  else
    # A minimal valid AArch64 ELF executable: header and one PT_LOAD.
    python3 - "$DIST/airlock-installer-linux-aarch64" <<'PY'
import struct, sys
ehdr = b'\x7fELF' + bytes([2, 1, 1, 0]) + bytes(8)
ehdr += struct.pack('<HHIQQQIHHHHHH', 2, 183, 1, 0x400078, 64, 0, 0, 64, 56, 1, 0, 0, 0)
phdr = struct.pack('<IIQQQQQQ', 1, 5, 0, 0x400000, 0x400000, 128, 128, 0x1000)
code = struct.pack('<II', 0xd2800ba8, 0xd4000001)  # mov x8, #93 (exit); svc #0
open(sys.argv[1], 'wb').write(ehdr + phdr + code)
PY
  fi
  chmod 0755 "$DIST"/airlock-installer-linux-*
fi

make_model m1 1M 1
make_manifest v1.toml demo 1.0.0 m1
bundle v1.toml b1 1 --sign "$T/pub2.key" --with-installer "$DIST"
for f in airlock-installer-linux-x86_64 airlock-installer-linux-aarch64 \
         airlock-installer-linux-x86_64.sig airlock-installer-linux-x86_64.2.sig \
         airlock-installer-linux-aarch64.sig airlock-installer-linux-aarch64.2.sig \
         publisher.pem publisher.2.pem SHA256SUMS README.txt; do
  [ -f "b1/$f" ] || fail "b1/$f was not written"
done
[ "$(stat -c %s b1/airlock-installer-linux-x86_64.sig)" = 64 ] || fail "a .sig is not a raw 64-byte signature"
cmp -s b1/publisher.2.pem "$T/pub2.pem" || fail "publisher.2.pem is not the second --sign key's .pem"
cmp -s b1/airlock-installer-linux-aarch64 "$DIST/airlock-installer-linux-aarch64" || fail "aarch64 binary not copied as is"
[ -x b1/airlock-installer-linux-x86_64 ] || fail "the shipped x86_64 binary is not executable"
[ -z "$(ls -A b1 | grep '^\.airlock-tmp' || true)" ] || fail "staging left in b1"
"$BUNDLER" inspect b1 | grep -q "^installer  airlock-installer-linux-aarch64  $(stat -c %s b1/airlock-installer-linux-aarch64) bytes" ||
  fail "inspect does not list the shipped installers"

# The stock-tool checks, exactly as README.txt gives them, in the bundle dir.
grep -q 'uname -m' b1/README.txt || fail "README.txt does not say how to pick the binary"
(
  cd b1
  sha256sum -c SHA256SUMS >/dev/null || fail "sha256sum -c SHA256SUMS fails on a fresh bundle"
  n=0
  while read -r cmd; do
    eval "$cmd" >"$T/pkeyutl.out" 2>&1 || { cat "$T/pkeyutl.out" >&2; fail "README's check fails: $cmd"; }
    grep -q 'Signature Verified Successfully' "$T/pkeyutl.out" || fail "no success line from: $cmd"
    n=$((n + 1))
  done < <(grep -E '^ +openssl pkeyutl -verify' README.txt)
  [ "$n" = 4 ] || fail "README.txt gives $n openssl checks, expected 4 (2 binaries x 2 keys)"
  # The key ids README.txt says the .pem files must print, computed as it says.
  grep -A1 -E '^ +openssl pkey -pubin' README.txt | grep -v '^--$' | paste - - | while IFS=$'\t' read -r cmd want; do
    got=$(eval "$cmd")
    [ "$got" = "${want##* }" ] || fail "key id check: '$cmd' printed $got, README says ${want##* }"
  done
)
grep -q "must print $(sha256sum < <(cut -d' ' -f2 "$T/pub.pub" | base64 -d) | cut -c1-16)" b1/README.txt ||
  fail "README.txt does not give the first key's key id"

# Both verifys check the shipped binaries (the installer trusts one of the two keys).
"$BUNDLER" -q verify b1 --trust "$T/pub.pub" --trust "$T/pub2.pub" >"$T/v.out" || fail "bundler verify fails"
grep -q '10 shipped installer file(s), 4 signature(s) verified' "$T/v.out" || { cat "$T/v.out"; fail "bundler verify did not check them"; }
"$INSTALLER" -q verify b1 >"$T/v.out" || fail "installer verify fails"
grep -q '10 shipped installer file(s), 2 signature(s) verified' "$T/v.out" || { cat "$T/v.out"; fail "installer verify did not check them"; }

# The shipped x86_64 binary itself verifies the bundle it came with.
if [ "$(uname -m)" = x86_64 ]; then
  (cd b1 && ./airlock-installer-linux-x86_64 -q verify .) >/dev/null || fail "the shipped installer cannot verify its bundle"
fi

# A flipped byte in a binary or a signature: both verifys exit 3 naming it,
# and the stock checks fail too.
save_state
for f in airlock-installer-linux-x86_64 airlock-installer-linux-aarch64 airlock-installer-linux-aarch64.2.sig; do
  rm -rf t && cp -r b1 t
  size=$(stat -c %s "t/$f")
  flip_byte "t/$f" $((size / 2))
  expect_fail 3 "$f: SHA-256 mismatch" "$INSTALLER" verify t -q
  expect_fail 3 "$f: SHA-256 mismatch" "$BUNDLER" -q verify t --trust "$T/pub.pub"
  (cd t && ! sha256sum -c --quiet SHA256SUMS >/dev/null 2>&1) || fail "sha256sum -c passes with $f flipped"
done
(cd t && ! openssl pkeyutl -verify -pubin -inkey publisher.2.pem -rawin -in airlock-installer-linux-aarch64 \
   -sigfile airlock-installer-linux-aarch64.2.sig >/dev/null 2>&1) || fail "openssl accepts a flipped signature"
# A listed binary missing; a binary replaced by a symlink to an intact copy.
rm -rf t && cp -r b1 t && rm t/airlock-installer-linux-aarch64
expect_fail 3 "airlock-installer-linux-aarch64: listed in the signed index but missing" "$INSTALLER" verify t -q
expect_fail 3 "airlock-installer-linux-aarch64: listed in the signed index but missing" \
  "$BUNDLER" -q verify t --trust "$T/pub.pub"
rm -rf t && cp -r b1 t && mv t/airlock-installer-linux-x86_64 "$T/copy" && ln -s "$T/copy" t/airlock-installer-linux-x86_64
expect_fail 3 "airlock-installer-linux-x86_64: refused" "$INSTALLER" verify t -q
assert_state_unchanged "verify of tampered shipped installers"

# A bundle made without --with-installer vouches for no binary put next to it.
bundle v1.toml plain 1
cp b1/airlock-installer-linux-x86_64 b1/airlock-installer-linux-x86_64.sig b1/publisher.pem plain/
expect_fail 3 "airlock-installer-linux-x86_64: not listed in the signed index" "$INSTALLER" verify plain -q
expect_fail 3 "publisher.pem: not listed in the signed index" "$BUNDLER" -q verify plain --trust "$T/pub.pub"

# install is not disturbed by the extra files, and records the installer.
"$INSTALLER" install b1 -q >/dev/null || fail "install of a bundle with shipped installers fails"
want=$(sha256sum "$INSTALLER" | cut -c1-64)
"$INSTALLER" history --json -q | python3 -c '
import json, sys
want, events = sys.argv[1], json.load(sys.stdin)
assert events, "no events"
for e in events:
    assert e["installer"] is not None and e["installer"]["sha256"] == want, e
    assert e["installer"]["version"], e
' "$want" || fail "history --json does not record this installer's SHA-256 ($want) in every event"
"$INSTALLER" history -q | grep -q "installer: airlock-installer .*, sha256 $want" || fail "history does not show the installer"

# create refuses a bad DIR clearly, before writing anything.
bad_create() {
  local pattern=$1 dir=$2
  expect_fail 1 "$pattern" "$BUNDLER" create v1.toml -o "$T/never" --sign "$T/pub.key" \
    --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 5 -q --with-installer "$dir"
  [ ! -e "$T/never" ] || fail "create left $T/never behind after refusing $dir ($pattern)"
}
bad_create "no such directory" "$T/nodist"
bad_create "not a directory" "$T/v1.toml"
mkdir bad1 && cp "$DIST/airlock-installer-linux-x86_64" bad1/
bad_create "airlock-installer-linux-aarch64 is missing" bad1
mkdir bad2 && cp "$DIST/airlock-installer-linux-x86_64" bad2/airlock-installer-linux-aarch64 &&
  cp "$DIST/airlock-installer-linux-aarch64" bad2/airlock-installer-linux-x86_64
bad_create "built for AArch64, but the name says x86_64" bad2
mkdir bad3 && cp "$DIST/airlock-installer-linux-x86_64" bad3/ && printf '#!/bin/sh\n' > bad3/airlock-installer-linux-aarch64
bad_create "airlock-installer-linux-aarch64: not an installer binary: not an ELF" bad3
mkdir bad4 && cp "$DIST/airlock-installer-linux-aarch64" bad4/ &&
  ln -s "$DIST/airlock-installer-linux-x86_64" bad4/airlock-installer-linux-x86_64
bad_create "airlock-installer-linux-x86_64" bad4
mkdir bad5 && cp "$DIST/airlock-installer-linux-x86_64" bad5/ && mkdir bad5/airlock-installer-linux-aarch64
bad_create "airlock-installer-linux-aarch64" bad5
# An -o that already holds shipped installers (of another bundle) is refused too.
mkdir out2 && cp b1/README.txt out2/
expect_fail 1 "already holds README.txt" "$BUNDLER" create v1.toml -o out2 --sign "$T/pub.key" \
  --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 6 -q --with-installer "$DIST"
[ "$(ls -A out2)" = README.txt ] || fail "a refused create wrote into out2"
# On media (create --media): the installers go on disc01 only, its README.txt
# says to give every medium, and both verifys find them among the media given
# in any order; installers that leave no room on the first medium are refused.
dist_bytes=$(cat "$DIST"/airlock-installer-linux-* | wc -c)
media=$(( (dist_bytes / 1048576 + 24) ))M
make_model m3 40M 3
make_manifest v3.toml demo 3.0.0 m3
bundle v3.toml bm 7 --with-installer "$DIST" --media "$media"
[ "$(ls -d bm/disc* | wc -l)" -ge 2 ] || fail "expected at least 2 media of $media"
[ -f bm/disc01/airlock-installer-linux-x86_64 ] && [ -f bm/disc01/README.txt ] || fail "installers not on disc01"
[ -z "$(ls bm/disc02 | grep -v '^demo-3.0.0\.\|^MEDIUM.txt$')" ] || fail "disc02 holds more than the bundle: $(ls bm/disc02)"
grep -q "airlock-installer install DIR1 DIR2" bm/disc01/README.txt || fail "README.txt on disc01 does not say to give every medium"
(cd bm/disc01 && sha256sum -c --quiet SHA256SUMS) || fail "SHA256SUMS on disc01"
"$INSTALLER" verify bm/disc0[2-9] bm/disc01 -q > out.txt || fail "installer verify of the media with the installers"
grep -q "shipped installer file(s)" out.txt || fail "verify did not check the shipped installers: $(cat out.txt)"
"$BUNDLER" -q verify bm/disc0[2-9] bm/disc01 --trust "$T/pub.pub" > /dev/null || fail "bundler verify of the media"
mkdir "$T/bigdist" && cp "$DIST"/airlock-installer-linux-* "$T/bigdist/"
truncate -s '>9M' "$T/bigdist/airlock-installer-linux-x86_64"  # at least 9 MiB, still an ELF: no room on an 8M medium
expect_fail 1 "do not fit on the first custom medium" "$BUNDLER" create v3.toml -o tiny --sign "$T/pub.key" \
  --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 8 -q --with-installer "$T/bigdist" --media 8M
[ ! -e tiny ] || fail "a refused create left tiny/"
pass "shipped installers: stock-tool checks pass as README.txt gives them; both verifys check size, SHA-256 and signatures; flipped, missing, symlinked and unlisted files exit 3 naming them; create refuses a bad DIR and writes nothing; history records the installer's SHA-256"

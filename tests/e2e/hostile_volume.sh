# A volume that is signed but holds tar the installer does not read: the
# volume is rewritten with python3's tarfile (a symlink entry, a GNU long
# name, a pax header with a key Airlock does not write, a FIFO) and its size
# and SHA-256 re-signed with the publisher key (tests/support/forge_bundle.cc),
# so every check before the tar reader passes. The tar reader refuses each
# (exit 3, naming the volume and the entry) and ROOT is unchanged.
source "$(dirname "$0")/common.sh"
FORGE="$AIRLOCK_BUILD_DIR/tests/airlock-test-forge"
require_tools python3
setup_site
make_model m1 3M 1
make_manifest v1.toml hv 1.0.0 m1
make_manifest v2.toml hv 2.0.0 m1
bundle v1.toml b1 1
bundle v2.toml b2 2
"$INSTALLER" install b1 -q >/dev/null
save_state
vol=hv-2.0.0.vol001.tar
[ -f "b2/$vol" ] || fail "no $vol in $(ls b2)"

# rewrite DIR KIND: DIR's volume gets one hostile entry of KIND before its packs.
rewrite() {
  python3 - "$1/$vol" "$2" <<'PY'
import io, sys, tarfile
path, kind = sys.argv[1], sys.argv[2]
with tarfile.open(path) as t:
    members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
fmt = tarfile.GNU_FORMAT if kind == "gnu-long-name" else tarfile.PAX_FORMAT
with tarfile.open(path, "w", format=fmt) as out:
    evil = tarfile.TarInfo("packs/evil")
    if kind == "symlink":
        evil.type, evil.linkname = tarfile.SYMTYPE, "/etc/shadow"
        out.addfile(evil)
    elif kind == "fifo":
        evil.type = tarfile.FIFOTYPE
        out.addfile(evil)
    elif kind == "gnu-long-name":
        evil.name = "packs/" + "l" * 120
        evil.size = 1
        out.addfile(evil, io.BytesIO(b"x"))
    elif kind == "escape-name":
        evil.name, evil.size = "packs/\x1b]0;pwned\x07.pack", 1
        out.addfile(evil, io.BytesIO(b"x"))
    elif kind == "pax-key":
        evil.name, evil.size, evil.pax_headers = "packs/000000.pack", 1, {"comment": "hi"}
        out.addfile(evil, io.BytesIO(b"x"))
    for m, data in members:
        out.addfile(m, io.BytesIO(data))
PY
}

hostile() {  # KIND PATTERN [PREFIX]
  local kind=$1 pattern=$2 prefix=${3:-"$vol: entry '"}
  rm -rf "$kind" && cp -r b2 "$kind"
  rewrite "$kind" "$kind" || fail "python3 could not rewrite the volume ($kind)"
  "$FORGE" "$kind" --site-key "$AIRLOCK_ROOT/keys" --sign "$T/pub.key" --restat-volume 0 \
    || fail "re-signing $kind failed"
  expect_fail 3 "$prefix$pattern" "$INSTALLER" install "$kind" -q
  echo "   $kind: $(head -c 300 "$T/last.err")"
  assert_state_unchanged "$kind"
}
hostile symlink "packs/evil' is a symbolic link"
hostile fifo "packs/evil' is a FIFO"
hostile gnu-long-name "\./\./@LongLink' has a GNU tar header"
hostile pax-key "\./\./@PaxHeader' is a pax header with key 'comment'"
# A regular file that is no pack of the volume, in python's header bytes:
# refused, its name escaped (no terminal control sequence reaches stderr).
hostile escape-name "packs/\\\\x1b]0;pwned\\\\x07.pack' has headers that are not byte for byte the ones Airlock writes"
grep -q $'\x1b' "$T/last.err" && fail "an ESC from the volume reached stderr"
[ ! -e "$AIRLOCK_ROOT/deployments/hv/2.0.0" ] || fail "a hostile 2.0.0 left files behind"

# The same volume re-signed, bytes unchanged, installs: the refusals above
# are the entries', not the re-signing.
rm -rf same && cp -r b2 same
"$FORGE" same --site-key "$AIRLOCK_ROOT/keys" --sign "$T/pub.key" --restat-volume 0 || fail "re-signing same failed"
# Plain ustar entries with the same names and data, as python3's tarfile
# writes them (other header bytes, a 10 KiB record at the end): the bytes are
# not the ones Airlock writes, so they are refused (exit 3) before anything is
# staged, even re-signed (docs/SECURITY.md rule 13).
rm -rf plain && cp -r b2 plain
python3 - "plain/$vol" <<'PY'
import io, sys, tarfile
path = sys.argv[1]
with tarfile.open(path) as t:
    members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as out:
    for m, data in members:
        out.addfile(m, io.BytesIO(data))
PY
"$FORGE" plain --site-key "$AIRLOCK_ROOT/keys" --sign "$T/pub.key" --restat-volume 0 || fail "re-signing plain failed"
expect_fail 3 "$vol: entry 'packs/000000.pack' has headers that are not byte for byte the ones Airlock writes" \
  "$INSTALLER" install plain -q
assert_state_unchanged plain
"$INSTALLER" install same -q >/dev/null 2>"$T/same.err" || { cat "$T/same.err"; fail "the re-signed volume did not install"; }
[ "$(readlink "$AIRLOCK_ROOT/deployments/hv/current")" = 2.0.0 ] || fail "2.0.0 is not current"
pass "signed volumes holding a symlink, a FIFO, a GNU long name, an unknown pax key, a stray entry (name escaped) or another writer's ustar refused (exit 3, volume and entry named), ROOT unchanged; the same volume re-signed installs"

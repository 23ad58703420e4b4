# A version pinned to a tag (revision = "v1.0") keeps
# ROOT/hf/.../refs/v1.0 while its snapshot is installed, even when another
# version is active (only refs/main follows the active one), so
# huggingface_hub resolves revision="v1.0" offline; gc of that version takes
# the ref with its snapshot.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/hub_setup.sh"

setup_site
make_hub_repo hub org/tagged 1M 3
printf '{"refs": ["main", "v1.0"]}\n' > hub/org/tagged.json
start_hub "$T/hub"
C1=$(hub_commit org/tagged v1.0)
hf_manifest p1.toml pin org/tagged 'revision = "v1.0"'
bundle p1.toml b1 1
cp hub/org/tagged/README.md readme.v1
printf 'a new revision\n' >> hub/org/tagged/README.md
C2=$(hub_commit org/tagged main)
[ "$C1" != "$C2" ] || fail "the emulator kept the commit"
hf_manifest p2.toml pin org/tagged 'revision = "main"'
sed -i 's/^version = "1.0.0"/version = "2.0.0"/' p2.toml
bundle p2.toml b2 2
for p in "${E2E_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
E2E_PIDS=()
R="$AIRLOCK_ROOT"
REPO="$R/hf/models--org--tagged"

# huggingface_hub's offline lookup (try_to_load_from_cache): refs/REV, then
# snapshots/COMMIT/FILE.
lookup() {  # lookup REVISION FILE -> the path, or fails
  python3 - "$R/hf" "$1" "$2" <<'PY'
import os, sys
cache, revision, filename = sys.argv[1:]
folder = os.path.join(cache, "models--org--tagged")
ref = os.path.join(folder, "refs", revision)
if not os.path.isfile(ref):
    sys.exit("no refs/" + revision)
commit = open(ref).read()
assert "\n" not in commit and len(commit) == 40, repr(commit)
path = os.path.join(folder, "snapshots", commit, filename)
if not os.path.isfile(path):
    sys.exit("refs/%s -> %s has no %s" % (revision, commit, filename))
print(path)
PY
}

"$INSTALLER" install b1 -q >/dev/null || fail "install v1"
[ "$(cat "$REPO/refs/main")" = "$C1" ] && [ "$(cat "$REPO/refs/v1.0")" = "$C1" ] || fail "refs after v1"
"$INSTALLER" install b2 -q >/dev/null || fail "install v2"
[ "$(cat "$REPO/refs/main")" = "$C2" ] || fail "refs/main does not follow the active v2"
[ "$(cat "$REPO/refs/v1.0" 2>/dev/null)" = "$C1" ] || fail "refs/v1.0 lost v1's commit once v2 was activated"
P=$(lookup v1.0 README.md) || fail "revision v1.0 does not resolve offline while v1 is installed"
cmp "$P" readme.v1 || fail "revision v1.0 resolves to other bytes than v1's README"
P=$(lookup main README.md) && cmp "$P" hub/org/tagged/README.md || fail "revision main"
"$INSTALLER" check -q >/dev/null || fail "check"
# Rollback to v1 and forward: refs/v1.0 stays put throughout.
"$INSTALLER" rollback pin -q >/dev/null 2>&1 || fail "rollback"
[ "$(cat "$REPO/refs/main")" = "$C1" ] && [ "$(cat "$REPO/refs/v1.0")" = "$C1" ] || fail "refs after the rollback"
"$INSTALLER" rollback pin --to 2.0.0 -q >/dev/null 2>&1 || fail "roll forward"
[ "$(cat "$REPO/refs/v1.0")" = "$C1" ] || fail "refs/v1.0 after rolling forward"
# gc removes v1: its snapshot and its tag go; main stays.
"$INSTALLER" gc --keep 1 -q >/dev/null 2>&1 || fail "gc"
[ ! -e "$REPO/refs/v1.0" ] || fail "refs/v1.0 outlived v1's snapshot"
[ ! -e "$REPO/snapshots/$C1" ] || fail "v1's snapshot outlived gc"
lookup v1.0 README.md >/dev/null 2>&1 && fail "revision v1.0 still resolves after gc"
[ "$(cat "$REPO/refs/main")" = "$C2" ] || fail "refs/main after gc"
"$INSTALLER" check -q >/dev/null || fail "check after gc"
pass "refs/v1.0 holds v1's commit while v1 is installed and another version is active; gc takes it with the snapshot"

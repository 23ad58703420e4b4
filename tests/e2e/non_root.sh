# The installer run by a user other than root, as a site may run it (ROOT
# owned by a service account): init, install, upgrade, rollback, check, and
# install --rehearse (whose sandbox maps the user back to itself in a second
# user namespace). Root skips the permission checks these would fail on: a
# version directory is moved into place before it is made read-only, since
# rename(2) must rewrite a moved directory's ".." entry.
# Run as root (CI), the scenario drops to nobody with setpriv; run as
# another user, it runs as that user.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
# LeakSanitizer cannot run under ptrace, and a rehearsal runs the installer
# under strace: in the sanitizer build it would fail every traced exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"

if [ "$(id -u)" = 0 ]; then
  require_tools setpriv
  chown 65534:65534 "$T"
  as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T" "$@"; }
  # A build under a folder only root may enter (/root/...) cannot be run as nobody.
  as_user "$INSTALLER" --version >/dev/null 2>&1 || skip "uid 65534 cannot run $INSTALLER (a parent folder is closed to it)"
else
  as_user() { "$@"; }
fi
as_user "$BUNDLER" keygen --out "$T/pub" >/dev/null
as_user "$INSTALLER" init >/dev/null 2>&1 || fail "init as $(as_user id -un)"
as_user "$INSTALLER" trust add "$T/pub.pub" --name publisher >/dev/null
as_user "$GEN" --out "$T/m1" --size 64K --seed 1 >/dev/null
as_user "$GEN" --out "$T/m2" --size 64K --seed 2 >/dev/null
for v in 1 2; do
  printf '[deployment]\nname = "svc"\nversion = "%s.0.0"\n\n[model]\nsource = "m%s"\n' "$v" "$v" > "$T/v$v.toml"
  as_user "$BUNDLER" create "$T/v$v.toml" -o "$T/b$v" --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" \
    --sequence "$v" -q >/dev/null
done
as_user "$INSTALLER" install "$T/b1" >/dev/null 2>"$T/i1.err" || { cat "$T/i1.err"; fail "install v1"; }
as_user "$INSTALLER" install "$T/b2" >/dev/null 2>"$T/i2.err" || { cat "$T/i2.err"; fail "install v2"; }
[ "$(stat -c %a "$AIRLOCK_ROOT/deployments/svc/2.0.0")" = 555 ] || fail "the version directory is not read-only"
for f in "$T"/m2/*; do
  cmp "$f" "$AIRLOCK_ROOT/deployments/svc/2.0.0/model/$(basename "$f")" || fail "v2's $(basename "$f") differs"
done
as_user "$INSTALLER" rollback svc >/dev/null 2>"$T/rb.err" || { cat "$T/rb.err"; fail "rollback"; }
[ "$(readlink "$AIRLOCK_ROOT/deployments/svc/current")" = 1.0.0 ] || fail "rollback did not make 1.0.0 current"
as_user "$INSTALLER" check >/dev/null 2>"$T/check.err" || { cat "$T/check.err"; fail "check"; }

if command -v strace >/dev/null && as_user unshare --user --net --mount true 2>/dev/null; then
  printf '[deployment]\nname = "r"\nversion = "1.0.0"\n\n[model]\nsource = "m1"\n\n[activate]\nshell = true\nrun = ["id -u > uid.txt; getent hosts huggingface.co || true"]\n' > "$T/r.toml"
  as_user "$BUNDLER" create "$T/r.toml" -o "$T/br" --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" \
    --sequence 1 -q >/dev/null
  rc=0
  as_user "$INSTALLER" install "$T/br" --rehearse --json >"$T/r.json" 2>"$T/r.err" || rc=$?
  [ "$rc" = 4 ] || { cat "$T/r.err" "$T/r.json"; fail "rehearse as a user: exit $rc, wanted 4"; }
  grep -q '"host": "huggingface.co"' "$T/r.json" || { cat "$T/r.json"; fail "rehearse as a user: no lookup"; }
  rehearsed=", and install --rehearse"
fi
pass "init, install, upgrade, rollback and check as uid $(as_user id -u)${rehearsed:-}"

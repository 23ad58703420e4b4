# A volume (or index) that is not a regular file in the bundle directory is
# refused before it is read: a symlink to /dev/zero (today's endless read),
# a FIFO (which would block the open), a symlink to a file outside the
# bundle. Quickly (timeout 20), exit 3 naming the volume, nothing said about
# what lies outside, nothing changed, the root lock released. A volume that
# grows past its signed size is refused by its size before it is read.
source "$(dirname "$0")/common.sh"
two_versions 2M 6M --volume-size 4M
"$INSTALLER" install b1 -q >/dev/null
V=demo-2.0.0
VOL="$V.vol002.tar"
mkdir -p outside
head -c 1234567 /dev/urandom > outside/secret-payroll.bin
save_state
fresh() { rm -rf t && cp -r b2 t; }

# refused WHAT: install, installer verify and bundler verify all refuse t
# within the timeout, exit 3, naming the volume and not the outside target.
refused() {
  local what=$1 cmd
  for cmd in "install t -q" "verify t -q"; do
    local rc=0
    # shellcheck disable=SC2086
    timeout -k 5 20 "$INSTALLER" $cmd >"$T/last.out" 2>"$T/last.err" || rc=$?
    [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "$what: 'airlock-installer $cmd' still running after 20 s"
    [ "$rc" -eq 3 ] || { cat "$T/last.err" >&2; fail "$what: 'airlock-installer $cmd' exited $rc, not 3"; }
    grep -q "$VOL" "$T/last.err" || { cat "$T/last.err" >&2; fail "$what: volume not named"; }
    grep -Eq "secret-payroll|1234567|/dev/zero|outside" "$T/last.err" && { cat "$T/last.err" >&2; fail "$what: message discloses the target"; }
  done
  local rc=0
  timeout -k 5 20 "$BUNDLER" -q verify t --trust "$T/pub.pub" >"$T/last.out" 2>"$T/last.err" || rc=$?
  [ "$rc" -eq 3 ] || { cat "$T/last.err" >&2; fail "$what: bundler verify exited $rc, not 3"; }
  grep -Eq "secret-payroll|1234567|/dev/zero|outside" "$T/last.err" && { cat "$T/last.err" >&2; fail "$what: bundler verify discloses the target"; }
  assert_state_unchanged "$what"
  [ -z "$(ls -A "$AIRLOCK_ROOT/staging")" ] || fail "$what: staging left behind"
  # The root lock was released: a command that takes it runs at once.
  timeout -k 5 20 "$INSTALLER" list -q >/dev/null || fail "$what: the root is still locked"
}

fresh; rm "t/$VOL"; ln -s /dev/zero "t/$VOL"
refused "volume symlinked to /dev/zero"
fresh; rm "t/$VOL"; mkfifo "t/$VOL"
refused "volume replaced by a FIFO"
fresh; rm "t/$VOL"; ln -s "$T/outside/secret-payroll.bin" "t/$VOL"
refused "volume symlinked to a file outside the bundle"
fresh; rm "t/$VOL"; cp "b2/$VOL" outside/copy.tar; ln -s "$T/outside/copy.tar" "t/$VOL"
refused "volume symlinked to a correct copy outside the bundle"
fresh; rm "t/$VOL"; mkdir "t/$VOL"
refused "volume replaced by a directory"

# The index: a symlink to /dev/zero or a FIFO in the bundle directory.
fresh; mv "t/$V.airlock" outside/idx; ln -s /dev/zero "t/$V.airlock"
rc=0; timeout -k 5 20 "$INSTALLER" install t -q 2>"$T/last.err" || rc=$?
[ "$rc" -eq 3 ] || { cat "$T/last.err" >&2; fail "index symlinked to /dev/zero: exit $rc, not 3"; }
grep -q "/dev/zero" "$T/last.err" && fail "index symlink target disclosed"
fresh; rm "t/$V.airlock"; mkfifo "t/$V.airlock"
rc=0; timeout -k 5 20 "$INSTALLER" install t -q 2>"$T/last.err" || rc=$?
[ "$rc" -eq 3 ] || { cat "$T/last.err" >&2; fail "index FIFO: exit $rc, not 3"; }
# Named on the command line, a FIFO is refused too (not opened for a writer).
rc=0; timeout -k 5 20 "$INSTALLER" install "t/$V.airlock" -q 2>"$T/last.err" || rc=$?
[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] && [ "$rc" -ne 0 ] || fail "index FIFO named on the command line: exit $rc"
assert_state_unchanged "non-regular index"

# A volume longer than its signed size: refused by its size, exit 3.
fresh; head -c 4096 /dev/zero >> "t/$VOL"
expect_fail 3 "$VOL.*bytes, the signed index says" timeout -k 5 20 "$INSTALLER" install t -q
assert_state_unchanged "volume longer than signed"

# Put right, the same copy installs.
fresh; "$INSTALLER" install t -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 2.0.0 ] || fail "intact v2 did not install"
pass "symlinked (/dev/zero, outside file), FIFO and directory volumes and indexes refused quickly (exit 3), nothing disclosed, lock released"

# An install over several media survives a stop between them. kill -9
# while the installer waits for the next medium, then `install` given only
# the media not yet read: it resumes (the staged volumes are not read
# again, every staged file is still hashed whole) and installs the model's
# bytes. Ctrl-C (SIGINT) at the prompt does the same through the drive.
# A staged file changed while the install was stopped is found: the stage
# is discarded and the install starts afresh, or, where every volume is
# already staged, refused (exit 3) and removed; nothing is installed.
source "$(dirname "$0")/common.sh"
two_models 4M 40M
V=demo-2.0.0
"$BUNDLER" create v2.toml -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 2 -q \
  --media 12M > /dev/null
n=$(ls -d b/disc* | wc -l)
[ "$n" -ge 3 ] || fail "expected at least 3 media, got $n"
cp -a "$AIRLOCK_ROOT" fresh.root
fresh_root() { rm -rf "$AIRLOCK_ROOT" && cp -a fresh.root "$AIRLOCK_ROOT"; }
installed_right() {
  [ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 2.0.0 ] || fail "$1: 2.0.0 not active"
  model_installed m2 2.0.0 "$1"
  "$INSTALLER" check -q > /dev/null || fail "$1: check fails"
  [ -z "$(ls -A "$AIRLOCK_ROOT/staging")" ] || fail "$1: staging left: $(ls -A "$AIRLOCK_ROOT/staging")"
}
# stop_between SIGNAL: install through the drive holding disc01, stopped by
# SIGNAL once it waits for disc02.
stop_between() {
  ln -sfn "$T/b/disc01" drive
  "$INSTALLER" install --media-path drive --wait > /dev/null 2> stop.err &
  local pid=$!
  for _ in $(seq 600); do
    grep -q "waiting for disc02" stop.err && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  grep -q "waiting for disc02" stop.err || { cat stop.err >&2; fail "kill -$1: never waited for disc02"; }
  kill -"$1" $pid
  wait $pid || true
  staging_clean "after kill -$1"
  [ -n "$(ls -A "$AIRLOCK_ROOT/staging")" ] || fail "kill -$1 between media: nothing kept to resume"
  [ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current" 2>/dev/null)" != 2.0.0 ] || fail "active after a stop"
}

# kill -9, then the other media as directories, disc01 not given.
fresh_root
stop_between 9
"$INSTALLER" list -q > /dev/null  # recover() runs first: it keeps the resumable stage
staging_clean "recover after kill -9"
"$INSTALLER" status > out.txt
grep -q "^interrupted   demo 2.0.0 (bundle [0-9a-f]*): 1 of $n volume(s) staged" out.txt ||
  fail "status does not show the interrupted install: $(cat out.txt)"
rest=(); for d in b/disc*; do [ "$d" = b/disc01 ] || rest+=("$d"); done
"$INSTALLER" install "${rest[@]}" > out.txt 2> err.txt || { cat err.txt >&2; fail "resume after kill -9"; }
grep -q "resuming the interrupted install of demo 2.0.0: 1 of $n volume(s) already staged" err.txt ||
  fail "no resume said: $(cat err.txt)"
installed_right "resume after kill -9"
"$INSTALLER" status | grep -q "^interrupted" && fail "status still shows an interrupted install after it finished"
"$INSTALLER" history demo -q | grep -q "install.*failed" && fail "kill -9 logged as a failure" || true

# SIGINT at the wait: the message says what is kept; resumed through the drive.
fresh_root
stop_between INT
grep -q "1 of $n volume(s) are staged and kept: run install again with the media not yet read" stop.err ||
  fail "Ctrl-C does not say what is kept: $(cat stop.err)"
ln -sfn "$T/b/disc02" drive
"$INSTALLER" install --media-path drive --wait > /dev/null 2> err.txt &
pid=$!
E2E_PIDS+=($pid)
for d in b/disc0[3-9]; do
  for _ in $(seq 600); do grep -q "waiting for" err.txt && break; sleep 0.1; done
  sed -i 's/waiting for/waited for/' err.txt
  ln -sfn "$T/$d" drive.new && mv -T drive.new drive
done
rc=0; wait $pid || rc=$?
[ $rc = 0 ] || { cat err.txt >&2; fail "resume through the drive exited $rc"; }
grep -q "waiting for disc01" err.txt && fail "resume asked for disc01, already staged"
installed_right "resume after Ctrl-C"

# A staged file changed while stopped: the whole-file hash finds it.
fresh_root
save_state
stop_between 9
stage=$(ls -d "$AIRLOCK_ROOT"/staging/*)
f=$(cd "$stage/tree" && find . -type f -size +1M | head -1)
flip_byte "$stage/tree/$f" 100
expect_fail 3 "staged by the interrupted install changed since" "$INSTALLER" install "${rest[@]}" -q
[ -z "$(ls -A "$AIRLOCK_ROOT/staging")" ] || fail "a refused resume kept its stage"
assert_state_unchanged "resume with a changed staged file"
# A staged file replaced by a hardlink to a file elsewhere: not written through.
stop_between 9
stage=$(ls -d "$AIRLOCK_ROOT"/staging/*)
f=$(cd "$stage/tree" && find . -type f -size +1M | head -1)
cp "$stage/tree/$f" victim && cp victim victim.orig
rm "$stage/tree/$f" && ln victim "$stage/tree/$f"
"$INSTALLER" install b/disc* > /dev/null 2> err.txt || { cat err.txt >&2; fail "install after a planted hardlink"; }
grep -q "not as it left them.*starting afresh" err.txt || fail "planted hardlink not named: $(cat err.txt)"
cmp victim victim.orig || fail "the install wrote through a planted hardlink"
installed_right "install after a planted hardlink"
pass "$n media: kill -9 and Ctrl-C between media resume with the rest only; changed or planted staged files found"

# install --media-path DRIVE: one drive that the media of a bundle pass
# through in turn. With --wait the installer polls the drive (here a
# symlink a helper swaps, as an automounter would); without it, it asks on
# the terminal (here a pty from script(1)) and reads Enter. Media come in
# any order; a repeated medium and one of another bundle are named and
# asked again, and nothing of them is read; the installed bytes are the
# model's; a bundle whose volumes are all still missing when stdin is no
# terminal is a usage error, nothing installed.
source "$(dirname "$0")/common.sh"
two_models 4M 40M
V=demo-2.0.0
"$BUNDLER" create v2.toml -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 2 -q \
  --media 12M > /dev/null
"$BUNDLER" create v1.toml -o other --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 1 -q \
  --media 12M > /dev/null
n=$(ls -d b/disc* | wc -l)
[ "$n" -ge 3 ] || fail "expected at least 3 media, got $n"
mapfile -t discs < <(ls -d b/disc* | shuf)

cp -a "$AIRLOCK_ROOT" fresh.root   # the same site (key, trust), nothing installed
fresh_root() { rm -rf "$AIRLOCK_ROOT" && cp -a fresh.root "$AIRLOCK_ROOT"; }

# --wait: the helper puts each medium in only once the installer says it
# waits; the first stays in once read, and a foreign one comes in between.
save_state
ln -s "$T/${discs[0]}" drive
"$INSTALLER" install --media-path drive --wait > wait.out 2> wait.err &
pid=$!
E2E_PIDS+=($pid)
waits() {  # waits N: until the installer has said "waiting for" N times
  for _ in $(seq 600); do
    [ "$(grep -c 'waiting for' wait.err || true)" -ge "$1" ] && return 0
    kill -0 $pid 2>/dev/null || { cat wait.err >&2; fail "installer exited while media were still to come"; }
    sleep 0.1
  done
  cat wait.err >&2; fail "installer never waited a ${1}th time"
}
swap() { ln -sfn "$1" drive.new && mv -T drive.new drive; }
w=1
waits $w   # the first medium read, still in: named as read, the next asked for
grep -q "already read" wait.err || fail "a medium already read was not named: $(cat wait.err)"
swap "$T/other/disc01"  # another bundle's medium
w=$((w + 1)); waits $w
grep -q "holds a medium of another bundle" wait.err || fail "a foreign medium was not named: $(cat wait.err)"
for d in "${discs[@]:1}"; do
  swap "$T/$d"
  if [ "$d" != "${discs[-1]}" ]; then w=$((w + 1)); waits $w; fi
done
rc=0; wait $pid || rc=$?
[ $rc = 0 ] || { cat wait.err >&2; fail "install --media-path --wait exited $rc"; }
model_installed m2 2.0.0 "install --media-path --wait"
grep -q "waiting for disc0[0-9] (medium [0-9] of $n), volume" wait.err ||
  fail "the installer never named the medium it waited for: $(cat wait.err)"

# The terminal: script(1) gives the installer a pty; a medium goes in and
# Enter is pressed after each "insert" prompt.
fresh_root
swap "$T/${discs[0]}"
mkfifo keys
( script -qfec "'$INSTALLER' install --media-path drive" /dev/null < keys > tty.out 2>&1; echo "rc=$?" >> tty.out ) &
E2E_PIDS+=($!)
exec 3> keys
prompts() {  # prompts N: until N "press Enter" prompts were shown
  for _ in $(seq 600); do
    [ "$(grep -c 'press Enter' tty.out || true)" -ge "$1" ] && return 0
    grep -q '^rc=' tty.out && { cat tty.out >&2; fail "installer exited while media were still to come"; }
    sleep 0.1
  done
  cat tty.out >&2; fail "no ${1}th prompt"
}
p=1
prompts $p
swap "$T/other/disc01"; echo >&3   # wrong: asked again
p=$((p + 1)); prompts $p
for d in "${discs[@]:1}"; do
  swap "$T/$d"; echo >&3
  if [ "$d" != "${discs[-1]}" ]; then p=$((p + 1)); prompts $p; fi
done
for _ in $(seq 600); do grep -q '^rc=' tty.out && break; sleep 0.1; done
exec 3>&-
grep -q '^rc=0' tty.out || { cat tty.out >&2; fail "install --media-path on a terminal failed"; }
grep -q "insert disc0[0-9] (medium [0-9] of $n), volume" tty.out || fail "prompt names no medium: $(cat tty.out)"
model_installed m2 2.0.0 "install --media-path on a terminal"

# No terminal and no --wait: told what to use, nothing installed.
fresh_root
save_state
swap "$T/${discs[0]}"
expect_fail 2 "no terminal to ask for the next medium on: give --wait" \
  setsid "$INSTALLER" install --media-path drive -q < /dev/null
assert_state_unchanged "install --media-path with no terminal"
expect_fail 2 "excludes|--media-path" "$INSTALLER" install b/disc01 --media-path drive -q
expect_fail 2 "--wait requires --media-path|needs" "$INSTALLER" install b/disc01 --wait -q
pass "$n media through one drive: polled with --wait and prompted on a terminal, in shuffled order, wrong media named"

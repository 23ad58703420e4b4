# Media as real optical images: one ISO 9660 image per medium made with
# xorriso, read back with osirrox -extract (no loop mounts needed). With
# Rock Ridge the names are the bundle's own; without it (plain ISO 9660,
# level 3: "DEMO_2_0_0_VOL001.TAR", and level 1: "DEMO_2_0.TAR") the
# installer finds the index and each volume by folded name or by content,
# says so, and checks them as always: each medium verifies alone, the set
# installs (from directories and through one drive), the bytes are the
# model's; a flipped byte in a renamed volume is still exit 3.
source "$(dirname "$0")/common.sh"
require_tools xorriso osirrox
two_models 4M 40M
V=demo-2.0.0
"$BUNDLER" create v2.toml -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" --sequence 2 -q \
  --media 12M > /dev/null
n=$(ls -d b/disc* | wc -l)
cp -a "$AIRLOCK_ROOT" fresh.root
fresh_root() { rm -rf "$AIRLOCK_ROOT" && cp -a fresh.root "$AIRLOCK_ROOT"; }
# image KIND DISC OUT: burn b/DISC into an image and extract it into OUT.
image() {
  local kind=$1 disc=$2 out=$3
  case $kind in
    rr) xorriso -outdev "$out.iso" -map "b/$disc" / -commit > /dev/null 2>&1 ;;
    l1|l3) xorriso -rockridge off -compliance "iso_9660_level=${kind#l}" -outdev "$out.iso" -map "b/$disc" / \
             -commit > /dev/null 2>&1 ;;
  esac
  mkdir "$out"
  osirrox $([ "$kind" = rr ] || echo -rockridge off) -indev "$out.iso" -extract / "$out" > /dev/null 2>&1
  chmod -R u+w "$out"
  [ -n "$(ls "$out")" ] || fail "nothing extracted from $out.iso"
}
for kind in rr l3 l1; do
  fresh_root
  dirs=()
  for d in $(ls b | shuf); do image $kind "$d" "$kind-$d"; dirs+=("$kind-$d"); done
  case $kind in
    rr) ls "rr-disc01/$V.airlock" > /dev/null || fail "Rock Ridge lost the index's name: $(ls rr-disc01)" ;;
    *) ! ls "$kind-disc01" | grep -q '[a-z]' || fail "$kind: lower-case names without Rock Ridge: $(ls "$kind-disc01")" ;;
  esac
  for d in "${dirs[@]}"; do
    i=$((10#${d#"$kind-disc"}))
    "$INSTALLER" -q verify --medium "$d" > out.txt || fail "$kind: verify --medium $d: $(cat out.txt)"
    grep -q "^ok: disc$(printf %02d "$i") (medium $i of $n)" out.txt || fail "$kind: $d not named: $(cat out.txt)"
    "$BUNDLER" -q verify-medium "$d" --trust "$T/pub.pub" > /dev/null || fail "$kind: verify-medium $d"
  done
  "$INSTALLER" install "${dirs[@]}" > out.txt 2> err.txt || { cat err.txt >&2; fail "$kind: install from the images"; }
  if [ $kind != rr ]; then
    grep -q "the medium's file system renamed it" err.txt || fail "$kind: no note on the renamed volumes: $(cat err.txt)"
  fi
  model_installed m2 2.0.0 "$kind"
done

# Through one drive, level 1 (the shortest names), with --wait.
fresh_root
mapfile -t order < <(ls -d l1-disc?? | shuf)
ln -s "$T/${order[0]}" drive
"$INSTALLER" install --media-path drive --wait > wait.out 2> wait.err &
pid=$!
E2E_PIDS+=($pid)
w=0
for d in "${order[@]:1}"; do
  w=$((w + 1))
  for _ in $(seq 600); do
    [ "$(grep -c 'waiting for' wait.err || true)" -ge $w ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  ln -sfn "$T/$d" drive.new && mv -T drive.new drive
done
rc=0; wait $pid || rc=$?
[ $rc = 0 ] || { cat wait.err >&2; fail "install --media-path of ISO 9660 level 1 media exited $rc"; }
model_installed m2 2.0.0 "level 1 through the drive"
grep -q "the medium's file system renamed it" wait.err || fail "drive: no note on the renamed volumes: $(cat wait.err)"

# A flipped byte in a renamed volume is damage, not a name problem.
fresh_root
save_state
rm -rf bad && cp -r l1-disc02 bad
vol=$(ls -S bad | head -1)
flip_byte "bad/$vol" 7000
others=(); for d in l1-disc??; do [ "$d" = l1-disc02 ] || others+=("$d"); done
expect_fail 3 "SHA-256 mismatch|authentication failed" "$INSTALLER" install "${others[@]}" bad -q
assert_state_unchanged "install with a damaged renamed volume"
pass "$n media as ISO images, with Rock Ridge and without it (levels 3 and 1): verified alone, installed, damage refused"

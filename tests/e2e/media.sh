# create --media lays a bundle out for removable media: one directory per
# medium (disc01/, ...), each within the medium's usable bytes and holding a
# copy of the signed index and a MEDIUM.txt label. Each medium checks alone
# (airlock-bundler verify-medium, airlock-installer verify --medium), saying
# which medium it is and what the others must bring; install takes every
# medium's directory in any order. A missing medium is exit 1 naming the
# volume and its disc; a damaged one, a medium of another bundle or a planted
# volume is exit 3; nothing is installed by a refused install.
source "$(dirname "$0")/common.sh"
two_models 4M 60M
V=demo-2.0.0
create_media() {  # create_media MANIFEST OUT SEQUENCE [args]
  local manifest=$1 out=$2 seq=$3; shift 3
  "$BUNDLER" create "$manifest" -o "$out" --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" \
    --sequence "$seq" -q "$@"
}
create_media v2.toml b 2 --media 12M --json > plan.json
n=$(ls -d b/disc* | wc -l)
[ "$n" -ge 4 ] || fail "expected at least 4 media for 60M on 12M media, got $n"
[ "$(ls -A b | grep -vc '^disc[0-9][0-9]$')" = 0 ] || fail "b/ holds more than the media: $(ls -A b)"
python3 - "$n" <<'PY' || fail "the --json plan does not match the media written"
import json, os, sys
n = int(sys.argv[1])
j = json.load(open("plan.json"))
media = j["media"]
assert len(media) == n, (len(media), n)
for i, m in enumerate(media, 1):
    d = os.path.join("b", m["dir"])
    assert m["medium"] == i and m["dir"] == "disc%02d" % i, m
    names = sorted(os.listdir(d))
    assert names == sorted(m["volumes"] + ["MEDIUM.txt", "demo-2.0.0.airlock"]), (names, m)
    used = sum(-(-os.path.getsize(os.path.join(d, f)) // 4096) * 4096 for f in names)
    assert used == m["used_bytes"], (used, m)
    assert used <= 12 * 1024 * 1024, (d, used)
    assert m["used_bytes"] + m["free_bytes"] == 12 * 1024 * 1024
assert sum(len(m["volumes"]) for m in media) == j["volumes"]
PY
for d in b/disc*; do
  cmp b/disc01/$V.airlock "$d/$V.airlock" || fail "$d: its index is not disc01's"
  i=$((10#${d#b/disc}))
  grep -q "^medium $i of $n (custom" "$d/MEDIUM.txt" || fail "$d/MEDIUM.txt does not say medium $i of $n"
  for vol in "$d"/*.tar; do
    grep -q "$(basename "$vol")  $(stat -c %s "$vol") bytes  sha256 $(sha256sum "$vol" | cut -c1-64)" "$d/MEDIUM.txt" ||
      fail "$d/MEDIUM.txt does not list $(basename "$vol") with its size and SHA-256"
  done
done

"$BUNDLER" inspect b/disc02 > out.txt
grep -q "^media      $n x custom (12582912 usable bytes each)" out.txt || fail "inspect shows no media plan: $(cat out.txt)"
grep -q "^volume     $V.vol001.tar .* on disc01$" out.txt || fail "inspect does not place vol001 on disc01"

# Each medium alone, on both sides; the site key is not needed for it.
"$BUNDLER" -q verify-medium b/disc02 --trust "$T/pub.pub" > out.txt
grep -q "^ok: disc02 (medium 2 of $n) of demo 2.0.0" out.txt || fail "verify-medium: $(cat out.txt)"
grep -q "still needed from the other media: disc01 (" out.txt || fail "verify-medium names no other media: $(cat out.txt)"
"$INSTALLER" -q verify --medium "b/disc$(printf %02d "$n")" --json > out.json
python3 -c "import json,sys; j=json.load(open('out.json')); assert j['medium']==$n and j['media']==$n and j['checked'] and j['still_needed'], j" ||
  fail "verify --medium --json: $(cat out.json)"
expect_fail 2 "one medium" "$INSTALLER" -q verify --medium b/disc01 b/disc02
"$BUNDLER" -q verify b/disc0* --trust "$T/pub.pub" > /dev/null || fail "bundler verify of every medium"
# Everything copied into one directory: every volume checked, nothing needed.
mkdir all && cp b/disc*/*.tar all/ && cp b/disc01/$V.airlock all/
"$INSTALLER" -q verify --medium all > out.txt
grep -q "^ok: a directory holding volumes of several of the $n media .*: $n volume(s) checked .*; nothing else is needed" out.txt ||
  fail "verify --medium of one directory with everything: $(cat out.txt)"

# Damage on one medium is found on that medium alone, and named.
cp -r b/disc02 bad2
vol=$(ls bad2/*.tar | head -1)
flip_byte "$vol" 5000
expect_fail 3 "$(basename "$vol"): SHA-256 mismatch" "$BUNDLER" -q verify-medium bad2 --trust "$T/pub.pub"
expect_fail 3 "$(basename "$vol"): SHA-256 mismatch" "$INSTALLER" -q verify --medium bad2
rm "$vol"
expect_fail 1 "$(basename "$vol").*is missing from this medium" "$INSTALLER" -q verify --medium bad2
# A volume planted on a medium, of a name the signed index does not list.
cp -r b/disc03 planted
cp "$(ls b/disc03/*.tar | head -1)" "planted/$V.vol099.tar"
expect_fail 3 "$V\.vol099\.tar: volume not listed in the signed index" "$INSTALLER" -q verify --medium planted

# Install from the media in shuffled order, under names of the operator's.
save_state
mkdir -p mnt
for d in $(ls -d b/disc* | shuf); do
  cp -r "$d" "mnt/m$RANDOM$RANDOM"
done
mapfile -t order < <(ls -d mnt/* | shuf)
# Without one medium: exit 1 naming what to insert, nothing installed.
missing=$(grep -l "^medium 2 of" mnt/*/MEDIUM.txt | xargs dirname)
rest=()
for d in "${order[@]}"; do [ "$d" = "$missing" ] || rest+=("$d"); done
expect_fail 1 "copy or insert volume $V\.vol[0-9]+\.tar \([0-9]+ of [0-9]+, on disc02\)" "$INSTALLER" install "${rest[@]}" -q
assert_state_unchanged "install without disc02"
# A medium of another bundle among them: exit 3, nothing installed.
create_media v1.toml other 1 --media 12M > /dev/null
expect_fail 3 "not a medium of this bundle" "$INSTALLER" install "${rest[@]}" other/disc01 -q
assert_state_unchanged "install with a foreign medium"
expect_fail 2 "given twice" "$INSTALLER" install "${order[@]}" "${order[0]}" -q
"$INSTALLER" install "${order[@]}" -q > /dev/null
for f in m2/*; do
  cmp "$f" "$AIRLOCK_ROOT/deployments/demo/2.0.0/model/$(basename "$f")" || fail "installed $(basename "$f") differs"
done
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 2.0.0 ] || fail "2.0.0 not active"

# Plans that cannot be met are refused before anything is left in -o.
expect_fail 1 "needs more than 2 custom media" create_media v2.toml small 3 --media 12M --media-count-max 2
[ -z "$(ls -A small 2>/dev/null)" ] || fail "a refused plan left $(ls -A small)"
expect_fail 2 "not a medium" create_media v2.toml x 4 --media floppy
expect_fail 2 "below the smallest medium" create_media v2.toml x 4 --media 5M
expect_fail 2 "--media-count-max needs --media" create_media v2.toml x 4 --media-count-max 3
expect_fail 1 "already holds disc[0-9]+/" create_media v2.toml b 5 --media 12M
pass "$n media of 12M: each checked alone, installed from shuffled directories, refusals named"

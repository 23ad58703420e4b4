#!/usr/bin/env bash
# Two builds of Airlock against each other, A B A B: create, then install
# (--no-activate) into a fresh root, of one generated 1 GiB model (2 shards).
# Round 0 is a warm-up (it fills the fetch cache) and is left out of the
# medians.
#
#   bash bench/ab_builds.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [ROUNDS]
#
# Prints one line per run (build, round, create s, install s), then medians.
# For a change that must not move the figures (a restructuring, build flags).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
declare -A B=([before]=$(cd "$1" && pwd) [after]=$(cd "$2" && pwd))
ROUNDS=${3:-5}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT; cd "$W"
export AIRLOCK_CACHE="$W/cache"
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
"${B[after]}/tools/airlock-gen-safetensors" --out model --size 1G --shards 2 --seed 11 >/dev/null
printf '[deployment]\nname = "ab"\nversion = "1"\n\n[model]\nsource = "%s/model"\n' "$W" > m.toml
"${B[after]}/bundler/airlock-bundler" -q keygen --out pub >/dev/null
for r in $(seq 0 "$ROUNDS"); do
  for n in before after; do
    bb="${B[$n]}/bundler/airlock-bundler"; ii="${B[$n]}/installer/airlock-installer"
    rm -rf root out; "$ii" --root root -q init >/dev/null 2>&1; "$ii" --root root -q trust add pub.pub --name p >/dev/null
    sync; t0=$(date +%s.%N)
    "$bb" -q create m.toml -o out --sign pub.key --to root/keys/site.pub --sequence $r >/dev/null
    sync; t1=$(date +%s.%N)
    "$ii" --root root -q install out --no-activate >/dev/null
    sync; t2=$(date +%s.%N)
    printf '%s\tr%s\tcreate\t%s\tinstall\t%s\n' "$n" "$r" "$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")"
  done
done | tee runs.tsv
python3 - runs.tsv <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
rows = [r for r in rows if r[1] != "r0"]
med = {}
for n in ("before", "after"):
    med[n] = [statistics.median(float(r[k]) for r in rows if r[0] == n) for k in (3, 5)]
    print(f"{n}: create median {med[n][0]:.2f} s, install median {med[n][1]:.2f} s")
print(f"after/before: create {med['after'][0] / med['before'][0]:.3f}, install {med['after'][1] / med['before'][1]:.3f}")
PY

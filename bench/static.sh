#!/usr/bin/env bash
# The static release installer against a dynamic one on the same bundle:
# `airlock-installer install` of a 1 GiB bf16 model into a fresh root each
# round, alternating A B A B (so drift in the machine hits both alike), then
# the aarch64 installer under qemu-aarch64-static once, for the record.
#   bash bench/static.sh STATIC DYNAMIC [ROUNDS]     (default 3 rounds each)
# e.g. STATIC=dist/airlock-installer-linux-x86_64 (packaging/build-release.sh)
# and DYNAMIC=build-release/x86_64-dynamic/installer/airlock-installer (the
# same Release flags, linked against the shared libraries). The bundler and
# the generator come from BUILD_DIR (default build/). Prints one line per run
# and writes them to $BENCH_DIR/static.tsv (default bench-out/).
# Environment: SIZE (default 1G), AARCH64 (default
# dist/airlock-installer-linux-aarch64; empty skips it), QUIET_MAX_S.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
A="$(realpath "${1:?usage: bench/static.sh STATIC DYNAMIC [ROUNDS]}")"
B="$(realpath "${2:?usage: bench/static.sh STATIC DYNAMIC [ROUNDS]}")"
ROUNDS="${3:-3}"
SIZE="${SIZE:-1G}"
BUILD_DIR="${BUILD_DIR:-$REPO/build}"
BENCH_DIR="${BENCH_DIR:-$REPO/bench-out}"
AARCH64="${AARCH64-$REPO/dist/airlock-installer-linux-aarch64}"
BUNDLER="$BUILD_DIR/bundler/airlock-bundler"
GEN="$BUILD_DIR/tools/airlock-gen-safetensors"
W="$BENCH_DIR/static"
rm -rf "$W"
mkdir -p "$W"
OUT="$BENCH_DIR/static.tsv"
printf 'installer\tround\tseconds\tuser_s\tsys_s\tother_cpu_s\n' > "$OUT"

HZ=$(getconf CLK_TCK)
busy_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
# Before each run wait (at most QUIET_MAX_S, default 120) until the rest of
# the machine uses under 0.2 of a core over half a second.
quiet_wait() {
  local waited=0 b0 b1
  while [ "$waited" -lt $(( 2 * ${QUIET_MAX_S:-120} )) ]; do
    b0=$(busy_jiffies); sleep 0.5; b1=$(busy_jiffies)
    [ $(( (b1 - b0) * 10 )) -lt $(( HZ * 1 )) ] && return 0
    waited=$((waited + 1))
  done
}

echo "== model ($SIZE), site root, bundle"
"$GEN" --out "$W/model" --size "$SIZE" --shards 2 --seed 1 >/dev/null
"$BUNDLER" keygen --out "$W/pub" >/dev/null
"$A" --root "$W/template" init >/dev/null 2>&1
"$A" --root "$W/template" trust add "$W/pub.pub" --name publisher >/dev/null
printf '[deployment]\nname = "bench"\nversion = "1.0.0"\n\n[model]\nsource = "%s"\n' "$W/model" > "$W/m.toml"
"$BUNDLER" create "$W/m.toml" -o "$W/bundle" --sign "$W/pub.key" --to "$W/template/keys/site.pub" \
  --sequence 1 -q >/dev/null

# run NAME ROUND CMD...: install the bundle into a fresh copy of the template root.
run() {
  local name=$1 round=$2; shift 2
  local root="$W/root" tf="$W/time.txt"
  chmod -R u+w "$root" 2>/dev/null || true
  rm -rf "$root"
  cp -a "$W/template" "$root"
  sync
  quiet_wait
  local b0 b1
  b0=$(busy_jiffies)
  /usr/bin/time -o "$tf" -f '%e %U %S' "$@" --root "$root" install "$W/bundle" -q >/dev/null
  b1=$(busy_jiffies)
  local secs us ss other
  read -r secs us ss < <(tail -n 1 "$tf")
  other=$(awk -v b="$((b1 - b0))" -v hz="$HZ" -v u="$us" -v s="$ss" 'BEGIN {o = b / hz - u - s; printf "%.2f", (o < 0 ? 0 : o)}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$secs" "$us" "$ss" "$other" >> "$OUT"
  printf '   %-16s r%s %7ss  user %6ss  sys %6ss  other cpu %6ss\n' "$name" "$round" "$secs" "$us" "$ss" "$other"
  cmp "$W/model/config.json" "$root/deployments/bench/current/model/config.json"
}

echo "== install, A B x $ROUNDS (A: $A, B: $B)"
for r in $(seq 1 "$ROUNDS"); do
  run static "$r" "$A"
  run dynamic "$r" "$B"
done
if [ -n "$AARCH64" ] && [ -f "$AARCH64" ]; then
  echo "== install, aarch64 under qemu-aarch64-static (for the record)"
  run aarch64-qemu 1 qemu-aarch64-static "$AARCH64"
fi
python3 - "$OUT" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = {}
for r in rows:
    by.setdefault(r["installer"], []).append(float(r["seconds"]))
for k, v in by.items():
    print(f"   {k:16s} median {statistics.median(v):.2f} s over {len(v)} run(s): {' '.join(f'{x:.2f}' for x in v)}")
if "static" in by and "dynamic" in by:
    s, d = statistics.median(by["static"]), statistics.median(by["dynamic"])
    print(f"   static / dynamic = {s / d:.3f}")
PY
chmod -R u+w "$W" 2>/dev/null || true
rm -rf "$W/root" "$W/template"

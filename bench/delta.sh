#!/usr/bin/env bash
# Delta bundles: bytes on media and install time for a new version given the
# version the site has, three ways: the full bundle, chunk dedup only
# (create --base --no-xor) and the XOR delta (create --base).
#
#   bash bench/delta.sh [SIZE]     # default 1G: the base model's tensor bytes (bf16)
#
# Pairs (base -> new), all generated (airlock-gen-safetensors, seed 1):
#   tune_all   every value of every tensor perturbed as fine-tuning does:
#              w' = bf16(w + e), e ~ N(0, (0.01 |w|)^2)
#   tune10     the same on about 10 % of the tensors, the rest unchanged
#   engine     the model unchanged, the engine files (64 MiB, random) replaced
# Install: into a copy of a root holding the base, wall seconds of
# `airlock-installer install`, median of ROUNDS (default 3).
# Environment: BENCH_DIR (default REPO/bench-out), BUILD_DIR (default REPO/build), ROUNDS.
# A benchmark, not a test. Results: bench/RESULTS.md.
set -euo pipefail
SIZE="${1:-1G}"
ROUNDS="${ROUNDS:-3}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$REPO/bench-out}"
BUILD_DIR="${BUILD_DIR:-$REPO/build}"
D="$BENCH_DIR/delta-$SIZE"
rm -rf "$D/bundles" "$D/roots" "$D/cache"
mkdir -p "$D/bundles" "$D/roots"
if ! [ -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$BUILD_DIR" airlock-gen-safetensors airlock-bundler airlock-installer >/dev/null
GEN="$BUILD_DIR/tools/airlock-gen-safetensors"
BUNDLER="$BUILD_DIR/bundler/airlock-bundler"
INSTALLER="$BUILD_DIR/installer/airlock-installer"
export AIRLOCK_CACHE="$D/cache" NO_COLOR=1

gen() { [ -d "$D/$1" ] || "$GEN" --out "$D/$1" --size "$SIZE" --seed 1 "${@:2}" >/dev/null; }
gen base
gen tune_all --perturb 0.01 --perturb-seed 7
gen tune10 --perturb 0.01 --perturb-seed 7 --perturb-fraction 0.1
for e in engine1 engine2; do
  [ -d "$D/$e" ] || { mkdir -p "$D/$e"; head -c $((64 << 20)) /dev/urandom > "$D/$e/engine.bin"; echo "$e" > "$D/$e/run.sh"; }
done
manifest() {  # FILE VERSION MODEL ENGINE
  printf '[deployment]\nname = "bench"\nversion = "%s"\n\n[model]\nsource = "%s"\n\n[[files]]\nsource = "%s"\ndest = "serve"\n' \
    "$2" "$D/$3" "$D/$4" > "$D/$1"
}
manifest base.toml 1.0.0 base engine1
manifest tune_all.toml 2.0.0 tune_all engine1
manifest tune10.toml 2.1.0 tune10 engine1
manifest engine.toml 2.2.0 base engine2

"$BUNDLER" keygen --out "$D/pub" >/dev/null 2>&1 || true
ROOT="$D/roots/base"
"$INSTALLER" --root "$ROOT" init >/dev/null 2>&1
"$INSTALLER" --root "$ROOT" trust add "$D/pub.pub" --name bench >/dev/null
create() {  # NAME MANIFEST SEQUENCE [args]
  "$BUNDLER" create "$D/$2" -o "$D/bundles/$1" --sign "$D/pub.key" --to "$ROOT/keys/site.pub" --sequence "$3" -q \
    "${@:4}" >/dev/null
}
create base base.toml 1
"$INSTALLER" --root "$ROOT" install "$D/bundles/base" -q >/dev/null  # active: files the new version keeps are hardlinked
media() { cat "$D/bundles/$1"/*.vol*.tar | wc -c; }
install_s() {  # BUNDLE: median wall seconds over ROUNDS installs into copies of ROOT
  local times=() r
  for r in $(seq "$ROUNDS"); do
    rm -rf "$D/roots/try" && cp -a "$ROOT" "$D/roots/try"
    sync
    local t0 t1
    t0=$(date +%s.%N)
    "$INSTALLER" --root "$D/roots/try" install "$D/bundles/$1" -q --no-activate >/dev/null
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p"
}
printf '%-9s %-6s %14s %8s %10s\n' pair how media_bytes ratio install_s | tee "$D/results.txt"
seq=2
for pair in tune_all tune10 engine; do
  create "$pair-full" "$pair.toml" "$seq"
  create "$pair-dedup" "$pair.toml" "$seq" --base "$D/bundles/base" --no-xor
  create "$pair-xor" "$pair.toml" "$seq" --base "$D/bundles/base"
  full=$(media "$pair-full")
  for how in full dedup xor; do
    bytes=$(media "$pair-$how")
    printf '%-9s %-6s %14d %8.3f %10.2f\n' "$pair" "$how" "$bytes" "$(echo "$bytes / $full" | bc -l)" \
      "$(install_s "$pair-$how")" | tee -a "$D/results.txt"
  done
  seq=$((seq + 1))
done
echo "changed engine bytes: $((64 << 20)); base bundle on media: $(media base)" | tee -a "$D/results.txt"

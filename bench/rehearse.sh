#!/usr/bin/env bash
# What a rehearsal costs over a plain install: wall seconds of
# `airlock-installer install BUNDLE` into a fresh root against
# `install BUNDLE --rehearse` (the same install into a scratch root inside the
# network-free sandbox, under strace -f --seccomp-bpf, plus one python3
# [activate] command), median of ROUNDS (default 3).
#
#   bash bench/rehearse.sh [SIZE]     # default 1G of bf16 tensors
#
# Environment: BENCH_DIR (default REPO/bench-out), BUILD_DIR (default REPO/build), ROUNDS.
# A benchmark, not a test. Results: bench/RESULTS.md.
set -euo pipefail
SIZE="${1:-1G}"
ROUNDS="${ROUNDS:-3}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$REPO/bench-out}"
BUILD_DIR="${BUILD_DIR:-$REPO/build}"
D="$BENCH_DIR/rehearse-$SIZE"
rm -rf "$D" && mkdir -p "$D/scratch"
if ! [ -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$BUILD_DIR" airlock-gen-safetensors airlock-bundler airlock-installer >/dev/null
B="$BUILD_DIR/bundler/airlock-bundler" I="$BUILD_DIR/installer/airlock-installer"
export AIRLOCK_CACHE="$D/cache"
"$BUILD_DIR/tools/airlock-gen-safetensors" --out "$D/model" --size "$SIZE" --seed 1 >/dev/null
"$B" keygen --out "$D/pub" >/dev/null
"$I" --root "$D/site" init >/dev/null 2>&1
"$I" --root "$D/site" trust add "$D/pub.pub" --name p >/dev/null
cat > "$D/m.toml" <<'TOML'
[deployment]
name = "bench"
version = "1.0.0"

[model]
source = "model"

[activate]
run = ["python3 -c \"import os; print(len(os.listdir('model')))\""]
TOML
"$B" create "$D/m.toml" -o "$D/bundle" --sign "$D/pub.key" --to "$D/site/keys/site.pub" --sequence 1 -q >/dev/null

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
plain=() rehearsed=()
for r in $(seq "$ROUNDS"); do
  rm -rf "$D/fresh" && "$I" --root "$D/fresh" init >/dev/null 2>&1
  cp "$D/site/keys/site.key" "$D/site/keys/site.pub" "$D/fresh/keys/"
  "$I" --root "$D/fresh" trust add "$D/pub.pub" --name p >/dev/null
  plain+=("$(seconds "$I" --root "$D/fresh" -q install "$D/bundle")")
  rc=0; "$I" --root "$D/site" -q install "$D/bundle" --rehearse --scratch "$D/scratch" >/dev/null 2>&1 || rc=$?
  [ "$rc" = 0 ] || { echo "rehearse exit $rc" >&2; exit 1; }
  rehearsed+=("$(seconds "$I" --root "$D/site" -q install "$D/bundle" --rehearse --scratch "$D/scratch")")
done
p=$(printf '%s\n' "${plain[@]}" | median) q=$(printf '%s\n' "${rehearsed[@]}" | median)
bytes=$(du -sb "$D/bundle" | cut -f1)
printf 'bundle %s bytes; install %.2f s, install --rehearse %.2f s (ratio %.2f), median of %s\n' \
  "$bytes" "$p" "$q" "$(echo "$q / $p" | bc -l)" "$ROUNDS"

#!/usr/bin/env bash
# Deduplication across model versions: the bytes of a new version that a
# chunk-deduplicating bundle would still ship, given the old version, with the
# bundler's chunking (fixed 1 MiB cuts inside tensors, FastCDC elsewhere) and
# with FastCDC everywhere (the first bundles' chunking), and the CPU time the
# chunker and chunk ids took for each. Plaintext bytes, before compression.
#
#   bash bench/dedup.sh [SIZE]     # default 1G: the base model's tensor bytes
#
# Version pairs (old -> new), all generated (airlock-gen-safetensors, seed 1):
#   header   every shard's header edited (a __metadata__ entry): all offsets move
#   tensor   one tensor's values redrawn
#   added    one tensor added in front of the others in shard 1: all offsets move
#   reshard  the same tensors over 3 shards instead of 2
#   tune10   about 10 % of the matrices redrawn (--changed 0.1)
# Environment: BENCH_DIR (default REPO/bench-out), BUILD_DIR (default REPO/build).
# A benchmark, not a test. Results: bench/RESULTS.md.
set -euo pipefail
SIZE="${1:-1G}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$REPO/bench-out}"
BUILD_DIR="${BUILD_DIR:-$REPO/build}"
D="$BENCH_DIR/dedup-$SIZE"
mkdir -p "$D"
if ! [ -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja -DAIRLOCK_BUILD_TESTS=ON >/dev/null
fi
ninja -C "$BUILD_DIR" airlock-gen-safetensors airlock-chunk-stats >/dev/null
GEN="$BUILD_DIR/tools/airlock-gen-safetensors"
STATS="$BUILD_DIR/tools/airlock-chunk-stats"

gen() { [ -d "$D/$1" ] || "$GEN" --out "$D/$1" --size "$SIZE" --seed 1 --files-only-weights "${@:2}" >/dev/null; }
gen base --shards 2
gen reshard --shards 3
gen tune10 --shards 2 --changed 0.1 --changed-seed 2

# Edits of base/ as another writer would make them (rewritten safetensors).
edit() {
  local name="$1" how="$2"
  [ -d "$D/$name" ] && return
  rm -rf "$D/$name.tmp" && mkdir -p "$D/$name.tmp"
  python3 - "$D/base" "$D/$name.tmp" "$how" <<'PY'
import json, os, random, struct, sys
src, dst, how = sys.argv[1:4]
shards = sorted(f for f in os.listdir(src) if f.endswith('.safetensors'))
for i, name in enumerate(shards):
    with open(os.path.join(src, name), 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    meta = header.pop('__metadata__', None)
    tensors = sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0])
    blobs = [(k, v, bytes(data[v['data_offsets'][0]:v['data_offsets'][1]])) for k, v in tensors]
    if how == 'header':
        meta = dict(meta or {}, format='pt', edited_by='bench/dedup.sh')
    elif how == 'tensor' and i == 0:
        k, v, b = max(blobs, key=lambda t: len(t[2]))  # the largest tensor of shard 1
        rnd = random.Random(7)
        j = blobs.index((k, v, b))
        blobs[j] = (k, v, rnd.randbytes(len(b)))
    elif how == 'added' and i == 0:
        h = blobs[0][1]['shape'][-1]
        rnd = random.Random(8)
        blobs.insert(0, ('model.extra_norm.weight', {'dtype': 'BF16', 'shape': [h]},
                         rnd.randbytes(2 * h)))
    out, at = {}, 0
    if meta is not None:
        out['__metadata__'] = meta
    for k, v, b in blobs:
        out[k] = {'dtype': v['dtype'], 'shape': v['shape'], 'data_offsets': [at, at + len(b)]}
        at += len(b)
    text = json.dumps(out, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(os.path.join(dst, name), 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text)
        for _, _, b in blobs:
            f.write(b)
PY
  mv "$D/$name.tmp" "$D/$name"
}
edit header header
edit tensor tensor
edit added added

printf '%-8s %10s  %12s %8s %7s  %12s %8s %7s\n' pair "new MiB" "fixed: MiB" chunks "CPU s" "FastCDC: MiB" chunks "CPU s"
for pair in header tensor added reshard tune10; do
  fixed="$("$STATS" "$D/base" "$D/$pair")"
  cdc="$("$STATS" --tensor-size 0 "$D/base" "$D/$pair")"
  python3 - "$pair" "$fixed" "$cdc" <<'PY'
import json, sys
pair, f, c = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
mib = lambda b: b / 2**20
print(f"{pair:<8} {mib(f['new']['bytes']):10.1f}  {mib(f['new']['new_bytes']):12.2f} {f['new']['chunks']:8d} "
      f"{f['new']['cpu_s']:7.2f}  {mib(c['new']['new_bytes']):12.2f} {c['new']['chunks']:8d} {c['new']['cpu_s']:7.2f}")
PY
done

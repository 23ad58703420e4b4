#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/) with clang and runs each one for a
# bounded time, starting from seed inputs made here (a real bundle's index and
# volume, the sample manifests, a generated safetensors header).
#
#   bash scripts/fuzz.sh             # 20 s per harness (what CI runs)
#   bash scripts/fuzz.sh 600         # 10 minutes per harness
#   bash scripts/fuzz.sh 60 codec    # only the named harnesses
#
# Corpora grow in build-fuzz/corpus/NAME and are reused by the next run.
# A crash stops that harness, leaves its input as build-fuzz/artifacts/NAME-*,
# and makes the script exit 1. Summary lines: harness, executions, seconds,
# corpus size, crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
SECS="${1:-20}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(codec index payload manifest volume tar safetensors sources have_list)

packaging/install-deps.sh
CXX_FUZZ="${CXX_FUZZ:-clang++-16}"
command -v "$CXX_FUZZ" >/dev/null || { echo "fuzz.sh: $CXX_FUZZ not found" >&2; exit 1; }

B="$REPO/build-fuzz"
cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$CXX_FUZZ" \
  -DAIRLOCK_FUZZ=ON -DAIRLOCK_BUILD_TESTS=ON >/dev/null
cmake --build "$B" -j"$(nproc)" --target airlock-bundler airlock-installer airlock-gen-safetensors \
  $(printf 'fuzz_%s ' "${TARGETS[@]}")

# ---- seeds (made fresh each run; small)
S="$B/seeds"
rm -rf "$S" && mkdir -p "$S"/{codec,index,payload,manifest,volume,tar,safetensors,sources,have_list}
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
export ASAN_OPTIONS="detect_leaks=0"
"$B/tools/airlock-gen-safetensors" --out "$W/model" --size 256K --shards 1 --seed 7 >/dev/null
"$B/bundler/airlock-bundler" -q keygen --out "$W/pub" >/dev/null
"$B/installer/airlock-installer" --root "$W/site" -q init >/dev/null
printf '[deployment]\nname = "seed"\nversion = "1"\n[model]\nsource = "%s"\n' "$W/model" > "$W/m.toml"
"$B/bundler/airlock-bundler" -q create "$W/m.toml" -o "$W/b" --sign "$W/pub.key" \
  --to "$W/site/keys/site.pub" --sequence 1 --volume-size 64M >/dev/null
"$B/bundler/airlock-bundler" -q create "$W/m.toml" -o "$W/u" --sign "$W/pub.key" \
  --no-encrypt --sequence 2 --volume-size 64M >/dev/null
cp "$W"/b/*.airlock "$S/index/enc"; cp "$W"/u/*.airlock "$S/index/plain"
# An index whose header lists shipped installers (create --with-installer),
# from two minimal ELF executables, x86-64 and AArch64.
mkdir -p "$W/dist"
python3 - "$W/dist" <<'PY'
import struct, sys
for arch, machine in (("x86_64", 62), ("aarch64", 183)):
    ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    ehdr += struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0x400078, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 128, 128, 0x1000)
    open(f"{sys.argv[1]}/airlock-installer-linux-{arch}", "wb").write(ehdr + phdr + bytes(8))
PY
"$B/bundler/airlock-bundler" -q create "$W/m.toml" -o "$W/i" --sign "$W/pub.key" \
  --no-encrypt --sequence 3 --volume-size 64M --with-installer "$W/dist" >/dev/null
cp "$W"/i/*.airlock "$S/index/installers"
# The volume seed: a real volume cut to its first MiB (tar header + pack start).
head -c 1048576 "$W"/b/*.vol001.tar > "$S/volume/vol"
# tar: byte 0 picks the read pattern; then tars of the shapes the reader
# must take or refuse (pax path and size records, a symlink, a GNU long name).
{ printf '\x01'; head -c 65536 "$W"/b/*.vol001.tar; } > "$S/tar/vol"
python3 - "$S/tar" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
def make(name, fmt, add):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        add(t)
    open(f"{d}/{name}", "wb").write(b"\x00" + buf.getvalue())
def reg(t, name, data=b"abc", pax=None):
    i = tarfile.TarInfo(name); i.size = len(data)
    if pax: i.pax_headers = pax
    t.addfile(i, io.BytesIO(data))
def sym(t):
    i = tarfile.TarInfo("packs/l"); i.type = tarfile.SYMTYPE; i.linkname = "/x"; t.addfile(i)
make("pax-path", tarfile.PAX_FORMAT, lambda t: reg(t, "packs/" + "p" * 150))
make("pax-size", tarfile.PAX_FORMAT, lambda t: reg(t, "packs/000000.pack", pax={"size": "3"}))
make("gnu-long", tarfile.GNU_FORMAT, lambda t: reg(t, "packs/" + "g" * 150))
make("symlink", tarfile.PAX_FORMAT, sym)
PY
cp manifests/*.toml "$S/manifest/" 2>/dev/null || true
cp "$W/m.toml" "$S/manifest/seed.toml"
head -c 4096 "$W"/model/*.safetensors > "$S/safetensors/header"
# codec: byte 0 picks the property (>= 0x80: round trip, dtype = byte % 4)
for d in 0 1 2 3; do
  { printf "\\x$(printf %x $((0x80 + d)))\\x01\\x00\\x00\\x00"; head -c 20000 "$W"/model/*.safetensors | tail -c 12000; } \
    > "$S/codec/rt$d"
done
printf 'seed' > "$S/payload/empty"
# sources: one sample of each text the connected side parses.
printf 'Package: app\nVersion: 1:2.0~rc1-1\nArchitecture: amd64\nDepends: libfoo (>= 1.0) | libalt, base:any\nFilename: pool/app.deb\nSize: 10\nSHA256: %064d\n\n' 0 \
  > "$S/sources/packages"
printf 'demo-pkg[x]==1.0 ; python_version >= "3.8" \\\n    --hash=sha256:%064d\n' 0 > "$S/sources/requirements"
printf '<a href="../../f/demo_pkg-1.0-py3-none-any.whl#sha256=%064d" data-requires-python="&gt;=3.8">x</a>\n' 0 \
  > "$S/sources/html"
printf '{"meta":{"api-version":"1.0"},"files":[{"filename":"a-1.0-py3-none-any.whl","url":"a.whl","hashes":{"sha256":"%064d"}}]}' 0 \
  > "$S/sources/json"
printf 'registry.example:5000/org/engine:v1@sha256:%064d' 0 > "$S/sources/ref"
printf '<https://hub/api/models/o/n/tree/main?cursor=x>; rel="next"' > "$S/sources/link"
# have_list: a real export (its signature by the site's key, so the first read
# stops there), and a signed part with two entries (the harness signs it).
"$B/installer/airlock-installer" --root "$W/site" -q have --export "$S/have_list/export" >/dev/null
{ printf '{"airlock_have":1,"created":1767225600,"site_key":"0123456789abcdef","signing_key":"4414f17b8d36e14d","tool":"t","deployments":[\n'
  printf '{"name":"demo","version":"1.0.0","bundle_id":"%032d","sequence":1,"active":false},\n' 0
  printf '{"name":"demo","version":"2.0.0","bundle_id":"%032d","sequence":2,"active":true}\n]}\n' 1; } > "$S/have_list/signed"

# ---- runs
mkdir -p "$B/artifacts"
status=0
printf '\n%-12s %12s %8s %8s %8s\n' harness executions seconds corpus crashes
for t in "${TARGETS[@]}"; do
  mkdir -p "$B/corpus/$t"
  log="$B/artifacts/$t.log"
  rm -f "$B/artifacts/$t-"*
  start=$(date +%s)
  set +e
  "$B/fuzz/fuzz_$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
    -print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" "$B/corpus/$t" "$S/$t" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  secs=$(( $(date +%s) - start ))
  crashes=$(find "$B/artifacts" -maxdepth 1 -name "$t-*" 2>/dev/null | wc -l)
  [ $rc -eq 0 ] || crashes=$((crashes > 0 ? crashes : 1))
  printf '%-12s %12s %8s %8s %8s\n' "$t" "$execs" "$secs" "$(ls "$B/corpus/$t" | wc -l)" "$crashes"
  if [ $rc -ne 0 ]; then
    status=1
    echo "---- $t failed (exit $rc); last lines of $log:"
    tail -n 30 "$log"
  fi
done
exit $status

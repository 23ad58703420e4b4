#!/usr/bin/env bash
# Airlock benchmark: airlock-bundler create / airlock-installer install against
# tar|zstd|age, restic, borg and cp, on generated bf16 safetensors weights.
#
#   bash bench/run.sh            # full: 256 MiB, 1 GiB, 4 GiB, 10,000 small files; 5 rounds
#   bash bench/run.sh --quick    # 256 MiB and 1 GiB only; 1 round
#
# Environment: BENCH_DIR (default REPO/bench-out), BUILD_DIR (default REPO/build),
# ROUNDS (rounds per pair; default 5, --quick 1), THREADS (passed to airlock as
# --threads; default: airlock's own default, one per core), SKIP_BUILD=1,
# QUIET_MAX_S / QUIET_TOTAL_S (wait at most this long per command / in all for
# other processes to go quiet; default 120 / 600; QUIET_MAX_S=0: never wait),
# BENCH_SIZES="256M 1G" and BENCH_HEADLINE=1G (for trying the script out),
# RSS_SIZE (the one-round memory case, default 16G in the full run; empty: none).
# Benchmarks, not tests: nothing here asserts on a timing. See bench/README.md.
set -euo pipefail

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
QUICK=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$REPO/bench-out}"
BUILD_DIR="${BUILD_DIR:-$REPO/build}"
mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"
if [ "$QUICK" = 1 ]; then
  ROUNDS="${ROUNDS:-1}"; SIZES=(256M 1G); SMALL_CASE=0
else
  ROUNDS="${ROUNDS:-5}"; SIZES=(256M 1G 4G); SMALL_CASE=1
fi
RSS_SIZE="${RSS_SIZE-$([ "$QUICK" = 1 ] || echo 16G)}"  # the memory case; RSS_SIZE= skips it
[ -n "${BENCH_SIZES:-}" ] && read -r -a SIZES <<< "$BENCH_SIZES"
SMALL_FILES="${SMALL_FILES:-10000}"
HEADLINE="${BENCH_HEADLINE:-1G}"  # the size every peer runs at
NEED_4G_KIB=$((20 * 1024 * 1024))  # free space wanted before the 4 GiB case
T0=$(date +%s)

log() { printf '\n== %s  [%ss]\n' "$*" "$(( $(date +%s) - T0 ))"; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
log "checking peer tools"
declare -A PKG=([age]=age [age-keygen]=age [zstd]=zstd [restic]=restic [borg]=borgbackup
                [tar]=tar [python3]=python3 [cmake]=cmake [ninja]=ninja-build [openssl]=openssl)
missing=()
for c in "${!PKG[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("${PKG[$c]}"); done
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
if ! [ -f "$BUILD_DIR/build.ninja" ] || ! command -v c++ >/dev/null 2>&1; then
  [ "${SKIP_BUILD:-0}" = 1 ] || bash "$REPO/packaging/install-deps.sh"
fi

# ---------------------------------------------------------------- build
B="$BUILD_DIR/bundler/airlock-bundler"
I="$BUILD_DIR/installer/airlock-installer"
G="$BUILD_DIR/tools/airlock-gen-safetensors"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building airlock ($BUILD_DIR)"
  cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja -DAIRLOCK_BUILD_TESTS=ON >/dev/null
  ninja -C "$BUILD_DIR" airlock-bundler airlock-installer airlock-gen-safetensors
fi
for x in "$B" "$I" "$G"; do [ -x "$x" ] || die "missing $x (build failed?)"; done
# Run private copies, so a rebuild of BUILD_DIR during the benchmark changes nothing.
mkdir -p "$BENCH_DIR/bin"
cp -f "$B" "$I" "$G" "$BENCH_DIR/bin/"
B="$BENCH_DIR/bin/airlock-bundler"; I="$BENCH_DIR/bin/airlock-installer"; G="$BENCH_DIR/bin/airlock-gen-safetensors"
ATHREADS=(); [ -n "${THREADS:-}" ] && ATHREADS=(--threads "$THREADS")

# ---------------------------------------------------------------- layout
DATA="$BENCH_DIR/data"; KEYS="$BENCH_DIR/keys"; W="$BENCH_DIR/work"; LOGS="$BENCH_DIR/logs"
TMP="$BENCH_DIR/tmp"
rm -rf "$W" "$LOGS" "$TMP" "$BENCH_DIR/x.dd"
rm -f "$BENCH_DIR/runs.tsv" "$BENCH_DIR/sizes.tsv" "$BENCH_DIR/env.tsv" "$BENCH_DIR/results.json"
mkdir -p "$DATA" "$KEYS" "$W" "$LOGS" "$TMP"
RUNS="$BENCH_DIR/runs.tsv"; SIZES_TSV="$BENCH_DIR/sizes.tsv"; ENV="$BENCH_DIR/env.tsv"
printf 'case\tphase\ttool\tround\tseconds\tmaxrss_kib\tuser_s\tsys_s\trc\tother_cpu_s\n' > "$RUNS"
printf 'case\twhat\tbytes\tfiles\n' > "$SIZES_TSV"
: > "$ENV"
envset() { printf '%s\t%s\n' "$1" "$2" >> "$ENV"; }

export RESTIC_PASSWORD=x BORG_PASSPHRASE=x
export RESTIC_CACHE_DIR="$TMP/restic-cache" BORG_BASE_DIR="$TMP/borg-base"

wipe() { for p in "$@"; do [ -e "$p" ] || continue; chmod -R u+w "$p" 2>/dev/null || true; rm -rf "$p"; done; }

# timed CASE PHASE TOOL ROUND -- CMD...   (wall s, max RSS KiB, user s, sys s)
timed() {
  local case="$1" phase="$2" tool="$3" round="$4"; shift 5
  local tf="$TMP/time.txt" lf="$LOGS/$case.$phase.$tool.$round.log" rc=0
  sync
  quiet_wait
  local b0 b1; b0=$(busy_jiffies)
  /usr/bin/time -o "$tf" -f '%e %M %U %S' "$@" >"$lf" 2>&1 || rc=$?
  b1=$(busy_jiffies)
  local secs rss us ss other
  read -r secs rss us ss < <(tail -n 1 "$tf")
  # CPU seconds the rest of the machine used meanwhile: all busy time minus this command's
  other=$(awk -v b="$((b1 - b0))" -v hz="$HZ" -v u="$us" -v s="$ss" 'BEGIN {o = b / hz - u - s; printf "%.2f", (o < 0 ? 0 : o)}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$phase" "$tool" "$round" \
    "$secs" "$rss" "$us" "$ss" "$rc" "$other" >> "$RUNS"
  printf '   %-8s %-7s %-20s r%s %8ss %8s KiB  other cpu %6ss%s\n' "$case" "$phase" "$tool" "$round" \
    "$secs" "$rss" "$other" "$([ "$rc" = 0 ] || echo "  FAILED rc=$rc (see $lf)")"
  if [ "$rc" != 0 ]; then tail -n 5 "$lf" | sed 's/^/      /'; fi
  return 0
}
HZ=$(getconf CLK_TCK)
busy_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
# Shared machines: before each timed command wait (at most QUIET_MAX_S, default 120)
# until the rest of the machine uses under 0.2 of a core over half a second.
# What others used during the command itself is recorded as other_cpu_s.
QUIET_WAITED=0  # half-seconds waited so far; all waits together stop at QUIET_TOTAL_S (default 600)
quiet_wait() {
  local waited=0 a b
  [ "${QUIET_MAX_S:-120}" != 0 ] || return 0
  while :; do
    a=$(busy_jiffies); sleep 0.5; b=$(busy_jiffies)
    [ $(( (b - a) * 10 )) -lt $(( HZ )) ] && break   # < 0.2 core over 0.5 s
    waited=$((waited + 1)); QUIET_WAITED=$((QUIET_WAITED + 1))
    if [ $((waited / 2)) -ge "${QUIET_MAX_S:-120}" ] || [ $((QUIET_WAITED / 2)) -ge "${QUIET_TOTAL_S:-600}" ]; then
      echo "   (machine still busy after $((waited / 2))s; running anyway)"; break
    fi
  done
  [ "$waited" -lt 2 ] || echo "   (waited ~$((waited / 2))s for other processes to go quiet)"
}
bytes_of() { du -sb "$1" | cut -f1; }
files_of() { find "$1" -type f | wc -l; }
payload_of() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}'; }

# ---------------------------------------------------------------- environment
log "recording the machine"
envset date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
envset mode "$([ "$QUICK" = 1 ] && echo quick || echo full)"
envset rounds "$ROUNDS"
envset headline "$HEADLINE"
envset nproc "$(nproc)"
envset cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
envset mem_total "$(free -h | awk '/^Mem:/ {print $2}')"
envset kernel "$(uname -r)"
envset os "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
envset fs "$(df -PT "$BENCH_DIR" | awk 'NR==2 {print $2" on "$1}')"
envset disk_free_start "$(df -Ph "$BENCH_DIR" | awk 'NR==2 {print $4}')"
envset load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
envset bench_dir "$BENCH_DIR"
envset airlock "$("$B" --version 2>&1 | head -n1) (build type $(grep -m1 '^CMAKE_BUILD_TYPE' "$BUILD_DIR/CMakeCache.txt" | cut -d= -f2))"
envset airlock_commit "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown) (working tree may hold uncommitted changes)"
envset airlock_threads "${THREADS:-default (one per core)}"
envset age "$(age --version 2>&1 | head -n1)"
envset zstd "$(zstd --version 2>&1 | grep -o "v[0-9.]*" | head -n1)"
envset restic "$(restic version 2>&1 | head -n1)"
envset borg "$(borg --version 2>&1 | head -n1)"
envset tar "$(tar --version | head -n1)"
envset openssl "$(openssl version)"

# ---------------------------------------------------------------- keys
log "keys: publisher (airlock), site root template, age identity"
if ! [ -f "$KEYS/publisher.key" ]; then "$B" -q keygen --out "$KEYS/publisher" >/dev/null; fi
if ! [ -f "$KEYS/age.key" ]; then age-keygen -o "$KEYS/age.key" 2>/dev/null; fi
AGE_RECIP="$(age-keygen -y "$KEYS/age.key")"
SITE="$KEYS/site-template"
wipe "$SITE"
"$I" --root "$SITE" -q init >/dev/null
"$I" --root "$SITE" -q trust add "$KEYS/publisher.pub" --name bench >/dev/null
SITE_PUB="$SITE/keys/site.pub"

# ---------------------------------------------------------------- data
gen_model() {  # SIZE -> $DATA/model-SIZE
  local size="$1" dir="$DATA/model-$1"
  if [ -f "$dir.complete" ]; then return; fi
  wipe "$dir"
  echo "   generating $size bf16 model (2 shards, seed 1)"
  "$G" --out "$dir" --size "$size" --shards 2 --seed 1 >/dev/null
  wipe "$dir.complete"; touch "$dir.complete"
}
gen_small() {  # -> $DATA/small-N: N files of 4-64 KiB json-wrapped text, 100 per directory
  local dir="$DATA/small-$SMALL_FILES"
  if [ -f "$dir.complete" ]; then return; fi
  wipe "$dir"
  echo "   generating $SMALL_FILES small files"
  python3 - "$dir" "$SMALL_FILES" <<'PY'
import json, os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
         for _ in range(4000)]
corpus = " ".join(rng.choices(words, k=400_000))
for i in range(n):
    d = os.path.join(root, f"d{i // 100:03d}")
    os.makedirs(d, exist_ok=True)
    size = rng.randint(4096, 65536)
    off = rng.randrange(0, len(corpus) - size)
    body = json.dumps({"id": i, "lang": "en", "tokens": size // 6, "text": corpus[off:off + size - 64]})
    with open(os.path.join(d, f"f{i:05d}.json"), "w") as f:
        f.write(body + "\n")
PY
  touch "$dir.complete"
}
manifest_model() {  # SIZE -> path
  local m="$TMP/model-$1.toml"
  printf '[deployment]\nname = "bench"\nversion = "1"\n[model]\nsource = "%s"\n' "$DATA/model-$1" > "$m"
  echo "$m"
}
manifest_small() {
  local m="$TMP/small.toml"
  printf '[deployment]\nname = "bench-small"\nversion = "1"\n[[files]]\nsource = "%s"\ndest = "data"\n' \
    "$DATA/small-$SMALL_FILES" > "$m"
  echo "$m"
}

# ---------------------------------------------------------------- one tool, one run
SEQ=$(date +%s)
# pack_TOOL CASE IN MANIFEST ROUND ; the artefact stays in $W/CASE until the next pack of that tool
pack_airlock() {
  local d="$W/$1/airlock.bundle"; wipe "$d"; SEQ=$((SEQ + 1))
  timed "$1" pack airlock "$4" -- "$B" -q create "$3" -o "$d" --sign "$KEYS/publisher.key" \
    --to "$SITE_PUB" --sequence "$SEQ" "${ATHREADS[@]}"
}
# The same with one worker thread (the scaling rows: --threads 1 against the
# default of one per core).
pack_airlock_t1() {
  local d="$W/$1/airlock-t1.bundle"; wipe "$d"; SEQ=$((SEQ + 1))
  timed "$1" pack "airlock --threads 1" "$4" -- "$B" -q create "$3" -o "$d" --sign "$KEYS/publisher.key" \
    --to "$SITE_PUB" --sequence "$SEQ" --threads 1
}
PIPE_PACK='set -o pipefail; tar -cf - -C "$1" . | zstd -1 -T0 -q | age -r "$2" > "$3"'
pack_age() {
  local o="$W/$1/out.tar.zst.age"; wipe "$o"
  timed "$1" pack "tar|zstd|age" "$4" -- bash -c "$PIPE_PACK" _ "$2" "$AGE_RECIP" "$o"
}
pack_age_fsync() {
  local o="$W/$1/out-fsync.tar.zst.age"; wipe "$o"
  timed "$1" pack "tar|zstd|age+fsync" "$4" -- bash -c "$PIPE_PACK"' && sync "$3"' _ "$2" "$AGE_RECIP" "$o"
}
pack_restic() {
  local r="$W/$1/restic.repo"; wipe "$r" "$RESTIC_CACHE_DIR"
  restic init -q -r "$r" >"$LOGS/$1.restic-init.log" 2>&1
  timed "$1" pack restic "$4" -- restic -r "$r" backup -q "$2"
}
pack_borg() {
  local r="$W/$1/borg.repo"; wipe "$r" "$BORG_BASE_DIR"
  borg init -e repokey "$r" >"$LOGS/$1.borg-init.log" 2>&1
  timed "$1" pack borg "$4" -- borg create --compression zstd,1 "$r::a" "$2"
}
# inst_TOOL CASE IN ROUND ; output removed right after the run
inst_airlock() {
  local root="$W/$1/airlock.root"; wipe "$root"; cp -a "$SITE" "$root"
  timed "$1" install airlock "$3" -- "$I" --root "$root" -q install "$W/$1/airlock.bundle" "${ATHREADS[@]}"
  wipe "$root"
}
inst_airlock_t1() {
  local root="$W/$1/airlock.root"; wipe "$root"; cp -a "$SITE" "$root"
  timed "$1" install "airlock --threads 1" "$3" -- "$I" --root "$root" -q install "$W/$1/airlock.bundle" --threads 1
  wipe "$root"
}
PIPE_INST='set -o pipefail; age -d -i "$1" "$2" | zstd -d -q | tar -x -C "$3"'
inst_age() {
  local d="$W/$1/age.dest"; wipe "$d"; mkdir -p "$d"
  timed "$1" install "tar|zstd|age" "$3" -- bash -c "$PIPE_INST" _ "$KEYS/age.key" "$W/$1/out.tar.zst.age" "$d"
  wipe "$d"
}
inst_age_fsync() {
  local d="$W/$1/age.dest"; wipe "$d"; mkdir -p "$d"
  timed "$1" install "tar|zstd|age+fsync" "$3" -- bash -c "$PIPE_INST"' && find "$3" -exec sync {} +' \
    _ "$KEYS/age.key" "$W/$1/out.tar.zst.age" "$d"
  wipe "$d"
}
inst_restic() {
  local d="$W/$1/restic.dest"; wipe "$d"; mkdir -p "$d"
  timed "$1" install restic "$3" -- restic -r "$W/$1/restic.repo" restore latest --target "$d" -q
  wipe "$d"
}
inst_borg() {
  local d="$W/$1/borg.dest"; wipe "$d"; mkdir -p "$d"
  timed "$1" install borg "$3" -- bash -c 'cd "$1" && exec borg extract "$2::a"' _ "$d" "$W/$1/borg.repo"
  wipe "$d"
}
inst_cp() {
  local d="$W/$1/cp.dest"; wipe "$d"; mkdir -p "$d"
  timed "$1" install "cp -r" "$3" -- cp -r "$2" "$d/model"
  wipe "$d"
}

# run_case CASE IN MANIFEST "pack tools" "install tools"
# Each round runs every tool once in the same order: A B C A B C ... so every
# airlock/peer pair alternates. Installs use the last round's packed artefacts.
run_case() {
  local case="$1" in="$2" man="$3" r t
  read -r -a ptools <<< "$4"; read -r -a itools <<< "$5"
  mkdir -p "$W/$case"
  printf '%s\tinput\t%s\t%s\n' "$case" "$(payload_of "$in")" "$(files_of "$in")" >> "$SIZES_TSV"
  log "$case: pack (${ptools[*]}), $ROUNDS round(s)"
  for ((r = 1; r <= ROUNDS; r++)); do for t in "${ptools[@]}"; do "pack_$t" "$case" "$in" "$man" "$r"; done; done
  local what path
  for what in airlock.bundle out.tar.zst.age restic.repo borg.repo; do
    path="$W/$case/$what"
    [ -e "$path" ] && printf '%s\t%s\t%s\t%s\n' "$case" "$what" "$(bytes_of "$path")" "$(files_of "$path")" >> "$SIZES_TSV"
  done
  wipe "$W/$case/out-fsync.tar.zst.age"
  log "$case: install (${itools[*]}), $ROUNDS round(s)"
  for ((r = 1; r <= ROUNDS; r++)); do for t in "${itools[@]}"; do "inst_$t" "$case" "$in" "$r"; done; done
  wipe "$W/$case"
}

# ---------------------------------------------------------------- cases
for size in "${SIZES[@]}"; do
  if [ "$size" = 4G ]; then
    free_kib=$(df -Pk "$BENCH_DIR" | awk 'NR==2 {print $4}')
    if [ "$free_kib" -lt "$NEED_4G_KIB" ]; then
      echo "run.sh: only $((free_kib / 1024 / 1024)) GiB free in $BENCH_DIR; the 4G case needs ~20 GiB: skipped" >&2
      envset skipped_4G "only $((free_kib / 1024 / 1024)) GiB free"
      continue
    fi
  fi
  log "data: model-$size"
  gen_model "$size"
  man=$(manifest_model "$size")
  if [ "$size" = "$HEADLINE" ]; then
    run_case "$size" "$DATA/model-$size" "$man" "airlock age restic borg age_fsync airlock_t1" \
                                                "airlock age restic borg cp age_fsync airlock_t1"
  else
    run_case "$size" "$DATA/model-$size" "$man" "airlock age" "airlock age"
  fi
done
# Memory at a size the other cases do not reach: one create and one install
# of a RSS_SIZE model (default 16G in the full run), airlock alone. The input
# is removed after create (the bundle and the installed copy must fit beside
# it otherwise), so it is generated afresh each run.
if [ -n "$RSS_SIZE" ]; then
  need_kib=$(( $(numfmt --from=iec "$RSS_SIZE") / 1024 * 28 / 10 ))
  free_kib=$(df -Pk "$BENCH_DIR" | awk 'NR==2 {print $4}')
  if [ "$free_kib" -lt "$need_kib" ]; then
    echo "run.sh: only $((free_kib / 1024 / 1024)) GiB free in $BENCH_DIR; the $RSS_SIZE memory case needs" \
      "$((need_kib / 1024 / 1024)) GiB: skipped" >&2
    envset "skipped_$RSS_SIZE" "only $((free_kib / 1024 / 1024)) GiB free"
  else
    log "data: model-$RSS_SIZE (memory case; removed after create)"
    gen_model "$RSS_SIZE"
    case="$RSS_SIZE"; mkdir -p "$W/$case"
    printf '%s\tinput\t%s\t%s\n' "$case" "$(payload_of "$DATA/model-$case")" "$(files_of "$DATA/model-$case")" >> "$SIZES_TSV"
    log "$case: pack and install (airlock), 1 round"
    pack_airlock "$case" "$DATA/model-$case" "$(manifest_model "$case")" 1
    printf '%s\t%s\t%s\t%s\n' "$case" airlock.bundle "$(bytes_of "$W/$case/airlock.bundle")" \
      "$(files_of "$W/$case/airlock.bundle")" >> "$SIZES_TSV"
    wipe "$DATA/model-$case" "$DATA/model-$case.complete"
    inst_airlock "$case" "$DATA/model-$case" 1
    wipe "$W/$case"
  fi
fi
if [ "$SMALL_CASE" = 1 ]; then
  log "data: $SMALL_FILES small files"
  gen_small
  run_case "small" "$DATA/small-$SMALL_FILES" "$(manifest_small)" "airlock age" "airlock age"
fi

# ---------------------------------------------------------------- context
log "context: disk write, single-core SHA-256 / AES-256-GCM, zstd -1 single thread"
dd_line=$(dd if=/dev/zero of="$BENCH_DIR/x.dd" bs=1M count=2048 conv=fdatasync 2>&1 | tail -n 1)
rm -f "$BENCH_DIR/x.dd"
envset ctx_dd_write "$dd_line"
envset ctx_sha256 "$(openssl speed -seconds 2 -evp sha256 -bytes 1048576 2>/dev/null | tail -n 1)"
envset ctx_aes256gcm "$(openssl speed -seconds 2 -evp aes-256-gcm -bytes 1048576 2>/dev/null | tail -n 1)"
shard=$(ls "$DATA/model-$HEADLINE"/*.safetensors | head -n 1)
envset ctx_zstd1 "$(zstd -b1 -i3 -T1 "$shard" 2>&1 | tr '\r' '\n' | grep -E 'MB/s, +[0-9.]+ MB/s' | tail -n 1 | sed 's/^ *//')"
envset load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
envset disk_free_end "$(df -Ph "$BENCH_DIR" | awk 'NR==2 {print $4}')"
envset runtime_s "$(( $(date +%s) - T0 ))"

log "report"
python3 "$REPO/bench/report.py" "$BENCH_DIR"

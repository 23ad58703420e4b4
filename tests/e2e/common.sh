# Sourced by every e2e scenario: a private temp dir, the built programs, and
# helpers that make a site, a publisher key, models and manifests, and that
# assert exit codes, messages and "nothing changed".
set -euo pipefail

: "${AIRLOCK_BUILD_DIR:?set AIRLOCK_BUILD_DIR to the build directory}"
BUNDLER="$AIRLOCK_BUILD_DIR/bundler/airlock-bundler"
# AIRLOCK_INSTALLER: another installer binary to test (the release tests give dist/...).
INSTALLER="${AIRLOCK_INSTALLER:-$AIRLOCK_BUILD_DIR/installer/airlock-installer}"
GEN="$AIRLOCK_BUILD_DIR/tools/airlock-gen-safetensors"

T="$(mktemp -d "${TMPDIR:-/tmp}/airlock-e2e.XXXXXX")"
cleanup() {
  local rc=$?
  for p in "${E2E_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  for m in "${E2E_MOUNTS[@]:-}"; do [ -n "$m" ] && umount "$m" 2>/dev/null || true; done
  chmod -R u+w "$T" 2>/dev/null || true
  rm -rf "$T"
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then echo "FAILED: $(basename "$0") (exit $rc)" >&2; fi
}
trap cleanup EXIT
E2E_MOUNTS=()
E2E_PIDS=()
cd "$T"
export AIRLOCK_ROOT="$T/root"
export AIRLOCK_CACHE="$T/cache"  # never the user's ~/.cache/airlock
export NO_COLOR=1

fail() { echo "assertion failed: $*" >&2; exit 1; }

# skip REASON...: end the scenario as skipped, not passed (exit 77, which
# ctest's SKIP_RETURN_CODE counts as such), saying why. Only at the top
# level of a script or a function it calls, never inside $(...).
skip() { echo "skip: $(basename "$0" .sh): $*"; exit 77; }

# require_tools TOOL...: skip unless every TOOL is a command on PATH.
require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
  done
}

# The test-only hooks (AIRLOCK_TEST_CRASH_AT, AIRLOCK_TEST_BACKOFF_MS) are in
# the programs only when they were built with -DAIRLOCK_TEST_HOOKS=ON, as
# scripts/test.sh builds them; release builds read no such variable.
have_test_hooks() { grep -qa AIRLOCK_TEST_CRASH_AT "$INSTALLER"; }
require_test_hooks() {
  have_test_hooks || skip "needs a build configured with -DAIRLOCK_TEST_HOOKS=ON"
}
pass() { echo "ok: $(basename "$0" .sh): $*"; }

# make_model DIR SIZE SEED [more generator args]
make_model() {
  local dir=$1 size=$2 seed=$3; shift 3
  "$GEN" --out "$dir" --size "$size" --seed "$seed" "$@" >/dev/null
}

# make_manifest FILE NAME VERSION MODEL_DIR [FILES_DIR]
make_manifest() {
  local file=$1 name=$2 version=$3 model=$4 files=${5:-}
  {
    printf '[deployment]\nname = "%s"\nversion = "%s"\n\n[model]\nsource = "%s"\n' "$name" "$version" "$model"
    if [ -n "$files" ]; then printf '\n[[files]]\nsource = "%s"\ndest = "serve"\n' "$files"; fi
  } > "$file"
}

# setup_site: publisher key pub.key/pub.pub, an initialised root that trusts it.
setup_site() {
  "$BUNDLER" keygen --out "$T/pub" >/dev/null
  "$INSTALLER" init >"$T/site.pub.out" 2>/dev/null
  "$INSTALLER" trust add "$T/pub.pub" --name publisher >/dev/null
}

# two_models SIZE1 SIZE2: setup_site, models m1 and m2 of those sizes (seeds
# 1 and 2) and manifests v1.toml and v2.toml of deployment "demo" (1.0.0 and
# 2.0.0), the set-up most scenarios start from.
two_models() {
  setup_site
  make_model m1 "$1" 1
  make_model m2 "$2" 2
  make_manifest v1.toml demo 1.0.0 m1
  make_manifest v2.toml demo 2.0.0 m2
}

# two_versions SIZE1 SIZE2 [more create args for b2]: two_models and the
# bundles b1 and b2 of its manifests (sequences 1 and 2).
two_versions() {
  local s1=$1 s2=$2; shift 2
  two_models "$s1" "$s2"
  bundle v1.toml b1 1
  bundle v2.toml b2 2 "$@"
}

# setup_roots NAME...: a publisher key pub.key/pub.pub and one initialised
# site root $T/NAME per name, each trusting it; TOS gets "--to ROOT/keys/site.pub"
# for every root, so one bundle can be addressed to all of them.
setup_roots() {
  "$BUNDLER" keygen --out "$T/pub" >/dev/null
  TOS=()
  local r
  for r in "$@"; do
    "$INSTALLER" --root "$T/$r" init >/dev/null 2>&1
    "$INSTALLER" --root "$T/$r" trust add "$T/pub.pub" --name publisher >/dev/null
    TOS+=(--to "$T/$r/keys/site.pub")
  done
}

# skip_if_sanitized WHY: skip when the programs were built with
# ASan, which refuses LD_PRELOAD libraries loaded ahead of its runtime.
skip_if_sanitized() {
  # No grep -q: with pipefail, nm's SIGPIPE would make the test look false.
  if nm "$INSTALLER" 2>/dev/null | grep ' __asan_init$' >/dev/null; then
    skip "sanitizer build ($1)"
  fi
}

# faultfs_upgrade NAME: the set-up of the fault-injection scenarios
# (tests/support/faultfs.cc, loaded with LD_PRELOAD from $SHIM): a site with
# NAME 1.0.0 installed and a bundle b2 of NAME 2.0.0 (4 MiB volumes);
# TEMPLATE is a copy of that root to start each faulty run from; WRITES and
# SYNCS are how many of each installing b2 makes under the root.
faultfs_upgrade() {
  local name=$1
  SHIM="$AIRLOCK_BUILD_DIR/tests/faultfs.so"
  [ -f "$SHIM" ] || skip "$SHIM not built"
  skip_if_sanitized "the shim would be preloaded ahead of the ASan runtime"
  setup_site
  make_model m1 2M 1
  # One 6 MiB shard: above the stager's 4 MiB, so its direct writes (and the
  # small files' solid block) are under the shim too.
  make_model m2 6M 2 --shards 1
  make_manifest v1.toml "$name" 1.0.0 m1
  make_manifest v2.toml "$name" 2.0.0 m2
  bundle v1.toml b1 1
  bundle v2.toml b2 2 --volume-size 4M
  "$INSTALLER" install b1 -q >/dev/null
  TEMPLATE="$T/template"
  cp -a "$AIRLOCK_ROOT" "$TEMPLATE"
  local count="$T/count"
  cp -a "$TEMPLATE" "$count"
  AIRLOCK_ROOT="$count" AIRLOCK_FAULT_DIR="$count" AIRLOCK_FAULT_REPORT="$T/count.txt" LD_PRELOAD="$SHIM" \
    "$INSTALLER" install b2 -q >/dev/null
  read -r _ WRITES _ SYNCS < "$T/count.txt"
  [ "$WRITES" -gt 10 ] && [ "$SYNCS" -gt 3 ] || fail "shim counted only $WRITES writes and $SYNCS syncs"
}

# bundle MANIFEST OUTDIR SEQUENCE [extra create args]: signed, encrypted to this site.
bundle() {
  local manifest=$1 out=$2 seq=$3; shift 3
  "$BUNDLER" create "$manifest" -o "$out" --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" \
    --sequence "$seq" -q "$@" >/dev/null
}

# expect_fail CODE PATTERN cmd...: the command exits with CODE and its stderr
# contains PATTERN (a grep -E expression).
expect_fail() {
  local code=$1 pattern=$2; shift 2
  local rc=0
  "$@" >"$T/last.out" 2>"$T/last.err" || rc=$?
  if [ "$rc" -ne "$code" ]; then
    cat "$T/last.err" >&2
    fail "expected exit $code, got $rc from: $*"
  fi
  grep -Eq -- "$pattern" "$T/last.err" || { cat "$T/last.err" >&2; fail "stderr lacks /$pattern/ for: $*"; }
}

# state: what an installer root looks like to a user (versions, active
# version, files and their hashes), for before/after comparisons.
state() {
  "$INSTALLER" list --json -q 2>/dev/null | grep -v installed_at || true
  if [ -d "$AIRLOCK_ROOT/deployments" ]; then
    (cd "$AIRLOCK_ROOT/deployments" && find . -path '*/current' -prune -o -type f -print0 | sort -z | xargs -0r sha256sum)
    for l in "$AIRLOCK_ROOT"/deployments/*/current; do [ -L "$l" ] && echo "$l -> $(readlink "$l")"; done
  fi
  ls -A "$AIRLOCK_ROOT/staging" 2>/dev/null || true
}
save_state() { state > "$T/state.before"; }
# model_installed MODEL VERSION CONTEXT: every file of the model directory
# MODEL is byte for byte in deployment demo's VERSION/model/.
model_installed() {
  local f
  for f in "$1"/*; do
    cmp "$f" "$AIRLOCK_ROOT/deployments/demo/$2/model/$(basename "$f")" || fail "$3: installed $(basename "$f") differs"
  done
}
# staging_clean CONTEXT: ROOT/staging holds nothing but, at most, one
# install stopped between volumes (a directory with its resume.json).
staging_clean() {
  local left; left=$(ls -A "$AIRLOCK_ROOT/staging" 2>/dev/null || true)
  [ -z "$left" ] && return 0
  [ "$(echo "$left" | wc -l)" = 1 ] && [ -f "$AIRLOCK_ROOT/staging/$left/resume.json" ] ||
    fail "$1: staging left: $left ($(ls -A "$AIRLOCK_ROOT/staging/$left" 2>/dev/null | tr '\n' ' '))"
}
assert_state_unchanged() {
  state > "$T/state.after"
  diff -u "$T/state.before" "$T/state.after" >&2 || fail "installer state changed: $*"
}

# flip_byte FILE OFFSET: invert one byte in place.
flip_byte() {
  local file=$1 off=$2
  python3 - "$file" "$off" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, 'r+b') as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xff]))
PY
}

# start_bg CMD...: run a test server in the background; cleanup kills it.
start_bg() {
  "$@" &
  E2E_PIDS+=($!)
}

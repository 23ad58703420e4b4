#!/usr/bin/env bash
# Fetch benchmark: airlock-bundler fetch from the Hugging Face Hub emulator
# (tests/support/hub_emulator.py on loopback) against curl downloading the
# same files, and what a re-run costs once the cache is warm.
#
#   bash bench/fetch.sh [SIZE]     # model size for airlock-gen-safetensors, default 1G
#
# Environment: BUILD_DIR (default REPO/build), ROUNDS (default 3).
# Prints medians: cold fetch (airlock, --parallel 4 and 1), curl (one file
# after another), warm fetch and warm create (bytes over the network, s).
# Loopback has no latency or bandwidth limit: this measures the client's own
# cost (hashing, writing, verifying), not a WAN.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE="${1:-1G}"
ROUNDS="${ROUNDS:-3}"
export AIRLOCK_BUILD_DIR="${BUILD_DIR:-$REPO/build}"
source "$REPO/tests/e2e/common.sh"
source "$REPO/tests/support/hub_setup.sh"
trap - EXIT
trap 'for p in "${E2E_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; chmod -R u+w "$T"; rm -rf "$T"' EXIT

make_hub_repo hub org/bench "$SIZE" 1
printf '{"refs": ["main"]}\n' > hub/org/bench.json
start_hub "$T/hub"
hf_manifest m.toml bench org/bench 'include = ["*.safetensors", "*.json"]'
"$BUNDLER" lock m.toml -o m.lock.json --cache "$T/lockcache" -q >/dev/null
URLS=$(python3 -c 'import json; l=json.load(open("m.lock.json")); print("\n".join(f["origin"] for s in l["sources"] for f in s["files"]))')
BYTES=$(python3 -c 'import json; l=json.load(open("m.lock.json")); print(sum(f["size"] for s in l["sources"] for f in s["files"]))')

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
timeit() { local t0; t0=$(now); "$@" >/dev/null 2>&1; awk -v a="$(now)" -v b="$t0" 'BEGIN {print a - b}'; }
calc() { awk "BEGIN {print $*}"; }
curl_all() { mkdir -p "$T/curl"; local u; while read -r u; do curl -sfL -o "$T/curl/$(basename "$u")" "$u"; done <<< "$URLS"; }

declare -a A4 A1 C W WC
for r in $(seq "$ROUNDS"); do
  rm -rf "$T/c4" "$T/c1" "$T/curl"; drop
  A4+=("$(timeit "$BUNDLER" fetch m.lock.json --cache "$T/c4" --parallel 4 -q)"); drop
  A1+=("$(timeit "$BUNDLER" fetch m.lock.json --cache "$T/c1" --parallel 1 -q)"); drop
  C+=("$(timeit curl_all)")
  : > "$HUB_LOG"
  W+=("$(timeit "$BUNDLER" fetch m.lock.json --cache "$T/c4" -q)")
  [ ! -s "$HUB_LOG" ] || { echo "warm fetch made requests:" >&2; cat "$HUB_LOG" >&2; exit 1; }
done
"$BUNDLER" keygen --out "$T/pub" >/dev/null
for r in $(seq "$ROUNDS"); do
  rm -rf "$T/b"; : > "$HUB_LOG"
  WC+=("$(timeit "$BUNDLER" create m.lock.json --cache "$T/c4" -o "$T/b" --sign "$T/pub.key" --no-encrypt -q)")
  [ ! -s "$HUB_LOG" ] || { echo "warm create made requests" >&2; exit 1; }
done
m4=$(printf '%s\n' "${A4[@]}" | median); m1=$(printf '%s\n' "${A1[@]}" | median)
mc=$(printf '%s\n' "${C[@]}" | median); mw=$(printf '%s\n' "${W[@]}" | median); mwc=$(printf '%s\n' "${WC[@]}" | median)
printf 'fetch bench: %s files, %s bytes, %s rounds (medians)\n' "$(wc -l <<< "$URLS")" "$BYTES" "$ROUNDS"
printf '  airlock fetch, cold, --parallel 4: %.2f s (%.0f MB/s)  ratio to curl %.2f\n' "$m4" "$(calc "$BYTES/$m4/1000000")" "$(calc "$m4/$mc")"
printf '  airlock fetch, cold, --parallel 1: %.2f s (%.0f MB/s)  ratio to curl %.2f\n' "$m1" "$(calc "$BYTES/$m1/1000000")" "$(calc "$m1/$mc")"
printf '  curl, one file after another:      %.2f s (%.0f MB/s)\n' "$mc" "$(calc "$BYTES/$mc/1000000")"
printf '  airlock fetch, warm cache:         %.3f s, 0 requests\n' "$mw"
printf '  airlock create from the lock, warm: %.2f s, 0 requests\n' "$mwc"

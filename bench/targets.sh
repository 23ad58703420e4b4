#!/usr/bin/env bash
# Install-targets and publish benchmark, against the peer tools a
# site would otherwise use by hand:
#   - rebuilding ROOT/hf + ROOT/images from scratch (`airlock-installer
#     targets`) against `cp -al` (a hardlink farm of the same files, the
#     cheapest possible layout) and `cp -r` (what copying into a cache costs);
#   - the same rebuild when everything is already in place (what every
#     install, rollback and gc pays);
#   - `publish --no-model` against `skopeo copy --preserve-digests` of the
#     same image to the same kind of fresh loopback registry, and `publish`
#     with the model (as an OCI artifact) in MB/s.
#
#   bash bench/targets.sh [MODEL_SIZE] [LAYER_MIB]   # defaults: 1G, 256
#
# Environment: BUILD_DIR (default REPO/build), ROUNDS (default 3). Medians.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE="${1:-1G}"
LAYER_MIB="${2:-256}"
ROUNDS="${ROUNDS:-3}"
export AIRLOCK_BUILD_DIR="${BUILD_DIR:-$REPO/build}"
source "$REPO/tests/e2e/common.sh"
source "$REPO/tests/support/oci_setup.sh"
trap - EXIT
trap 'for p in "${E2E_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; chmod -R u+w "$T"; rm -rf "$T"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
timeit() { local t0; t0=$(now); "$@" >/dev/null 2>&1; awk -v a="$(now)" -v b="$t0" 'BEGIN {print a - b}'; }
calc() { awk "BEGIN {print $*}"; }

# The deployment: a bf16 model and an engine image with one big layer.
setup_site
make_model model "$SIZE" 1
start_registry "$T/src-reg"
umoci init --layout "$T/layout" && umoci new --image "$T/layout:v1"
umoci unpack --rootless --image "$T/layout:v1" "$T/bundle" >/dev/null
mkdir -p "$T/bundle/rootfs/opt/engine"
head -c "$((LAYER_MIB << 20))" /dev/urandom > "$T/bundle/rootfs/opt/engine/blob"
umoci repack --image "$T/layout:v1" "$T/bundle" >/dev/null
push "$T/layout:v1" "$REG/engine:v1"
printf '[deployment]\nname = "bench"\nversion = "1.0.0"\n\n[model]\nsource = "model"\n\n[[image]]\nref = "%s/engine:v1"\n' "$REG" > m.toml
bundle m.toml b1 1
"$INSTALLER" install b1 -q >/dev/null
V="$AIRLOCK_ROOT/deployments/bench/1.0.0"
MODEL_BYTES=$(du -sb "$V/model" | cut -f1)
IMAGE_BYTES=$(du -sb "$V/images" | cut -f1)

declare -a TS CPAL CPR NOOP PUB SKO PUBM
for r in $(seq "$ROUNDS"); do
  rm -rf "$AIRLOCK_ROOT/hf" "$AIRLOCK_ROOT/images" "$T/cpal" "$T/cpr"; drop
  TS+=("$(timeit "$INSTALLER" targets)")
  NOOP+=("$(timeit "$INSTALLER" targets)"); drop
  CPAL+=("$(timeit cp -al "$V" "$T/cpal")"); drop
  CPR+=("$(timeit cp -r "$V" "$T/cpr")")
  start_registry "$T/site-$r-a"
  PUB+=("$(timeit "$INSTALLER" publish bench --registry "$REG" --no-model)")
  start_registry "$T/site-$r-b"
  SKO+=("$(timeit skopeo copy -q --preserve-digests --dest-tls-verify=false "oci:$V/images:$(grep -o '"[^"]*/engine:v1"' m.toml | tr -d '"')" "docker://$REG/engine:v1")")
  start_registry "$T/site-$r-c"
  PUBM+=("$(timeit "$INSTALLER" publish bench --registry "$REG")")
done
m_ts=$(printf '%s\n' "${TS[@]}" | median); m_noop=$(printf '%s\n' "${NOOP[@]}" | median)
m_cpal=$(printf '%s\n' "${CPAL[@]}" | median); m_cpr=$(printf '%s\n' "${CPR[@]}" | median)
m_pub=$(printf '%s\n' "${PUB[@]}" | median); m_sko=$(printf '%s\n' "${SKO[@]}" | median)
m_pubm=$(printf '%s\n' "${PUBM[@]}" | median)
printf 'targets bench: model %s bytes (%s files), image %s bytes, %s rounds (medians)\n' "$MODEL_BYTES" \
  "$(find "$V/model" -type f | wc -l)" "$IMAGE_BYTES" "$ROUNDS"
printf '  targets, from scratch (ROOT/hf + ROOT/images): %.3f s  ratio to cp -al %.2f\n' "$m_ts" "$(calc "$m_ts/$m_cpal")"
printf '  targets, all in place (every install/rollback): %.3f s\n' "$m_noop"
printf '  cp -al of the version (hardlink farm):          %.3f s\n' "$m_cpal"
printf '  cp -r of the version (a copy):                  %.3f s\n' "$m_cpr"
printf '  publish --no-model (image):                     %.2f s  ratio to skopeo copy %.2f\n' "$m_pub" "$(calc "$m_pub/$m_sko")"
printf '  skopeo copy --preserve-digests (same image):    %.2f s\n' "$m_sko"
printf '  publish with the model artifact:                %.2f s (%.0f MB/s of image + model)\n' "$m_pubm" \
  "$(calc "($MODEL_BYTES+$IMAGE_BYTES)/$m_pubm/1000000")"

#!/usr/bin/env bash
# The whole flow on one machine: build, make a publisher key and a site,
# bundle the sample manifest (v1.0.0 and v1.1.0), verify, install (each
# version's [activate] loads the model from the installed HF cache), upgrade,
# watch an unhealthy v1.2.0 roll itself back, roll back by hand, check; before the
# first install, a rehearsal of it with no network. Everything lands in demo-out/ (the site root is
# demo-out/root). Run from anywhere; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAIRLOCK_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$(nproc)" --target airlock-bundler airlock-installer airlock-gen-safetensors
B=build/bundler/airlock-bundler
I=build/installer/airlock-installer
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf demo-out && mkdir demo-out
export AIRLOCK_ROOT="$PWD/demo-out/root"

step "generate a 128 MiB bf16 model (v1) and a fine-tune of it (v2: ~20% of tensors changed)"
build/tools/airlock-gen-safetensors --out demo-out/model-v1 --size 128M --seed 1
build/tools/airlock-gen-safetensors --out demo-out/model-v2 --size 128M --seed 1 --changed 0.2 --changed-seed 7

step "isolated side: initialise the site (prints the site public key for the bundler)"
$I init
step "connected side: a publisher signing key"
$B keygen --out demo-out/publisher
step "isolated side: trust the publisher's public key"
$I trust add demo-out/publisher.pub --name publisher

step "connected side: bundle v1.0.0, encrypted to the site, signed, in 64 MiB volumes"
$B create manifests/demo-llm.toml -o demo-out/bundle-1.0.0 --sign demo-out/publisher.key \
  --to "$AIRLOCK_ROOT/keys/site.pub" --volume-size 64M --sequence 1
step "connected side: bundle v1.1.0"
$B create manifests/demo-llm-1.1.toml -o demo-out/bundle-1.1.0 --sign demo-out/publisher.key \
  --to "$AIRLOCK_ROOT/keys/site.pub" --volume-size 64M --sequence 2
ls -l demo-out/bundle-1.0.0
step "what the clear header says (the file list is encrypted)"
$B inspect demo-out/bundle-1.0.0
step "check signature and volume hashes before burning the media"
$B verify demo-out/bundle-1.0.0 --trust demo-out/publisher.pub

step "rehearse v1.0.0: install into a scratch root, run its [activate] with no network, list any attempt"
rc=0; $I install demo-out/bundle-1.0.0 --rehearse || rc=$?
case $rc in
  0) ;;
  4) echo "unexpected: the demo's activation tried to reach the network"; exit 1 ;;
  *) echo "(the rehearsal could not run here, exit $rc: it needs strace, iproute2's ip and user namespaces)" ;;
esac

step "isolated side: verify everything without writing, then install v1.0.0"
$I verify demo-out/bundle-1.0.0
$I install demo-out/bundle-1.0.0
step "where standard tools find it: HF cache, OCI layout, apt repo, wheelhouse (rebuilt on every switch)"
$I targets
ls -l "$AIRLOCK_ROOT/hf/models--airlock--demo-llm/snapshots/"*/
step "install v1.1.0 (unchanged files are hardlinked to v1.0.0; its [activate] runs, then its health check)"
$I install demo-out/bundle-1.1.0
$I list
step "v1.2.0 fails its health check: it rolls itself back to 1.1.0 (exit 1)"
sed -e "s|\.\./demo-out/|$PWD/demo-out/|" -e "s|\"demo-llm/serve\"|\"$PWD/manifests/demo-llm/serve\"|" \
  -e 's/^version = "1.1.0"/version = "1.2.0"/' -e 's/^health .*/health  = "false"/' -e 's/^timeout .*/timeout = "3s"/' \
  manifests/demo-llm-1.1.toml > demo-out/broken.toml
$B create demo-out/broken.toml -o demo-out/bundle-1.2.0 --sign demo-out/publisher.key \
  --to "$AIRLOCK_ROOT/keys/site.pub" --volume-size 64M --sequence 3 -q
rc=0; $I install demo-out/bundle-1.2.0 || rc=$?
[ "$rc" -eq 1 ] || { echo "unexpected: the unhealthy version did not fail (exit $rc)"; exit 1; }
readlink "$AIRLOCK_ROOT/deployments/demo-llm/current"
step "delivering the same bundle again is a no-op"
$I install demo-out/bundle-1.0.0
step "an older bundle (sequence 1 < 3) that was never installed is refused as a replay (exit 3)"
sed -e "s|\.\./demo-out/|$PWD/demo-out/|" -e "s|\"demo-llm/serve\"|\"$PWD/manifests/demo-llm/serve\"|" \
  -e 's/^version = "1.0.0"/version = "1.0.1"/' manifests/demo-llm.toml > demo-out/stale.toml
$B create demo-out/stale.toml -o demo-out/bundle-stale --sign demo-out/publisher.key \
  --to "$AIRLOCK_ROOT/keys/site.pub" --volume-size 64M --sequence 1 -q
rc=0; $I install demo-out/bundle-stale || rc=$?
[ "$rc" -eq 3 ] || { echo "unexpected: replay not refused (exit $rc)"; exit 1; }
step "roll back to 1.0.0 in one command"
$I rollback demo-llm
readlink "$AIRLOCK_ROOT/deployments/demo-llm/current"
step "re-hash every installed file against the ledger"
$I check
step "the audit trail (append-only, hash-chained)"
$I history
$I status
printf '\nDemo done. Site root: %s\n' "$AIRLOCK_ROOT"

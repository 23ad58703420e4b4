#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (what .ci/run runs):
#   1. the Catch2 unit tests and the e2e scenarios (CTest), g++ RelWithDebInfo
#      build in build/ (each library folder one unity file: cmake/Unity.cmake);
#   2. the same tests again under AddressSanitizer + UndefinedBehaviorSanitizer,
#      built with clang 16 in build-fuzz/ (the build the fuzzers use: one
#      sanitizer build serves both, and clang builds it several times faster
#      than g++ does with sanitizers);
#   3. every libFuzzer harness for a bounded time (scripts/fuzz.sh);
#   4. the release artifacts (packaging/build-release.sh: static installers
#      for x86_64 and aarch64 and the .debs in dist/) and their tests, tests/release/*.sh
#      (an empty chroot, qemu for aarch64, the ELF checks; the .debs under
#      lintian, dpkg --root and man -l), with the bundler
#      of 1 making the bundles.
# Environment: SANITIZE=0 skips 2, FUZZ_SECONDS=0 skips 3 (default 20 s per
# harness), RELEASE=0 skips 4. Any failure stops the script with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
jobs="$(nproc)"
# stage NAME: prints how long the previous stage took, then NAME.
stage_start=$SECONDS
stage() {
  if [ -n "${stage_name:-}" ]; then echo "   ($stage_name: $((SECONDS - stage_start)) s)"; fi
  stage_name=$1 stage_start=$SECONDS
  echo "== $1"
}

stage "1/4 build and test (build/)"
# -g1 (line tables and functions, no types): backtraces, at 0.75 of -g's compile time.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
  -DAIRLOCK_BUILD_TESTS=ON -DAIRLOCK_TEST_HOOKS=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" --timeout 600)

if [ "${SANITIZE:-1}" != 0 ]; then
  stage "2/4 the same tests under ASan + UBSan (build-fuzz/, clang)"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-16 \
    -DAIRLOCK_FUZZ=ON -DAIRLOCK_BUILD_TESTS=ON -DAIRLOCK_TEST_HOOKS=ON >/dev/null
  cmake --build build-fuzz -j"$jobs"
  (cd build-fuzz && ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1" \
    ctest --output-on-failure -j"$jobs" --timeout 900)
fi

if [ "${FUZZ_SECONDS:-20}" != 0 ]; then
  stage "3/4 fuzzing, ${FUZZ_SECONDS:-20} s per harness (build-fuzz/)"
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
if [ "${RELEASE:-1}" != 0 ]; then
  stage "4/4 release artifacts (dist/) and their tests (tests/release/)"
  bash packaging/build-release.sh
  export AIRLOCK_DIST_DIR="$PWD/dist" AIRLOCK_BUILD_DIR="$PWD/build" AIRLOCK_SOURCE_DIR="$PWD"
  failed=()
  for t in tests/release/*.sh tests/e2e/ldd_installer.sh tests/e2e/with_installer.sh; do
    case "$(basename "$t")" in common.sh | *_common.sh) continue ;; esac
    rc=0 t0=$SECONDS
    AIRLOCK_INSTALLER="$PWD/dist/airlock-installer-linux-x86_64" bash "$t" || rc=$?
    echo "   $t: exit $rc, $((SECONDS - t0)) s"
    case "$rc" in
      0) ;;
      77) echo "   (skipped: $t)" ;;
      *) failed+=("$t") ;;
    esac
  done
  if [ ${#failed[@]} -ne 0 ]; then
    echo "release tests failed: ${failed[*]}" >&2
    exit 1
  fi
fi
stage "all tests passed (${SECONDS} s in all)"

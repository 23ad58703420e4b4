#pragma once
// A test hook for crash safety: with AIRLOCK_TEST_CRASH_AT=STEP in the
// environment, the installer kills itself with SIGKILL (as `kill -9` or a
// power cut would stop it, no cleanup, no destructors) when it reaches the
// named step of an install. tests/e2e/crash_steps.sh walks every step and
// checks that the next command recovers and a re-run completes. Without the
// variable this does nothing; with it, it can only do what `kill -9` can.
//
// Steps, in order: staged (files created and reserved), streamed (every chunk
// written and hashed), verified (synced, hardlinked, read-only), moved
// (renamed into deployments/, not yet in the ledger), committed (ledger
// transaction done, `current` not yet switched), activated (all done),
// rotation (a bundle with a key rotation: committed and activated, the
// rotation recorded as pending but not yet applied).
//
// Compiled in only with -DAIRLOCK_TEST_HOOKS=ON (scripts/test.sh); in any
// other build it is an empty inline function and the variable is not read.

#include <string_view>

namespace airlock::installer {

#ifdef AIRLOCK_TEST_HOOKS
void crash_point(std::string_view step);
#else
inline void crash_point(std::string_view /*step*/) {}
#endif

}  // namespace airlock::installer

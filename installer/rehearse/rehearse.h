#pragma once
// install --rehearse: installs a bundle into a scratch root inside the
// network-free sandbox (installer/rehearse/sandbox.h), activation and
// health check included, exactly as `install` would (it is this installer,
// run again with --root SCRATCH), and reports every attempt the install or
// anything it started made to reach the network (strace_log.h).
//
// The scratch root is made with `init` and given this site's keys: its site
// key (to decrypt), its trusted keys, root keys, revocations and policies
// (to admit). It has no ledger history, so what depends on the site's past
// (replay, a delta's base) is not what the rehearsal shows. It lives in a
// fresh temporary folder under `scratch_parent` and is removed afterwards,
// whatever happened; ROOT itself is only read.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "installer/rehearse/strace_log.h"
#include "installer/site/os.h"
#include "installer/site/site.h"

namespace airlock::installer {

struct RehearseOptions {
  std::vector<std::string> bundles;  // the bundle, then its other media
  std::string passphrase_file;
  bool allow_unencrypted = false;
  std::string load;  // install --load
  std::size_t threads = 0;
  std::filesystem::path scratch_parent;  // empty: $TMPDIR, else /tmp
  std::filesystem::path keep_trace;      // non-empty: the strace log is also written here
  std::function<void(const std::string&)> say;
};

struct Rehearsal {
  int install_exit = 0;  // the scratch install's exit status (128 + N: signal N)
  std::vector<NetworkFinding> findings;
  std::string scratch;  // where it ran (removed since)
  double seconds = 0;
};

Result<Rehearsal> rehearse(const Site& site, const Os& os, const RehearseOptions& o);

// Exit status of `install --rehearse` when something tried the network.
inline constexpr int k_exit_network_found = 4;

}  // namespace airlock::installer

#pragma once
// The options install and verify share: the bundle, how to open it, and how
// to report.

#include <cstddef>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/base/error.h"
#include "installer/admit/gate.h"

namespace airlock::installer {

struct BundleOptions {
  std::vector<std::string> bundles;  // the bundle, then the directories of its other media
  std::string passphrase_file;
  bool allow_unencrypted = false;
  bool no_activate = false;
  std::string load;
  bool json = false;
  std::size_t threads = 0;
  bool timings = false;
};

// The gate's options from the command line (reads --passphrase-file).
Result<GateOptions> gate_options(const BundleOptions& o);
void add_bundle_options(CLI::App* cmd, BundleOptions& o);

}  // namespace airlock::installer

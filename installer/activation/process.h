#pragma once
// Runs another program (gpg, skopeo, an [activate] command) directly, with
// an argv vector and no shell: fork + execvpe, its own process group, stdin
// from /dev/null, optional deadline after which the whole group gets
// SIGTERM and, 2 s later, SIGKILL. The installer's own network-free rule
// holds: what a child does is the child's business.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/error.h"

namespace airlock::installer {

struct ProcessOptions {
  std::vector<std::pair<std::string, std::string>> env;  // set on top of ours
  std::filesystem::path cwd;                              // empty: ours
  std::optional<std::chrono::milliseconds> timeout;
  bool stdout_to_stderr = false;  // keep our stdout for results (--json)
  bool capture_output = false;    // collect stdout+stderr into ProcessResult::output
};

struct ProcessResult {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it
  bool timed_out = false;
  std::string output;  // when captured (at most the last 64 KiB)

  bool ok() const { return exit_code == 0 && signal == 0 && !timed_out; }
  // "exit status 7", "killed by signal 9", "timed out after 5 s".
  std::string describe() const;
};

// kNotFound when argv[0] cannot be executed (not on PATH, not executable),
// naming it; kInterrupted (after stopping the child's group) on Ctrl-C;
// otherwise the child's result, whatever it was.
Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// True when `name` is an executable on PATH (or a path to one).
bool program_on_path(const std::string& name);

}  // namespace airlock::installer

#pragma once
// Runs another program (gpg, gpgv, skopeo, an [activate] command) directly,
// with an argv vector and no shell: fork + execvpe, stdin from /dev/null,
// by default in its own process group with an optional deadline after which
// the whole group gets SIGTERM and, 2 s later, SIGKILL. The one way both
// programs start processes, behind a seam (ProcessRunner) so tests can stand
// in for the child (tests/support/fake_process_runner.h). The installer's own
// network-free rule holds: what a child does is the child's business.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/error.h"

namespace airlock::os {

struct ProcessOptions {
  std::vector<std::pair<std::string, std::string>> env;  // set on top of ours
  std::filesystem::path cwd;                              // empty: ours
  std::optional<std::chrono::milliseconds> timeout;
  bool stdout_to_stderr = false;  // keep our stdout for results (--json)
  bool capture_output = false;    // collect stdout+stderr into ProcessResult::output
  bool stdout_to_null = false;    // the child's stdout is /dev/null
  // Descriptors the child gets: {child_fd, parent_fd} is dup2(parent_fd,
  // child_fd) after stdin/stdout are set up (gpgv's 2 = stderr file, 3 =
  // --status-fd). The parent keeps (and closes) its own. No parent_fd may be
  // a child_fd of an earlier pair (it would be overwritten first).
  std::vector<std::pair<int, int>> fds;
  // false: the child stays in our process group, so Ctrl-C reaches it
  // directly; it is then neither signalled by us nor reported as
  // kInterrupted, and with no timeout and no capture we simply wait for it.
  bool own_process_group = true;
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

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // kNotFound when argv[0] cannot be executed (not on PATH, not executable)
  // or options.cwd does not exist, naming it; kInterrupted (after stopping
  // the child's group) on Ctrl-C when it has its own group; otherwise the
  // child's result, whatever it was. Safe to call from several threads.
  virtual Result<ProcessResult> run(const std::vector<std::string>& argv, const ProcessOptions& options) = 0;
};

// fork + execvpe, as described above.
class PosixProcessRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> run(const std::vector<std::string>& argv, const ProcessOptions& options) override;
};

// Where `name` is found as an executable on PATH (or `name` itself when it
// holds a '/' and is executable); nullopt when nowhere.
std::optional<std::filesystem::path> find_program(const std::string& name);
// True when find_program(name) finds it.
bool program_on_path(const std::string& name);

}  // namespace airlock::os

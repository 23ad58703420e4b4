#include "core/os/process_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "core/base/interrupt.h"
#include "core/fs/file.h"

extern char** environ;

namespace airlock::os {

namespace stdfs = std::filesystem;

namespace {

constexpr std::size_t k_output_cap = 64 * 1024;

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

}  // namespace

std::string ProcessResult::describe() const {
  if (timed_out) {
    return "timed out and was killed";
  }
  if (signal != 0) {
    return fmt::format("killed by signal {} ({})", signal, ::strsignal(signal));
  }
  return fmt::format("exit status {}", exit_code);
}

std::optional<stdfs::path> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? std::optional<stdfs::path>(name) : std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const std::size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    const stdfs::path candidate = stdfs::path(dir.empty() ? std::string_view(".") : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    rest.remove_prefix(colon + 1);
  }
}

bool program_on_path(const std::string& name) { return find_program(name).has_value(); }

Result<ProcessResult> PosixProcessRunner::run(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "no command to run");
  }
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  std::map<std::string, std::string> env_map;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    const std::size_t eq = kv.find('=');
    if (eq != std::string_view::npos) {
      env_map[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
  }
  for (const auto& [k, v] : options.env) {
    env_map[k] = v;
  }
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env_map) {
    std::string kv = k;
    kv += '=';
    kv += v;
    env_strings.push_back(std::move(kv));
  }
  std::vector<char*> envp;
  for (std::string& s : env_strings) {
    envp.push_back(s.data());
  }
  envp.push_back(nullptr);

  int exec_pipe[2];  // CLOEXEC: closes on a successful exec, carries errno otherwise
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    return make_error(ErrorCode::kIOError, "pipe: {}", fs::errno_text(errno));
  }
  int out_pipe[2] = {-1, -1};
  if (options.capture_output && ::pipe2(out_pipe, O_CLOEXEC) != 0) {
    close_fd(exec_pipe[0]);
    close_fd(exec_pipe[1]);
    return make_error(ErrorCode::kIOError, "pipe: {}", fs::errno_text(errno));
  }
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  std::error_code ec;
  if (cwd != nullptr && !std::filesystem::is_directory(options.cwd, ec)) {
    close_fd(exec_pipe[0]);
    close_fd(exec_pipe[1]);
    close_fd(out_pipe[0]);
    close_fd(out_pipe[1]);
    return make_error(ErrorCode::kNotFound, "cannot run '{}': directory {} does not exist", argv[0], options.cwd.string());
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    close_fd(exec_pipe[0]);
    close_fd(exec_pipe[1]);
    close_fd(out_pipe[0]);
    close_fd(out_pipe[1]);
    return make_error(ErrorCode::kIOError, "fork: {}", fs::errno_text(err));
  }
  if (pid == 0) {
    if (options.own_process_group) {
      ::setpgid(0, 0);
    }
    ::signal(SIGPIPE, SIG_DFL);
    int fail_errno = 0;
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) {
      ::dup2(null_fd, 0);
    }
    if (options.capture_output) {
      ::dup2(out_pipe[1], 1);
      ::dup2(out_pipe[1], 2);
    } else if (options.stdout_to_null) {
      const int null_out = ::open("/dev/null", O_WRONLY);
      if (null_out >= 0) {
        ::dup2(null_out, 1);
      }
    } else if (options.stdout_to_stderr) {
      ::dup2(2, 1);
    }
    for (const auto& [child_fd, parent_fd] : options.fds) {
      if (parent_fd == child_fd) {
        ::fcntl(child_fd, F_SETFD, 0);  // dup2 onto itself would keep FD_CLOEXEC (posix_spawn clears it)
      } else {
        ::dup2(parent_fd, child_fd);
      }
    }
    if (cwd != nullptr && ::chdir(cwd) != 0) {
      fail_errno = errno;
    } else {
      ::execvpe(args[0], args.data(), envp.data());
      fail_errno = errno;
    }
    ssize_t ignored = ::write(exec_pipe[1], &fail_errno, sizeof fail_errno);
    (void)ignored;
    ::_exit(127);
  }
  close_fd(exec_pipe[1]);
  close_fd(out_pipe[1]);
  if (out_pipe[0] >= 0) {
    // A daemon the child leaves behind may hold the pipe open: never block on it.
    ::fcntl(out_pipe[0], F_SETFL, ::fcntl(out_pipe[0], F_GETFL) | O_NONBLOCK);
  }
  int child_errno = 0;
  ssize_t got;
  do {
    got = ::read(exec_pipe[0], &child_errno, sizeof child_errno);
  } while (got < 0 && errno == EINTR);
  close_fd(exec_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof child_errno)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    close_fd(out_pipe[0]);
    return make_error(child_errno == ENOENT || child_errno == EACCES ? ErrorCode::kNotFound : ErrorCode::kIOError,
                      "cannot run '{}': {}", argv[0], fs::errno_text(child_errno));
  }

  ProcessResult result;
  int status = 0;
  if (!options.own_process_group && !options.timeout && out_pipe[0] < 0) {
    // In our group and nothing to watch: Ctrl-C reaches it as it reaches us.
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) {
        return make_error(ErrorCode::kIOError, "waiting for '{}': {}", argv[0], fs::errno_text(errno));
      }
    }
    if (WIFEXITED(status)) {
      result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result.signal = WTERMSIG(status);
    }
    return result;
  }
  // The child's group, or the child alone when it shares ours.
  const pid_t target = options.own_process_group ? -pid : pid;
  const auto started = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (options.timeout) {
    deadline = started + *options.timeout;
  }
  auto kill_at = std::chrono::steady_clock::time_point::max();  // SIGKILL the group then
  bool interrupted = false;
  while (true) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      break;
    }
    if (w < 0 && errno != EINTR) {
      return make_error(ErrorCode::kIOError, "waiting for '{}': {}", argv[0], fs::errno_text(errno));
    }
    const auto now = std::chrono::steady_clock::now();
    if (deadline && now >= *deadline && !result.timed_out && !interrupted) {
      result.timed_out = true;
      ::kill(target, SIGTERM);
      kill_at = now + std::chrono::seconds(2);
    }
    if (options.own_process_group && interrupt_requested() && !interrupted && !result.timed_out) {
      interrupted = true;  // Ctrl-C reaches our group, not the child's: pass it on
      ::kill(-pid, SIGTERM);
      kill_at = now + std::chrono::seconds(2);
    }
    if (now >= kill_at) {
      ::kill(target, SIGKILL);
      kill_at = std::chrono::steady_clock::time_point::max();
    }
    // Drain output while waiting (a full pipe would block the child).
    if (out_pipe[0] >= 0) {
      pollfd p{out_pipe[0], POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) {
        char buf[8192];
        const ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
        if (n > 0) {
          result.output.append(buf, static_cast<std::size_t>(n));
          if (result.output.size() > 2 * k_output_cap) {
            result.output.erase(0, result.output.size() - k_output_cap);
          }
        } else if (n == 0) {
          close_fd(out_pipe[0]);
        }
      }
    } else {
      ::usleep(20'000);
    }
  }
  if (out_pipe[0] >= 0) {
    char buf[8192];
    ssize_t n;
    while ((n = ::read(out_pipe[0], buf, sizeof buf)) > 0) {
      result.output.append(buf, static_cast<std::size_t>(n));
    }
    close_fd(out_pipe[0]);
  }
  if (result.output.size() > k_output_cap) {
    result.output.erase(0, result.output.size() - k_output_cap);
  }
  if (interrupted) {
    return make_error(ErrorCode::kInterrupted, "interrupted while '{}' ran (it was stopped)", argv[0]);
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace airlock::os

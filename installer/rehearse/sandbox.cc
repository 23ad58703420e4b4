#include "installer/rehearse/sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/fs/file.h"
#include "core/os/process_runner.h"

namespace airlock::installer {

namespace stdfs = std::filesystem;

namespace {

// Folders whose sockets let a process ask a daemon outside the namespace to
// resolve a name for it; each existing one is covered by an empty tmpfs.
constexpr const char* k_resolver_dirs[] = {"/run/nscd", "/var/run/nscd", "/run/systemd/resolve"};

// What the sandbox child needs, as plain C strings made before fork().
struct ChildPlan {
  std::vector<std::string> strace_args;
  std::string ip;
  std::string resolv_conf;    // our file
  std::string resolv_target;  // where /etc/resolv.conf leads, resolved before the tmpfs mounts
  std::vector<std::string> hidden_dirs;
  std::string outer_uid_map, outer_gid_map, inner_uid_map, inner_gid_map;
  bool nested = false;  // not root: map the user back to itself
};

// In the child only: report `what` and errno on the error pipe, then exit.
[[noreturn]] void child_fail(int fd, const char* what, int err) {
  const std::string msg = err ? fmt::format("{}: {}", what, std::strerror(err)) : std::string(what);
  [[maybe_unused]] ssize_t n = ::write(fd, msg.data(), msg.size());
  ::_exit(127);
}

bool write_proc(const char* path, const std::string& text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

void map_ids(int err_fd, const std::string& uid_map, const std::string& gid_map) {
  if (!write_proc("/proc/self/setgroups", "deny")) {
    child_fail(err_fd, "writing /proc/self/setgroups", errno);
  }
  if (!write_proc("/proc/self/uid_map", uid_map)) {
    child_fail(err_fd, "writing /proc/self/uid_map", errno);
  }
  if (!write_proc("/proc/self/gid_map", gid_map)) {
    child_fail(err_fd, "writing /proc/self/gid_map", errno);
  }
}

int wait_status(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return st;
}

// The interfaces of this network namespace (/proc/self/net/dev).
std::vector<std::string> interfaces() {
  std::vector<std::string> out;
  auto text = fs::read_text_file("/proc/self/net/dev", 1 << 20);
  if (!text) {
    return out;
  }
  std::size_t pos = 0;
  int line = 0;
  while (pos < text->size()) {
    std::size_t end = text->find('\n', pos);
    if (end == std::string::npos) {
      end = text->size();
    }
    const std::string row = text->substr(pos, end - pos);
    pos = end + 1;
    if (++line <= 2) {
      continue;  // the two header lines
    }
    const std::size_t colon = row.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    const std::size_t first = row.find_first_not_of(' ');
    out.push_back(row.substr(first, colon - first));
  }
  return out;
}

std::string ns_link(const std::string& pid) {
  char buf[64];
  const std::string path = "/proc/" + pid + "/ns/net";
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

bool is_traced(const std::string& pid) {
  auto status = fs::read_text_file("/proc/" + pid + "/status", 1 << 16);
  if (!status) {
    return false;
  }
  const std::size_t at = status->find("TracerPid:");
  return at != std::string::npos && std::atoi(status->c_str() + at + 10) != 0;
}

// Kills the processes in our network namespace other than this one; with
// `tracees_only`, only those strace still traces (strace then exits on its
// own, having written everything).
void kill_namespace(bool tracees_only) {
  const std::string ours = ns_link("self");
  const std::string self = std::to_string(::getpid());
  DIR* proc = ::opendir("/proc");
  if (!proc) {
    return;
  }
  while (dirent* e = ::readdir(proc)) {
    const std::string pid = e->d_name;
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos || pid == self) {
      continue;
    }
    if (ns_link(pid) != ours || (tracees_only && !is_traced(pid))) {
      continue;
    }
    ::kill(std::atoi(pid.c_str()), SIGKILL);
  }
  ::closedir(proc);
}

// The sandbox child: makes the namespaces, runs strace, cleans up, exits
// with the command's status (128 + signal when a signal ended it).
[[noreturn]] void sandbox_child(const ChildPlan& plan, int err_fd) {
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0) {
    child_fail(err_fd,
               "unshare(user, network and mount namespaces) (user namespaces may be disabled here: "
               "sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone or AppArmor's "
               "kernel.apparmor_restrict_unprivileged_userns)",
               errno);
  }
  map_ids(err_fd, plan.outer_uid_map, plan.outer_gid_map);

  const pid_t ip = ::fork();
  if (ip < 0) {
    child_fail(err_fd, "fork", errno);
  }
  if (ip == 0) {
    const char* argv[] = {plan.ip.c_str(), "link", "set", "dev", "lo", "up", nullptr};
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
    ::execv(plan.ip.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  const int ip_status = wait_status(ip);
  if (ip_status < 0 || !WIFEXITED(ip_status) || WEXITSTATUS(ip_status) != 0) {
    child_fail(err_fd, "'ip link set dev lo up' in the new network namespace failed", 0);
  }
  for (const std::string& name : interfaces()) {
    if (name != "lo") {
      child_fail(err_fd, "the new network namespace has an interface other than lo", 0);
    }
  }

  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    child_fail(err_fd, "making the mount namespace private", errno);
  }
  for (const std::string& dir : plan.hidden_dirs) {
    if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755") != 0) {
      child_fail(err_fd, "hiding a resolver daemon's socket folder under tmpfs", errno);
    }
  }
  struct stat st{};
  if (plan.resolv_target.empty()) {
    // nothing to replace
  } else if (::stat(plan.resolv_target.c_str(), &st) != 0) {
    // Its folder was one just hidden (systemd-resolved's stub file): make it there.
    const int fd = ::open(plan.resolv_target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      child_fail(err_fd, "creating the namespace's resolv.conf", errno);
    }
    ::close(fd);
  }
  if (!plan.resolv_target.empty() &&
      ::mount(plan.resolv_conf.c_str(), plan.resolv_target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    child_fail(err_fd, "binding the namespace's resolv.conf over /etc/resolv.conf", errno);
  }

  if (plan.nested) {
    if (::unshare(CLONE_NEWUSER) != 0) {
      child_fail(err_fd, "unshare(user namespace) to map the user back to itself", errno);
    }
    map_ids(err_fd, plan.inner_uid_map, plan.inner_gid_map);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // strace -D's tracer and orphans come back to us
  ::close(err_fd);                     // set-up done: the parent reads EOF

  std::vector<char*> argv;
  for (const std::string& a : plan.strace_args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  const pid_t cmd = ::fork();
  if (cmd < 0) {
    ::_exit(127);
  }
  if (cmd == 0) {
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const int status = wait_status(cmd);

  // What the command left running: first what strace traces, so that strace
  // ends by itself; then, after 10 s, everything.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    kill_namespace(std::chrono::steady_clock::now() < deadline);
    int st2 = 0;
    pid_t reaped;
    while ((reaped = ::waitpid(-1, &st2, WNOHANG)) > 0) {
    }
    if (reaped < 0 && errno == ECHILD) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (status < 0) {
    ::_exit(127);
  }
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

}  // namespace

Result<stdfs::path> find_sandbox_tool(const std::string& name) {
  if (auto p = os::find_program(name)) {
    return *p;
  }
  for (const char* dir : {"/usr/sbin", "/sbin"}) {
    const stdfs::path p = stdfs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) {
      return p;
    }
  }
  const char* package = name == "ip" ? "iproute2" : name.c_str();
  return make_error(ErrorCode::kNotFound, "a rehearsal needs '{}' (package {}), and it is not on PATH or in /usr/sbin",
                    name, package);
}

Result<SandboxResult> run_in_sandbox(const SandboxOptions& o) {
  ChildPlan plan;
  plan.strace_args = {o.strace.string(), "-D", "-f", "--seccomp-bpf", "-qq", "-e", "signal=none", "-xx", "-s",
                      "512", "-o", o.trace_log.string(), "-e",
                      "trace=connect,sendto,sendmsg,sendmmsg,execve,execveat,clone,clone3,fork,vfork", "--"};
  plan.strace_args.insert(plan.strace_args.end(), o.argv.begin(), o.argv.end());
  plan.ip = o.ip.string();
  plan.resolv_conf = o.resolv_conf.string();
  std::error_code ec;
  // No /etc/resolv.conf at all: the C library asks 127.0.0.1 already.
  if (stdfs::exists(stdfs::symlink_status("/etc/resolv.conf", ec))) {
    const stdfs::path target = stdfs::canonical("/etc/resolv.conf", ec);
    plan.resolv_target = ec ? std::string("/etc/resolv.conf") : target.string();
  }
  for (const char* dir : k_resolver_dirs) {
    if (stdfs::is_directory(dir, ec) && stdfs::canonical(dir, ec) == dir) {
      plan.hidden_dirs.push_back(dir);
    }
  }
  const uid_t uid = ::getuid();
  const gid_t gid = ::getgid();
  plan.nested = uid != 0;
  plan.outer_uid_map = fmt::format("0 {} 1\n", uid);
  plan.outer_gid_map = fmt::format("0 {} 1\n", gid);
  plan.inner_uid_map = fmt::format("{} 0 1\n", uid);
  plan.inner_gid_map = fmt::format("{} 0 1\n", gid);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return make_error(ErrorCode::kIOError, "pipe: {}", fs::errno_text(errno));
  }
  const pid_t child = ::fork();
  if (child < 0) {
    const int err = errno;
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return make_error(ErrorCode::kIOError, "fork: {}", fs::errno_text(err));
  }
  if (child == 0) {
    ::close(pipe_fds[0]);
    sandbox_child(plan, pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  std::string setup_error;
  char buf[512];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    setup_error.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  const int status = wait_status(child);
  if (!setup_error.empty()) {
    return make_error(ErrorCode::kUnsupported, "cannot make the rehearsal's network-free sandbox: {}", setup_error);
  }
  if (status < 0) {
    return make_error(ErrorCode::kIOError, "waiting for the sandbox: {}", fs::errno_text(errno));
  }
  SandboxResult r;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else {
    r.signal = WTERMSIG(status);
  }
  return r;
}

}  // namespace airlock::installer

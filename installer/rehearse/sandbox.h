#pragma once
// Runs one command, and everything it starts, where no network can be
// reached, under strace (install --rehearse, docs/ARCHITECTURE.md
// "Rehearsal"):
//   - a new user namespace (as root too: a process in it holds no
//     capability over the machine's own namespaces, so it cannot join the
//     real network namespace), a new network namespace whose only interface
//     is loopback, brought up with iproute2's `ip` so that a health check
//     can reach a server the activation started on 127.0.0.1, and a new
//     mount namespace in which /etc/resolv.conf names 127.0.0.1 (so a name
//     lookup is sent, and seen, on loopback) and the host resolver daemons'
//     sockets (nscd, systemd-resolved) are hidden under empty tmpfs;
//   - as a user other than root, a second user namespace maps the user back
//     to itself, so the command runs as that user, as the installer would;
//   - strace -f -D records connect/send* and the process tree to a log
//     (installer/rehearse/strace_log.h reads it);
//   - when the command exits, whatever it left running in the namespace is
//     killed, so a server an activation started never outlives it.
// The namespaces are made with unshare(2) and mount(2): no socket is ever
// opened by this code. If any step fails the command is not run at all
// (kUnsupported naming the step): a rehearsal never falls back to running
// with the machine's network.

#include <filesystem>
#include <string>
#include <vector>

#include "core/base/error.h"

namespace airlock::installer {

struct SandboxOptions {
  std::vector<std::string> argv;      // argv[0] is a path
  std::filesystem::path strace;       // the strace program
  std::filesystem::path ip;           // iproute2's ip
  std::filesystem::path trace_log;    // strace -o
  std::filesystem::path resolv_conf;  // the file shown as /etc/resolv.conf inside
};

struct SandboxResult {
  int exit_code = -1;  // when the command exited
  int signal = 0;      // when a signal ended it
};

// The command's stdout goes to our stderr (our stdout is for --json).
Result<SandboxResult> run_in_sandbox(const SandboxOptions& o);

// Where `ip` and `strace` are: PATH, then /usr/sbin and /sbin (a user's
// PATH often lacks them). kNotFound naming the package.
Result<std::filesystem::path> find_sandbox_tool(const std::string& name);

}  // namespace airlock::installer

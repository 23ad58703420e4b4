#pragma once
// Reads the strace log of a rehearsal (installer/rehearse/sandbox.h) into
// findings: every attempt to reach something other than loopback.
//   connect  an AF_INET/AF_INET6 connect() to an address outside 127.0.0.0/8,
//            ::1 and the unspecified address, whatever its result;
//   send     a sendto/sendmsg/sendmmsg with such a destination (UDP);
//   lookup   a DNS query (on any socket, to any server: the sandbox's
//            resolv.conf sends them to 127.0.0.1), with the name and type;
//            a connect() to port 53 of loopback by a process whose query was
//            not seen (a resolver that write()s) is a lookup without a name;
//   daemon   a successful connect() to the socket of a daemon outside the
//            namespace that reaches the network on a caller's behalf
//            (docker, containerd, podman, nscd, systemd-resolved).
// Each names the program (the file its process last executed, inherited
// across fork and clone) and its pid. Repeats of the same attempt by the
// same program are one finding with a count. The log is strace's, with -f
// (a pid on each line) and -xx (every string in \xHH form); lines it cannot
// read are skipped and the parser never fails (a truncated log is read as
// far as it goes). The log catches what engines and scripts do by accident;
// a command written to hide from it runs as the same user and could.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace airlock::installer {

struct NetworkFinding {
  std::string kind;     // "connect" | "send" | "lookup" | "daemon"
  std::string program;  // e.g. "curl", "python3.11"; "?" when its exec was not seen
  long pid = 0;         // the first process seen doing it
  std::string host;     // lookup: the name asked for; else empty
  std::string query;    // lookup: the record type (A, AAAA, ...)
  std::string address;  // the IP address or socket path; lookup: the server when known
  int port = 0;         // 0 when there is none (unix sockets)
  std::string result;   // "ok" or the errno name strace gave (ENETUNREACH, ...)
  std::uint64_t count = 1;

  // "curl (pid 12) looked up example.org (A) via 127.0.0.1:53",
  // "python3 (pid 9) tried 192.0.2.7:8443: ENETUNREACH".
  std::string describe() const;
};

std::vector<NetworkFinding> parse_strace_log(std::string_view log);

// Decodes one DNS query message (RFC 1035 §4.1: header, then the first
// question); false when `msg` is not one. `name` is dotted, without the root.
bool parse_dns_query(std::string_view msg, std::string& name, std::string& type);

}  // namespace airlock::installer

#include "installer/rehearse/strace_log.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

namespace airlock::installer {
namespace {

// A string as strace -xx prints it: "\x2f\x75...".
std::string hex(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    out += fmt::format("\\x{:02x}", c);
  }
  return out + "\"";
}

// A DNS query for `name`, type `type` (RFC 1035 §4.1).
std::string dns_query(const std::string& name, unsigned type, bool response = false) {
  std::string m = {'\x12', '\x34', static_cast<char>(response ? 0x81 : 0x01), '\x00', '\x00', '\x01',
                   '\x00', '\x00', '\x00', '\x00', '\x00', '\x00'};
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    m.push_back(static_cast<char>(dot - start));
    m += name.substr(start, dot - start);
    start = dot + 1;
  }
  m.push_back('\0');
  m += {'\x00', static_cast<char>(type), '\x00', '\x01'};
  return m;
}

std::string inet(const std::string& ip, int port) {
  return fmt::format("{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr({})}}", port, hex(ip));
}

const NetworkFinding* find(const std::vector<NetworkFinding>& fs, const std::string& kind) {
  for (const NetworkFinding& f : fs) {
    if (f.kind == kind) return &f;
  }
  return nullptr;
}

TEST_CASE("strace log: a lookup by curl's resolver thread names curl, the host, the type and the server") {
  const std::string q_a = dns_query("example.org", 1), q_aaaa = dns_query("example.org", 28);
  const std::string log =
      "761   vfork( <unfinished ...>\n"
      "762   execve(" + hex("/usr/bin/curl") + ", [" + hex("curl") + "], 0x55 /* 3 vars */ <unfinished ...>\n"
      "761   <... vfork resumed>)              = 762\n"
      "762   <... execve resumed>)             = 0\n"
      "762   clone3({flags=CLONE_VM|CLONE_THREAD, child_tid=0x7f} => {parent_tid=[763]}, 88) = 763\n"
      "763   connect(7, " + inet("127.0.0.1", 53) + ", 16) = 0\n"
      "763   sendmmsg(7, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=" + hex(q_a) +
      ", iov_len=29}], msg_iovlen=1}, msg_len=29}, {msg_hdr={msg_name=NULL, msg_iov=[{iov_base=" + hex(q_aaaa) +
      ", iov_len=29}], msg_iovlen=1}, msg_len=29}], 2, MSG_NOSIGNAL) = 2\n"
      "763   sendto(7, " + hex(q_aaaa) + ", 29, MSG_NOSIGNAL, NULL, 0) = 29\n"
      "763   sendto(6, " + hex("\x01") + ", 1, MSG_NOSIGNAL, NULL, 0) = 1\n";
  const auto fs = parse_strace_log(log);
  REQUIRE(fs.size() == 2);
  CHECK(fs[0].kind == "lookup");
  CHECK(fs[0].program == "curl");
  CHECK(fs[0].pid == 763);
  CHECK(fs[0].host == "example.org");
  CHECK(fs[0].query == "A");
  CHECK(fs[0].address == "127.0.0.1");
  CHECK(fs[0].port == 53);
  CHECK(fs[1].query == "AAAA");
  CHECK(fs[1].count == 2);
  CHECK(fs[0].describe() == "curl (pid 763) looked up example.org (A) via 127.0.0.1:53");
  CHECK(fs[1].describe() == "curl (pid 763) looked up example.org (AAAA) via 127.0.0.1:53 (2 times)");
}

TEST_CASE("strace log: connects and datagrams outside loopback are findings, loopback ones are not") {
  const std::string log =
      "40 execve(" + hex("/usr/bin/python3.11") + ", [" + hex("python3") + "], 0x1 /* 1 var */) = 0\n"
      "40 execve(" + hex("/nonexistent/python3") + ", [], 0x1) = -1 ENOENT (No such file or directory)\n"
      "40 connect(3, " + inet("192.0.2.7", 8443) + ", 16) = -1 ENETUNREACH (Network is unreachable)\n"
      "40 connect(4, " + inet("127.0.0.1", 8000) + ", 16) = 0\n"
      "40 connect(5, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, " +
      hex("2001:db8::1") + ", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH (Network is unreachable)\n"
      "40 connect(6, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, " +
      hex("::1") + ", &sin6_addr), sin6_scope_id=0}, 28) = 0\n"
      "40 sendto(7, " + hex("ntp") + ", 3, 0, " + inet("198.51.100.1", 123) + ", 16) = -1 ENETUNREACH (x)\n"
      "40 connect(3, " + inet("192.0.2.7", 8443) + ", 16) = -1 ENETUNREACH (Network is unreachable)\n";
  const auto fs = parse_strace_log(log);
  REQUIRE(fs.size() == 3);
  CHECK(fs[0].kind == "connect");
  CHECK(fs[0].program == "python3.11");  // the failed execve after it changed nothing
  CHECK(fs[0].address == "192.0.2.7");
  CHECK(fs[0].port == 8443);
  CHECK(fs[0].result == "ENETUNREACH");
  CHECK(fs[0].count == 2);
  CHECK(fs[0].describe() == "python3.11 (pid 40) tried 192.0.2.7:8443: ENETUNREACH (2 times)");
  CHECK(fs[1].address == "2001:db8::1");
  CHECK(fs[1].describe() == "python3.11 (pid 40) tried [2001:db8::1]:443: ENETUNREACH");
  CHECK(fs[2].kind == "send");
  CHECK(fs[2].address == "198.51.100.1");
  CHECK(fs[2].port == 123);
}

TEST_CASE("strace log: daemons outside the sandbox, and a resolver whose query is not seen") {
  const std::string log =
      "9 execve(" + hex("/usr/bin/docker") + ", [], 0x1) = 0\n"
      "9 connect(3, {sa_family=AF_UNIX, sun_path=" + hex("/var/run/docker.sock") + "}, 23) = 0\n"
      "9 connect(4, {sa_family=AF_UNIX, sun_path=" + hex("/var/run/nscd/socket") + "}, 110) = -1 ENOENT (x)\n"
      "9 connect(5, {sa_family=AF_UNIX, sun_path=" + hex("/tmp/app.sock") + "}, 110) = 0\n"
      "10 execve(" + hex("/usr/local/bin/gotool") + ", [], 0x1) = 0\n"
      "10 connect(3, " + inet("127.0.0.1", 53) + ", 16) = 0\n";
  const auto fs = parse_strace_log(log);
  REQUIRE(fs.size() == 2);
  const NetworkFinding* d = find(fs, "daemon");
  REQUIRE(d);
  CHECK(d->program == "docker");
  CHECK(d->address == "/var/run/docker.sock");
  const NetworkFinding* l = find(fs, "lookup");
  REQUIRE(l);
  CHECK(l->program == "gotool");
  CHECK(l->host.empty());
  CHECK(l->describe() == "gotool (pid 10) looked up a name (the query was not seen) via 127.0.0.1:53");
}

TEST_CASE("strace log: a process whose exec was not seen, and lines that are not strace's, are read safely") {
  const std::string log =
      "77 connect(3, " + inet("203.0.113.9", 80) + ", 16) = -1 ENETUNREACH (x)\n"
      "garbage\n\n12\n12 \n12 connect(\n12 connect(3, {sa_family=AF_INET, sin_port=htons(\n"
      "13 <... connect resumed>) = 0\n"
      "14 connect(3, " + inet("203.0.113.10", 81) + ", 16 <unfinished ...>\n";  // killed before it returned
  const auto fs = parse_strace_log(log);
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].program == "?");
  CHECK(fs[0].address == "203.0.113.9");
}

TEST_CASE("DNS queries: UDP and TCP forms are read, and responses, pointers and junk are not queries") {
  std::string name, type;
  CHECK(parse_dns_query(dns_query("huggingface.co", 65), name, type));
  CHECK(name == "huggingface.co");
  CHECK(type == "HTTPS");
  std::string q = dns_query("cdn-lfs.hf.co", 1);
  std::string tcp = std::string{static_cast<char>(q.size() >> 8), static_cast<char>(q.size() & 0xff)} + q;
  CHECK(parse_dns_query(tcp, name, type));
  CHECK(name == "cdn-lfs.hf.co");
  CHECK_FALSE(parse_dns_query(dns_query("example.org", 1, /*response=*/true), name, type));
  std::string pointer = q.substr(0, 12) + "\xc0\x0c" + std::string("\x00\x01\x00\x01", 4);
  CHECK_FALSE(parse_dns_query(pointer, name, type));
  CHECK_FALSE(parse_dns_query("\x01", name, type));
  CHECK_FALSE(parse_dns_query(q.substr(0, q.size() - 3), name, type));  // cut inside the question
}

}  // namespace
}  // namespace airlock::installer

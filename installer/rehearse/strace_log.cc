#include "installer/rehearse/strace_log.h"

#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace airlock::installer {

namespace {

constexpr const char* k_daemon_sockets[] = {
    "/var/run/docker.sock",     "/run/docker.sock",           "/run/containerd/containerd.sock",
    "/run/podman/podman.sock",  "/var/run/nscd/socket",       "/run/nscd/socket",
    "/run/systemd/resolve/io.systemd.Resolve"};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The C string that starts at text[pos] == '"', decoded; `end` is just past
// its closing quote (npos when there is none).
std::string decode_string(std::string_view text, std::size_t pos, std::size_t& end) {
  std::string out;
  end = std::string_view::npos;
  for (std::size_t i = pos + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      end = i + 1;
      return out;
    }
    if (c != '\\' || i + 1 >= text.size()) {
      out.push_back(c);
      continue;
    }
    const char e = text[++i];
    switch (e) {
      case 'x':
        if (i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
          out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
          i += 2;
        }
        break;
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'v': out.push_back('\v'); break;
      case 'f': out.push_back('\f'); break;
      default:
        if (e >= '0' && e <= '7') {  // octal, up to three digits
          int v = e - '0';
          for (int k = 0; k < 2 && i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '7'; ++k) {
            v = v * 8 + (text[++i] - '0');
          }
          out.push_back(static_cast<char>(v));
        } else {
          out.push_back(e);
        }
    }
  }
  return out;
}

// The decoded string after `key` (e.g. `sun_path=`), searching from `from`.
bool string_after(std::string_view text, std::string_view key, std::size_t from, std::string& out,
                  std::size_t* end_out = nullptr) {
  const std::size_t at = text.find(key, from);
  if (at == std::string_view::npos) {
    return false;
  }
  std::size_t q = text.find('"', at + key.size());
  if (q == std::string_view::npos || q > at + key.size() + 2) {
    return false;
  }
  std::size_t end;
  out = decode_string(text, q, end);
  if (end_out) {
    *end_out = end == std::string_view::npos ? text.size() : end;
  }
  return true;
}

int number_after(std::string_view text, std::string_view key, std::size_t from) {
  const std::size_t at = text.find(key, from);
  if (at == std::string_view::npos) {
    return 0;
  }
  return std::atoi(std::string(text.substr(at + key.size(), 8)).c_str());
}

struct SockAddr {
  std::string family;  // "inet" | "inet6" | "unix"
  std::string address;
  int port = 0;
};

// The socket address whose "sa_family=" is at `at`.
bool sockaddr_at(std::string_view text, std::size_t at, SockAddr& sa) {
  const std::string_view rest = text.substr(at);
  if (rest.starts_with("sa_family=AF_INET6")) {
    sa.family = "inet6";
    sa.port = number_after(rest, "sin6_port=htons(", 0);
    return string_after(rest, "inet_pton(AF_INET6, ", 0, sa.address);
  }
  if (rest.starts_with("sa_family=AF_INET")) {
    sa.family = "inet";
    sa.port = number_after(rest, "sin_port=htons(", 0);
    return string_after(rest, "sin_addr=inet_addr(", 0, sa.address);
  }
  if (rest.starts_with("sa_family=AF_UNIX") || rest.starts_with("sa_family=AF_LOCAL")) {
    sa.family = "unix";
    if (string_after(rest, "sun_path=@", 0, sa.address)) {
      sa.address = "@" + sa.address;
      return true;
    }
    return string_after(rest, "sun_path=", 0, sa.address);
  }
  return false;
}

std::vector<SockAddr> sockaddrs(std::string_view text) {
  std::vector<SockAddr> out;
  std::size_t at = 0;
  while ((at = text.find("sa_family=", at)) != std::string_view::npos) {
    SockAddr sa;
    if (sockaddr_at(text, at, sa)) {
      out.push_back(sa);
    }
    at += 10;
  }
  return out;
}

bool is_loopback(const SockAddr& sa) {
  const std::string& a = sa.address;
  if (sa.family == "inet") {
    return a.starts_with("127.") || a == "0.0.0.0";
  }
  if (sa.family == "inet6") {
    return a == "::1" || a == "::" || a.starts_with("::ffff:127.") || a == "::ffff:0.0.0.0";
  }
  return true;
}

std::string host_port(const std::string& address, int port) {
  return address.find(':') != std::string::npos ? fmt::format("[{}]:{}", address, port)
                                                 : fmt::format("{}:{}", address, port);
}

std::string type_name(unsigned t) {
  switch (t) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 255: return "ANY";
    default: return fmt::format("TYPE{}", t);
  }
}

unsigned be16(std::string_view s, std::size_t at) {
  return (static_cast<unsigned char>(s[at]) << 8) | static_cast<unsigned char>(s[at + 1]);
}

bool parse_udp_query(std::string_view m, std::string& name, std::string& type) {
  if (m.size() < 17) {
    return false;
  }
  const unsigned flags = be16(m, 2);
  if ((flags & 0x8000) != 0 || ((flags >> 11) & 0xf) != 0 || be16(m, 4) == 0) {
    return false;  // a response, another opcode, or no question
  }
  std::string out;
  std::size_t i = 12;
  while (true) {
    if (i >= m.size()) {
      return false;
    }
    const unsigned len = static_cast<unsigned char>(m[i++]);
    if (len == 0) {
      break;
    }
    if (len > 63 || i + len > m.size() || out.size() + len + 1 > 255) {
      return false;  // compression pointers never start a query's name
    }
    for (std::size_t k = 0; k < len; ++k) {
      const unsigned char c = static_cast<unsigned char>(m[i + k]);
      if (c <= 0x20 || c >= 0x7f || c == '.') {
        return false;
      }
    }
    if (!out.empty()) {
      out.push_back('.');
    }
    out.append(m.substr(i, len));
    i += len;
  }
  if (out.empty() || i + 4 > m.size() || be16(m, i + 2) != 1) {  // class IN
    return false;
  }
  name = out;
  type = type_name(be16(m, i));
  return true;
}

// "-1 ENETUNREACH (...)" -> "ENETUNREACH"; "0" -> "ok"; a count -> "ok".
std::string result_of(std::string_view ret) {
  if (ret.starts_with("-1 ")) {
    const std::size_t sp = ret.find(' ', 3);
    return std::string(ret.substr(3, sp == std::string_view::npos ? std::string_view::npos : sp - 3));
  }
  if (ret.starts_with("?")) {
    return "unfinished";
  }
  return "ok";
}

std::string basename_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

class Reader {
 public:
  void line(std::string_view raw) {
    std::size_t i = 0;
    while (i < raw.size() && raw[i] >= '0' && raw[i] <= '9') {
      ++i;
    }
    if (i == 0 || i >= raw.size() || raw[i] != ' ') {
      return;
    }
    const long pid = std::atol(std::string(raw.substr(0, i)).c_str());
    std::string text(raw.substr(i + 1));
    while (!text.empty() && text.front() == ' ') {
      text.erase(0, 1);
    }
    if (text.starts_with("---") || text.starts_with("+++")) {
      return;
    }
    constexpr std::string_view k_unfinished = " <unfinished ...>";
    if (text.ends_with(k_unfinished)) {
      m_unfinished[pid] = text.substr(0, text.size() - k_unfinished.size());
      return;
    }
    if (text.starts_with("<... ")) {
      const std::size_t r = text.find(" resumed>");
      auto it = m_unfinished.find(pid);
      if (r == std::string::npos || it == m_unfinished.end()) {
        return;
      }
      text = it->second + text.substr(r + 9);
      m_unfinished.erase(it);
    }
    syscall(pid, text);
  }

  std::vector<NetworkFinding> finish() {
    for (const auto& [pid, server] : m_dns_connects) {
      if (!m_pids_with_queries.contains(pid)) {
        add(attempt("lookup", pid, server, 53, "ok"));
      }
    }
    return std::move(m_findings);
  }

 private:
  std::string program(long pid) const {
    auto it = m_programs.find(pid);
    return it == m_programs.end() ? std::string("?") : it->second;
  }

  // An attempt by pid's program; host and query are the caller's to fill.
  NetworkFinding attempt(const char* kind, long pid, const std::string& address, int port, const std::string& result) {
    NetworkFinding f;
    f.kind = kind;
    f.pid = pid;
    f.program = program(pid);
    f.address = address;
    f.port = port;
    f.result = result;
    return f;
  }

  void add(const NetworkFinding& f) {
    const std::string key = fmt::format("{}\n{}\n{}\n{}\n{}\n{}", f.kind, f.program, f.host, f.query, f.address, f.port);
    auto it = m_index.find(key);
    if (it != m_index.end()) {
      ++m_findings[it->second].count;
      return;
    }
    m_index.emplace(key, m_findings.size());
    m_findings.push_back(f);
  }

  void query(long pid, const std::string& payload, const std::string& server) {
    std::string name, type;
    if (!parse_dns_query(payload, name, type)) {
      return;
    }
    auto last = m_last_dns_server.find(pid);
    NetworkFinding f = attempt("lookup", pid,
                               !server.empty()                  ? server
                               : last != m_last_dns_server.end() ? last->second
                                                                 : std::string(),
                               53, "ok");
    f.host = name;
    f.query = type;
    m_pids_with_queries.insert(pid);
    add(f);
  }

  void syscall(long pid, const std::string& text) {
    // NAME(ARGS) = RET, where strace pads before '=' to line results up.
    const std::size_t paren = text.find('(');
    const std::size_t eq = text.rfind(" = ");
    if (paren == std::string::npos || eq == std::string::npos || eq < paren) {
      return;
    }
    std::size_t close = eq;
    while (close > paren && text[close - 1] == ' ') {
      --close;
    }
    if (close <= paren + 0 || text[close - 1] != ')') {
      return;
    }
    const std::string name = text.substr(0, paren);
    const std::string ret = text.substr(eq + 3);
    const std::string args = text.substr(paren + 1, close - 1 - paren - 1);
    if (name == "execve" || name == "execveat") {
      std::string path;
      std::size_t q = args.find('"');
      if (ret == "0" && q != std::string::npos) {
        std::size_t end;
        path = decode_string(args, q, end);
        m_programs[pid] = basename_of(path);
      }
      return;
    }
    if (name == "clone" || name == "clone3" || name == "fork" || name == "vfork") {
      const long child = std::atol(ret.c_str());
      if (child > 0) {
        m_programs[child] = program(pid);
      }
      return;
    }
    if (name == "connect") {
      SockAddr sa;
      const std::size_t at = args.find("sa_family=");
      if (at == std::string::npos || !sockaddr_at(args, at, sa)) {
        return;
      }
      const std::string result = result_of(ret);
      if (sa.family == "unix") {
        for (const char* d : k_daemon_sockets) {
          if (sa.address == d && result == "ok") {
            add(attempt("daemon", pid, sa.address, 0, result));
          }
        }
        return;
      }
      if (sa.port == 53) {
        m_last_dns_server[pid] = sa.address;
      }
      if (is_loopback(sa)) {
        if (sa.port == 53) {
          m_dns_connects.emplace(pid, sa.address);
        }
        return;
      }
      add(attempt("connect", pid, sa.address, sa.port, result));
      return;
    }
    if (name == "sendto" || name == "sendmsg" || name == "sendmmsg") {
      const std::vector<SockAddr> dests = sockaddrs(args);
      std::string server;
      for (const SockAddr& sa : dests) {
        if (sa.family == "unix") {
          continue;
        }
        if (sa.port == 53) {
          server = sa.address;
        }
        if (is_loopback(sa)) {
          continue;
        }
        add(attempt("send", pid, sa.address, sa.port, result_of(ret)));
      }
      if (name == "sendto") {
        const std::size_t q = args.find('"');
        if (q != std::string::npos) {
          std::size_t end;
          query(pid, decode_string(args, q, end), server);
        }
      } else {
        std::size_t from = 0, end = 0;
        std::string payload;
        while (string_after(args, "iov_base=", from, payload, &end)) {
          query(pid, payload, server);
          from = end;
        }
      }
    }
  }

  std::map<long, std::string> m_unfinished;
  std::map<long, std::string> m_programs;
  std::map<long, std::string> m_last_dns_server;
  std::multimap<long, std::string> m_dns_connects;
  std::set<long> m_pids_with_queries;
  std::map<std::string, std::size_t> m_index;
  std::vector<NetworkFinding> m_findings;
};

}  // namespace

bool parse_dns_query(std::string_view msg, std::string& name, std::string& type) {
  if (parse_udp_query(msg, name, type)) {
    return true;
  }
  // Over TCP a message is preceded by its length (RFC 1035 §4.2.2).
  return msg.size() > 2 && be16(msg, 0) == msg.size() - 2 && parse_udp_query(msg.substr(2), name, type);
}

std::vector<NetworkFinding> parse_strace_log(std::string_view log) {
  Reader reader;
  std::size_t pos = 0;
  while (pos < log.size()) {
    std::size_t end = log.find('\n', pos);
    if (end == std::string_view::npos) {
      end = log.size();
    }
    reader.line(log.substr(pos, end - pos));
    pos = end + 1;
  }
  return reader.finish();
}

std::string NetworkFinding::describe() const {
  const std::string who = fmt::format("{} (pid {})", program, pid);
  const std::string times = count > 1 ? fmt::format(" ({} times)", count) : std::string();
  if (kind == "lookup") {
    const std::string via = address.empty() ? std::string() : " via " + host_port(address, port);
    if (host.empty()) {
      return fmt::format("{} looked up a name (the query was not seen){}{}", who, via, times);
    }
    return fmt::format("{} looked up {} ({}){}{}", who, host, query, via, times);
  }
  if (kind == "daemon") {
    return fmt::format("{} connected to {}, a daemon outside the sandbox that can reach the network for it{}", who,
                       address, times);
  }
  return fmt::format("{} {} {}: {}{}", who, kind == "send" ? "sent to" : "tried", host_port(address, port), result,
                     times);
}

}  // namespace airlock::installer

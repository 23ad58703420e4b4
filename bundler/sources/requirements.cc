// Requirements files in pip's hash-checking mode (pip's req_file.py).
#include "bundler/sources/requirements.h"

#include <algorithm>
#include <map>

#include <fmt/core.h>

#include "core/base/text.h"

namespace airlock::bundler::py {
namespace {

using text::is_alnum;
using text::is_space;
using text::lower;
using text::to_lower;
using text::trim;

using text::is_hex;

// pip's COMMENT_RE, r"(^|\s+)#.*$": a '#' at the start or after whitespace.
std::size_t comment_start(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || is_space(line[i - 1]))) {
      std::size_t s = i;
      while (s > 0 && is_space(line[s - 1])) {
        --s;
      }
      return s;
    }
  }
  return std::string_view::npos;
}

struct LogicalLine {
  std::size_t number;
  std::string text;
};

// pip's join_lines + ignore_comments: a line ending in '\' (and holding no
// comment) continues on the next; comments are then removed.
std::vector<LogicalLine> logical_lines(std::string_view text) {
  std::vector<LogicalLine> out;
  std::string pending;
  std::size_t pending_line = 0;
  bool open = false;
  std::size_t pos = 0;
  std::size_t number = 0;
  auto emit = [&](std::size_t n, std::string line) {
    std::size_t c = comment_start(line);
    if (c != std::string::npos) {
      line.resize(c);
    }
    std::string_view t = trim(line);
    if (!t.empty()) {
      out.push_back({n, std::string(t)});
    }
  };
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    bool has_comment = comment_start(line) != std::string_view::npos;
    if (!line.ends_with('\\') || has_comment) {
      if (open) {
        pending.append(line);
        emit(pending_line, std::move(pending));
        pending.clear();
        open = false;
      } else {
        emit(number, std::string(line));
      }
    } else {
      if (!open) {
        pending_line = number;
        open = true;
      }
      while (line.ends_with('\\')) {
        line.remove_suffix(1);
      }
      pending.append(line);
    }
  }
  if (open) {
    emit(pending_line, std::move(pending));
  }
  return out;
}

bool is_name(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

Result<Requirement> parse_requirement_line(const LogicalLine& line, std::string_view file) {
  auto fail = [&](std::string_view why) {
    return make_error(ErrorCode::kInvalidArgument, "{}:{}: {}", file, line.number, why);
  };
  std::vector<std::string_view> tokens = text::split_words(line.text);
  // pip's break_args_options: the requirement ends at the first token starting with '-'.
  std::size_t first_option = tokens.size();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].starts_with('-')) {
      first_option = i;
      break;
    }
  }
  if (first_option == 0) {
    return fail(fmt::format(
        "option line '{}' is not supported: a [[wheels]] requirements file holds only pinned requirements with "
        "--hash; the index comes from the manifest (no -r, -c, -e, --index-url, --extra-index-url, --find-links)",
        line.text));
  }
  std::string req_text;
  for (std::size_t i = 0; i < first_option; ++i) {
    req_text += (i > 0 ? " " : "") + std::string(tokens[i]);
  }
  Requirement req;
  req.line = line.number;
  for (std::size_t i = first_option; i < tokens.size(); ++i) {
    std::string_view t = tokens[i];
    std::string_view value;
    if (t.starts_with("--hash=")) {
      value = t.substr(7);
    } else if (t == "--hash" && i + 1 < tokens.size()) {
      value = tokens[++i];
    } else {
      return fail(fmt::format("option '{}' is not supported after a requirement (only --hash=ALGORITHM:HEX)", t));
    }
    std::size_t colon = value.find(':');
    if (colon == std::string_view::npos) {
      return fail(fmt::format("--hash '{}' must be ALGORITHM:HEX, like --hash=sha256:abcde…", value));
    }
    std::string algo = lower(value.substr(0, colon));
    std::string hex = lower(value.substr(colon + 1));
    std::size_t want = algo == "sha256" ? 64 : algo == "sha384" ? 96 : algo == "sha512" ? 128 : 0;
    if (want == 0) {
      return fail(fmt::format("--hash {}: allowed hash algorithms are sha256, sha384, sha512 (pip refuses md5, "
                              "sha1 and sha224 too); regenerate the hashes with pip-compile --generate-hashes",
                              algo));
    }
    if (hex.size() != want || !is_hex(hex)) {
      return fail(fmt::format("--hash {}:{} is not {} hex digits", algo, hex, want));
    }
    req.hashes.emplace_back(algo, hex);
  }
  std::string_view r = trim(req_text);
  std::size_t semi = r.find(';');
  if (semi != std::string_view::npos) {
    req.markers = std::string(trim(r.substr(semi + 1)));
    r = trim(r.substr(0, semi));
  }
  if (r.find('@') != std::string_view::npos) {
    return fail(fmt::format("'{}' is a direct URL requirement; [[wheels]] takes files from the index only", r));
  }
  if (r.find("://") != std::string_view::npos || r.starts_with('.') || r.starts_with('/')) {
    return fail(fmt::format("'{}' is a URL or path; [[wheels]] takes files from the index only", r));
  }
  std::size_t p = 0;
  while (p < r.size() && (is_alnum(r[p]) || r[p] == '.' || r[p] == '_' || r[p] == '-')) {
    ++p;
  }
  req.name = std::string(r.substr(0, p));
  if (!is_name(req.name)) {
    return fail(fmt::format("'{}' does not start with a project name", r));
  }
  req.normalized = normalize_name(req.name);
  std::string_view rest = trim(r.substr(p));
  if (rest.starts_with('[')) {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return fail(fmt::format("'{}': missing ']' after the extras", r));
    }
    std::string_view extras = rest.substr(1, close - 1);
    std::size_t a = 0;
    while (a <= extras.size()) {
      std::size_t comma = extras.find(',', a);
      std::string_view e = trim(extras.substr(a, comma == std::string_view::npos ? std::string_view::npos : comma - a));
      if (!e.empty()) {
        if (!is_name(e)) {
          return fail(fmt::format("'{}': bad extra '{}'", r, e));
        }
        req.extras.emplace_back(e);
      }
      a = comma == std::string_view::npos ? extras.size() + 1 : comma + 1;
    }
    rest = trim(rest.substr(close + 1));
  }
  if (rest.starts_with('(') && rest.ends_with(')')) {
    rest = trim(rest.substr(1, rest.size() - 2));
  }
  std::string_view version;
  if (rest.starts_with("===")) {
    version = trim(rest.substr(3));
  } else if (rest.starts_with("==")) {
    version = trim(rest.substr(2));
  }
  bool version_ok = !version.empty() && std::all_of(version.begin(), version.end(), [](char c) {
    return is_alnum(c) || c == '.' || c == '!' || c == '+' || c == '-' || c == '_';
  });
  if (!version_ok) {
    return fail(fmt::format("requirement '{}' is not pinned: hash-checking mode needs exactly NAME==VERSION "
                            "(pip-compile --generate-hashes writes such files)",
                            r));
  }
  req.version = std::string(version);
  if (req.hashes.empty()) {
    return fail(fmt::format("requirement '{}' has no --hash: hash-checking mode needs --hash=sha256:HEX for every "
                            "requirement (pip-compile --generate-hashes writes them)",
                            req.to_string()));
  }
  return req;
}

}  // namespace

std::string normalize_name(std::string_view name) {
  std::string out;
  bool sep = false;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      sep = true;
      continue;
    }
    if (sep) {
      out.push_back('-');
      sep = false;
    }
    out.push_back(to_lower(c));
  }
  if (sep) {
    out.push_back('-');
  }
  return out;
}

std::string Requirement::to_string() const {
  std::string s = name;
  if (!extras.empty()) {
    s += '[';
    for (std::size_t i = 0; i < extras.size(); ++i) {
      s += (i > 0 ? "," : "") + extras[i];
    }
    s += ']';
  }
  return s + "==" + version;
}

Result<std::vector<Requirement>> parse_requirements(std::string_view text, std::string_view file) {
  std::vector<Requirement> out;
  std::map<std::string, std::size_t> seen;
  for (const LogicalLine& line : logical_lines(text)) {
    if (line.text == "--require-hashes") {
      continue;
    }
    ASSIGN_OR_RETURN(Requirement req, parse_requirement_line(line, file));
    auto [it, inserted] = seen.emplace(req.normalized, req.line);
    if (!inserted) {
      return make_error(ErrorCode::kInvalidArgument, "{}:{}: '{}' is already required on line {}", file, req.line,
                        req.name, it->second);
    }
    out.push_back(std::move(req));
  }
  return out;
}


}  // namespace airlock::bundler::py

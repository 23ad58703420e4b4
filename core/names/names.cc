#include "core/names/names.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/base/text.h"

namespace airlock::format::names {

namespace {

bool is_dot_or_dotdot(std::string_view s) { return s == "." || s == ".."; }

// What every name that becomes a directory entry must satisfy, beyond its
// character set: not the layout's own entries, not hidden, not a temp file.
bool clear_of_layout(std::string_view s) {
  return !s.empty() && !is_dot_or_dotdot(s) && s.front() != '.' && s.find(k_temp_marker) == std::string_view::npos;
}

template <typename Pred>
bool all_of(std::string_view s, Pred ok) {
  return std::all_of(s.begin(), s.end(), ok);
}

}  // namespace

bool has_no_control(std::string_view s) {
  return all_of(s, [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

bool is_deployment_name(std::string_view name) {
  return name.size() <= 128 && clear_of_layout(name) && all_of(name, [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
         });
}

bool is_version(std::string_view v) {
  return v.size() <= 128 && clear_of_layout(v) && v != k_current && all_of(v, [](char c) {
           return text::is_alnum(c) || c == '.' || c == '_' || c == '-' || c == '+';
         });
}

bool is_target_file_name(std::string_view name) {
  return name.size() <= 255 && !name.empty() && !is_dot_or_dotdot(name) && name.front() != '.' &&
         name.find('/') == std::string_view::npos && has_no_control(name);
}

bool is_hf_repo(std::string_view repo) {
  auto part_ok = [](std::string_view s) {
    return !s.empty() && s.size() <= 96 && !is_dot_or_dotdot(s) && s.front() != '.' &&
           s.find("--") == std::string_view::npos &&
           all_of(s, [](char c) { return text::is_alnum(c) || c == '-' || c == '_' || c == '.'; });
  };
  const std::size_t slash = repo.find('/');
  if (slash == std::string_view::npos) {
    return part_ok(repo);
  }
  return part_ok(repo.substr(0, slash)) && part_ok(repo.substr(slash + 1));
}

bool is_hf_commit(std::string_view commit) { return text::is_lower_hex(commit, 40); }

bool is_hf_revision(std::string_view rev) {
  if (rev.empty() || rev.size() > 200) {
    return false;
  }
  std::size_t start = 0;
  bool first = true;
  while (start <= rev.size()) {
    std::size_t end = rev.find('/', start);
    if (end == std::string_view::npos) {
      end = rev.size();
    }
    const std::string_view part = rev.substr(start, end - start);
    if (!clear_of_layout(part) ||
        !all_of(part, [](char c) { return text::is_alnum(c) || c == '-' || c == '_' || c == '.'; })) {
      return false;
    }
    if (first && part == "main" && end != rev.size()) {
      return false;  // refs/main is the active commit's file, never a directory
    }
    first = false;
    start = end + 1;
  }
  return true;
}

bool is_image_ref(std::string_view ref) {
  if (ref.empty() || ref.size() > 512) {
    return false;
  }
  if (!all_of(ref, [](char c) {
        return text::is_alnum(c) || c == '.' || c == '_' || c == '-' || c == '/' || c == ':' || c == '@';
      })) {
    return false;
  }
  std::size_t start = 0;
  while (start <= ref.size()) {
    std::size_t end = ref.find('/', start);
    if (end == std::string_view::npos) {
      end = ref.size();
    }
    const std::string_view part = ref.substr(start, end - start);
    if (part.empty() || !text::is_alnum(part.front())) {  // no "", ".", "..", "..:tag" or hidden component
      return false;
    }
    start = end + 1;
  }
  return true;
}

bool is_sha256_digest(std::string_view digest) {
  return digest.starts_with("sha256:") && text::is_lower_hex(digest.substr(7), 64);
}

std::string printable(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  if (name.size() > 80) {
    out += "...";
  }
  return out;
}

}  // namespace airlock::format::names

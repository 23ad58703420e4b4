#include "bundler/sources/debian_version.h"

#include <charconv>

namespace airlock::bundler::apt {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// dpkg's order(): digits (and the end of the string) 0, letters their code,
// '~' below everything, other characters after every letter.
int order(char c) {
  if (is_digit(c)) {
    return 0;
  }
  if (is_alpha(c)) {
    return static_cast<unsigned char>(c);
  }
  if (c == '~') {
    return -1;
  }
  if (c != '\0') {
    return static_cast<unsigned char>(c) + 256;
  }
  return 0;
}

// dpkg's verrevcmp() on string_views; at(i) past the end reads as '\0'.
int verrevcmp(std::string_view a, std::string_view b) {
  std::size_t i = 0;
  std::size_t j = 0;
  auto ca = [&] { return i < a.size() ? a[i] : '\0'; };
  auto cb = [&] { return j < b.size() ? b[j] : '\0'; };
  while (i < a.size() || j < b.size()) {
    int first_diff = 0;
    // By position, not by '\0': a NUL inside the text must still advance
    // (dpkg's C strings cannot hold one; ours can, and looped forever).
    while ((i < a.size() && !is_digit(a[i])) || (j < b.size() && !is_digit(b[j]))) {
      int ac = order(ca());
      int bc = order(cb());
      if (ac != bc) {
        return ac - bc;
      }
      ++i;
      ++j;
    }
    while (ca() == '0') {
      ++i;
    }
    while (cb() == '0') {
      ++j;
    }
    while (is_digit(ca()) && is_digit(cb())) {
      if (first_diff == 0) {
        first_diff = ca() - cb();
      }
      ++i;
      ++j;
    }
    if (is_digit(ca())) {
      return 1;
    }
    if (is_digit(cb())) {
      return -1;
    }
    if (first_diff != 0) {
      return first_diff;
    }
  }
  return 0;
}

}  // namespace

DebianVersion parse_debian_version(std::string_view text) {
  DebianVersion v;
  std::size_t colon = text.find(':');
  if (colon != std::string_view::npos) {
    std::string_view epoch = text.substr(0, colon);
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(epoch.data(), epoch.data() + epoch.size(), n);
    if (!epoch.empty() && ec == std::errc() && end == epoch.data() + epoch.size()) {
      v.epoch = n;
      text.remove_prefix(colon + 1);
    }
  }
  std::size_t dash = text.rfind('-');
  if (dash != std::string_view::npos) {
    v.revision = std::string(text.substr(dash + 1));
    text = text.substr(0, dash);
  }
  v.upstream = std::string(text);
  return v;
}

int compare_debian_versions(std::string_view a, std::string_view b) {
  DebianVersion va = parse_debian_version(a);
  DebianVersion vb = parse_debian_version(b);
  if (va.epoch != vb.epoch) {
    return va.epoch < vb.epoch ? -1 : 1;
  }
  int r = verrevcmp(va.upstream, vb.upstream);
  if (r != 0) {
    return r;
  }
  return verrevcmp(va.revision, vb.revision);
}

bool is_valid_debian_version(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  std::size_t colon = text.find(':');
  std::string_view rest = text;
  if (colon != std::string_view::npos) {
    std::string_view epoch = text.substr(0, colon);
    if (epoch.empty()) {
      return false;
    }
    for (char c : epoch) {
      if (!is_digit(c)) {
        return false;
      }
    }
    rest = text.substr(colon + 1);
  }
  std::size_t dash = rest.rfind('-');
  std::string_view upstream = dash == std::string_view::npos ? rest : rest.substr(0, dash);
  std::string_view revision = dash == std::string_view::npos ? std::string_view() : rest.substr(dash + 1);
  if (upstream.empty() || !is_digit(upstream.front())) {
    return false;
  }
  for (char c : upstream) {
    if (!is_digit(c) && !is_alpha(c) && c != '.' && c != '+' && c != '~' && c != '-') {
      return false;
    }
  }
  if (dash != std::string_view::npos && revision.empty()) {
    return false;
  }
  for (char c : revision) {
    if (!is_digit(c) && !is_alpha(c) && c != '.' && c != '+' && c != '~') {
      return false;
    }
  }
  return true;
}

}  // namespace airlock::bundler::apt

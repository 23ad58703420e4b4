#include "core/oci/ref.h"

#include <string>
#include <vector>

#include <fmt/core.h>

namespace airlock::oci {

namespace {

constexpr std::string_view k_hub = "docker.io";
constexpr std::size_t k_max_name = 255;  // the distribution spec's limit on <name>

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool valid_path_component(std::string_view s) {
  std::size_t i = 0;
  auto run = [&] {
    std::size_t start = i;
    while (i < s.size() && is_lower_alnum(s[i])) {
      ++i;
    }
    return i > start;
  };
  if (!run()) {
    return false;
  }
  while (i < s.size()) {
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') {
        ++i;
      }
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') {
        ++i;
      }
    } else {
      return false;
    }
    if (!run()) {
      return false;
    }
  }
  return true;
}

bool valid_tag(std::string_view s) {
  if (s.empty() || s.size() > 128 || !(is_alnum(s[0]) || s[0] == '_')) {
    return false;
  }
  for (char c : s) {
    if (!(is_alnum(c) || c == '_' || c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

bool valid_port(std::string_view s) {
  if (s.empty() || s.size() > 5) {
    return false;
  }
  unsigned value = 0;
  for (char c : s) {
    if (!is_digit(c)) {
      return false;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

// domain := label ("." label)* [":" port], or "[" IPv6 "]" [":" port].
bool valid_registry(std::string_view s) {
  std::string_view host = s;
  std::string_view port;
  if (s.starts_with('[')) {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos || close < 3) {
      return false;
    }
    for (char c : s.substr(1, close - 1)) {
      if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.')) {
        return false;
      }
    }
    std::string_view rest = s.substr(close + 1);
    if (rest.empty()) {
      return true;
    }
    return rest.starts_with(':') && valid_port(rest.substr(1));
  }
  if (std::size_t colon = s.find(':'); colon != std::string_view::npos) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (!valid_port(port)) {
      return false;
    }
  }
  if (host.empty() || host.size() > 253) {
    return false;
  }
  std::size_t start = 0;
  while (start <= host.size()) {
    std::size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!(is_alnum(c) || c == '-')) {
        return false;
      }
    }
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return true;
}

bool looks_like_registry(std::string_view first) {
  return first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
         first == "localhost" || first.starts_with('[');
}

std::unexpected<Error> bad_ref(std::string_view text, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument,
                    "image ref '{}': {}; write it as [HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST], e.g. "
                    "docker.io/vllm/vllm-openai:v0.6.3",
                    text, why);
}

}  // namespace

bool is_path_component(std::string_view s) { return valid_path_component(s); }

bool is_repository(std::string_view s) {
  for (std::size_t start = 0;;) {
    const std::size_t slash = s.find('/', start);
    if (!valid_path_component(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start))) {
      return false;
    }
    if (slash == std::string_view::npos) {
      return true;
    }
    start = slash + 1;
  }
}

bool is_tag(std::string_view s) { return valid_tag(s); }

std::string ImageRef::full() const {
  std::string out = fmt::format("{}/{}", registry, repository);
  if (!tag.empty()) {
    out += ":" + tag;
  }
  if (!digest.empty()) {
    out += "@" + digest;
  }
  return out;
}

std::string ImageRef::api_host() const { return registry == k_hub ? std::string("registry-1.docker.io") : registry; }

Status check_digest(std::string_view digest, std::string_view what) {
  std::size_t colon = digest.find(':');
  if (colon == std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument, "{}: '{}' is not a digest (want sha256:<64 hex digits>)", what,
                      digest);
  }
  std::string_view algorithm = digest.substr(0, colon);
  std::string_view hex = digest.substr(colon + 1);
  if (algorithm != "sha256") {
    return make_error(ErrorCode::kUnsupported,
                      "{}: digest algorithm '{}' is not supported (only sha256); use the image's sha256 digest", what,
                      algorithm);
  }
  if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument, "{}: '{}' is not a digest (want sha256:<64 lowercase hex digits>)",
                      what, digest);
  }
  return ok_status();
}

Result<ImageRef> parse_image_ref(std::string_view text) {
  if (text.empty()) {
    return bad_ref(text, "empty");
  }
  if (text.size() > 512) {
    return bad_ref(text.substr(0, 64), "longer than 512 characters");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return bad_ref(text, "it contains a space, a control or a non-ASCII character");
    }
  }
  ImageRef ref;
  std::string_view rest = text;
  if (std::size_t at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (auto st = check_digest(ref.digest, fmt::format("image ref '{}'", text)); !st) {
      return std::unexpected(st.error());
    }
  }
  std::size_t slash = rest.find('/');
  if (slash != std::string_view::npos && looks_like_registry(rest.substr(0, slash))) {
    ref.registry = std::string(rest.substr(0, slash));
    rest = rest.substr(slash + 1);
    if (!valid_registry(ref.registry)) {
      return bad_ref(text, fmt::format("'{}' is not a registry host[:port]", ref.registry));
    }
    if (ref.registry == "index.docker.io") {
      ref.registry = std::string(k_hub);
    }
  } else {
    ref.registry = std::string(k_hub);
  }
  if (std::size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!valid_tag(ref.tag)) {
      return bad_ref(text, fmt::format("'{}' is not a valid tag (letters, digits, '_', '.', '-'; at most 128; not "
                                       "starting with '.' or '-')",
                                       ref.tag));
    }
  }
  if (rest.empty()) {
    return bad_ref(text, "no repository name");
  }
  std::size_t start = 0;
  for (;;) {
    std::size_t next = rest.find('/', start);
    std::string_view component =
        rest.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start);
    if (!valid_path_component(component)) {
      return bad_ref(text, fmt::format("'{}' is not a valid repository name component (lowercase letters and digits, "
                                       "separated by '.', '_', '__' or dashes)",
                                       component));
    }
    if (next == std::string_view::npos) {
      break;
    }
    start = next + 1;
  }
  ref.repository = std::string(rest);
  if (ref.registry == k_hub && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;
  }
  if (ref.repository.size() > k_max_name) {
    return bad_ref(text, "the repository name is longer than 255 characters");
  }
  if (ref.tag.empty() && ref.digest.empty()) {
    ref.tag = "latest";
  }
  return ref;
}

std::string Platform::str() const {
  return variant.empty() ? fmt::format("{}/{}", os, architecture) : fmt::format("{}/{}/{}", os, architecture, variant);
}

Result<Platform> parse_platform(std::string_view text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  auto word = [](const std::string& s) {
    if (s.empty()) {
      return false;
    }
    for (char c : s) {
      if (!(is_alnum(c) || c == '_' || c == '.' || c == '-')) {
        return false;
      }
    }
    return true;
  };
  bool good = parts.size() == 2 || parts.size() == 3;
  for (const std::string& part : parts) {
    good = good && word(part);
  }
  if (!good) {
    return make_error(ErrorCode::kInvalidArgument, "platform '{}' must be OS/ARCH or OS/ARCH/VARIANT, e.g. linux/amd64",
                      text);
  }
  Platform p;
  p.os = parts[0];
  p.architecture = parts[1];
  if (parts.size() == 3) {
    p.variant = parts[2];
  }
  return p;
}

bool platform_matches(const Platform& wanted, const Platform& entry) {
  if (wanted.os != entry.os || wanted.architecture != entry.architecture) {
    return false;
  }
  if (wanted.variant.empty()) {
    return true;
  }
  auto norm = [&](const std::string& v) { return entry.architecture == "arm64" && v == "v8" ? std::string() : v; };
  return norm(wanted.variant) == norm(entry.variant);
}

}  // namespace airlock::oci

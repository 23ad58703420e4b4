// The simple repository API: PEP 503 HTML and PEP 691 JSON project pages.
#include "bundler/sources/simple_index.h"

#include <algorithm>
#include <charconv>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "core/base/text.h"
#include "net/http.h"

namespace airlock::bundler::py {
namespace {

using text::is_alnum;
using text::is_space;
using text::lower;
using text::to_lower;
using text::trim;

using text::is_hex;

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && is_hex(s.substr(i + 1, 2))) {
      unsigned v = 0;
      std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// "https://h/p/name-1.0.whl?x#sha256=…" → "name-1.0.whl" (decoded).
std::string url_filename(std::string_view url) {
  std::size_t end = url.find_first_of("?#");
  std::string_view path = url.substr(0, end);
  std::size_t slash = path.rfind('/');
  return percent_decode(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

struct Tag {
  std::string name;  // lowercase; "/a" for a closing tag
  std::map<std::string, std::string> attrs;  // lowercase names, raw (still escaped) values
  std::size_t end = 0;  // just past '>'
};

// Parses the tag starting at html[i] == '<'; nullopt when it is not one.
std::optional<Tag> parse_tag(std::string_view html, std::size_t i) {
  Tag tag;
  std::size_t p = i + 1;
  std::size_t n0 = p;
  if (p < html.size() && html[p] == '/') {
    ++p;
  }
  while (p < html.size() && (is_alnum(html[p]))) {
    ++p;
  }
  if (p == n0 || (p == n0 + 1 && html[n0] == '/')) {
    return std::nullopt;
  }
  tag.name = lower(html.substr(n0, p - n0));
  for (;;) {
    while (p < html.size() && is_space(html[p])) {
      ++p;
    }
    if (p >= html.size()) {
      return std::nullopt;
    }
    if (html[p] == '>') {
      tag.end = p + 1;
      return tag;
    }
    if (html[p] == '/') {
      ++p;
      continue;
    }
    std::size_t a = p;
    while (p < html.size() && !is_space(html[p]) && html[p] != '=' && html[p] != '>' && html[p] != '/') {
      ++p;
    }
    std::string name = lower(html.substr(a, p - a));
    while (p < html.size() && is_space(html[p])) {
      ++p;
    }
    std::string value;
    if (p < html.size() && html[p] == '=') {
      ++p;
      while (p < html.size() && is_space(html[p])) {
        ++p;
      }
      if (p < html.size() && (html[p] == '"' || html[p] == '\'')) {
        char q = html[p++];
        std::size_t close = html.find(q, p);
        if (close == std::string_view::npos) {
          return std::nullopt;
        }
        value = std::string(html.substr(p, close - p));
        p = close + 1;
      } else {
        std::size_t v = p;
        while (p < html.size() && !is_space(html[p]) && html[p] != '>') {
          ++p;
        }
        value = std::string(html.substr(v, p - v));
      }
    }
    if (!name.empty()) {
      tag.attrs.emplace(std::move(name), std::move(value));
    }
  }
}

// PEP 440, loosely: "[N!]RELEASE[suffix]" with the release's trailing zeros
// and the suffix's separators not significant.
struct LooseVersion {
  std::string epoch;
  std::vector<std::uint64_t> release;
  std::string rest;
};

LooseVersion loose_version(std::string_view v) {
  LooseVersion out;
  std::string s = lower(trim(v));
  if (!s.empty() && s.front() == 'v') {
    s.erase(0, 1);
  }
  std::size_t bang = s.find('!');
  if (bang != std::string::npos) {
    out.epoch = s.substr(0, bang);
    s.erase(0, bang + 1);
  }
  if (out.epoch.empty() || out.epoch.find_first_not_of('0') == std::string::npos) {
    out.epoch = "0";
  }
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') {
      ++j;
    }
    if (j == i) {
      break;
    }
    std::uint64_t n = 0;
    std::from_chars(s.data() + i, s.data() + j, n);
    out.release.push_back(n);
    i = j;
    if (i + 1 < s.size() && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
      ++i;
    } else {
      break;
    }
  }
  while (!out.release.empty() && out.release.back() == 0) {
    out.release.pop_back();
  }
  for (char c : s.substr(i)) {
    if (c != '-' && c != '_' && c != '.') {
      out.rest.push_back(c);
    }
  }
  return out;
}

bool versions_equal(std::string_view a, std::string_view b) {
  if (lower(a) == lower(b)) {
    return true;
  }
  LooseVersion x = loose_version(a);
  LooseVersion y = loose_version(b);
  return x.epoch == y.epoch && x.release == y.release && x.rest == y.rest;
}

}  // namespace

std::string html_unescape(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out.push_back(text[i++]);
      continue;
    }
    std::size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out.push_back(text[i++]);
      continue;
    }
    std::string_view ent = text.substr(i + 1, semi - i - 1);
    std::string repl;
    if (ent == "amp") {
      repl = "&";
    } else if (ent == "lt") {
      repl = "<";
    } else if (ent == "gt") {
      repl = ">";
    } else if (ent == "quot") {
      repl = "\"";
    } else if (ent == "apos") {
      repl = "'";
    } else if (ent.starts_with('#') && ent.size() > 1) {
      bool hex = ent[1] == 'x' || ent[1] == 'X';
      std::string_view digits = ent.substr(hex ? 2 : 1);
      std::uint32_t cp = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size() && cp > 0 && cp <= 0x10FFFF) {
        append_utf8(repl, cp);
      }
    }
    if (repl.empty()) {
      out.push_back(text[i++]);  // unknown entity: keep the text as it is
      continue;
    }
    out += repl;
    i = semi + 1;
  }
  return out;
}

Result<std::vector<IndexFile>> parse_simple_html(std::string_view html, const std::string& page_url) {
  std::vector<IndexFile> out;
  std::string base = page_url;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string_view::npos) {
    if (html.substr(i, 4) == "<!--") {
      std::size_t close = html.find("-->", i + 4);
      i = close == std::string_view::npos ? html.size() : close + 3;
      continue;
    }
    std::optional<Tag> tag = parse_tag(html, i);
    if (!tag) {
      ++i;
      continue;
    }
    i = tag->end;
    auto href_it = tag->attrs.find("href");
    if (tag->name == "base" && href_it != tag->attrs.end()) {
      ASSIGN_OR_RETURN(base, net::url_resolve(page_url, html_unescape(href_it->second)));
      continue;
    }
    if (tag->name != "a" || href_it == tag->attrs.end()) {
      continue;
    }
    std::string href = html_unescape(href_it->second);
    std::string fragment;
    std::size_t hash = href.find('#');
    if (hash != std::string::npos) {
      fragment = href.substr(hash + 1);
      href.resize(hash);
    }
    IndexFile f;
    auto url = net::url_resolve(base, href);
    if (!url) {
      return std::unexpected(std::move(url).error().with_context(fmt::format("{}: link '{}'", page_url, href)));
    }
    f.url = std::move(*url);
    f.filename = url_filename(f.url);
    if (f.filename.empty()) {
      continue;
    }
    // PEP 503: the fragment is "<hashname>=<hashvalue>".
    std::size_t eq = fragment.find('=');
    if (eq != std::string::npos && is_hex(fragment.substr(eq + 1))) {
      f.hashes[lower(fragment.substr(0, eq))] = lower(fragment.substr(eq + 1));
    }
    f.yanked = tag->attrs.contains("data-yanked");
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::vector<IndexFile>> parse_simple_json(std::string_view json, const std::string& page_url) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  auto bad = [&](std::string_view why) {
    return make_error(ErrorCode::kInvalidArgument, "{}: not a PEP 691 project page: {}", page_url, why);
  };
  if (j.is_discarded() || !j.is_object()) {
    return bad("not a JSON object");
  }
  if (j.contains("meta")) {
    const nlohmann::json& meta = j["meta"];
    std::string api = meta.is_object() && meta.contains("api-version") && meta["api-version"].is_string()
                          ? meta["api-version"].get<std::string>()
                          : "";
    if (!api.starts_with("1.")) {
      return bad(fmt::format("api-version '{}' (airlock reads 1.x)", api));
    }
  }
  if (!j.contains("files") || !j["files"].is_array()) {
    return bad("no 'files' array");
  }
  std::vector<IndexFile> out;
  for (const nlohmann::json& e : j["files"]) {
    if (!e.is_object() || !e.contains("filename") || !e["filename"].is_string() || !e.contains("url") ||
        !e["url"].is_string()) {
      return bad("a file without 'filename' or 'url'");
    }
    IndexFile f;
    f.filename = e["filename"].get<std::string>();
    std::string href = e["url"].get<std::string>();
    std::size_t hash = href.find('#');
    if (hash != std::string::npos) {
      href.resize(hash);
    }
    ASSIGN_OR_RETURN(f.url, net::url_resolve(page_url, href));
    if (e.contains("hashes") && e["hashes"].is_object()) {
      for (const auto& [algo, value] : e["hashes"].items()) {
        if (value.is_string()) {
          f.hashes[lower(algo)] = lower(value.get<std::string>());
        }
      }
    }
    if (e.contains("size") && e["size"].is_number_unsigned()) {
      f.size = e["size"].get<std::uint64_t>();
    }
    if (e.contains("yanked")) {
      const nlohmann::json& y = e["yanked"];
      f.yanked = (y.is_boolean() && y.get<bool>()) || y.is_string();
    }
    out.push_back(std::move(f));
  }
  return out;
}

bool is_safe_dist_filename(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '.' || name.front() == '-') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == '!';
  });
}

bool file_matches_requirement(std::string_view filename, const Requirement& req) {
  if (filename.ends_with(".whl")) {
    std::string_view stem = filename.substr(0, filename.size() - 4);
    std::vector<std::string_view> parts;
    std::size_t p = 0;
    while (p <= stem.size()) {
      std::size_t dash = stem.find('-', p);
      parts.push_back(stem.substr(p, dash == std::string_view::npos ? std::string_view::npos : dash - p));
      p = dash == std::string_view::npos ? stem.size() + 1 : dash + 1;
    }
    // {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl (PEP 427)
    if (parts.size() != 5 && parts.size() != 6) {
      return false;
    }
    return normalize_name(parts[0]) == req.normalized && versions_equal(parts[1], req.version);
  }
  std::string_view stem;
  for (std::string_view ext : {".tar.gz", ".zip"}) {
    if (filename.ends_with(ext)) {
      stem = filename.substr(0, filename.size() - ext.size());
    }
  }
  if (stem.empty()) {
    return false;
  }
  // {name}-{version}: older sdists keep '-' in the name, so try every split.
  for (std::size_t dash = stem.find('-'); dash != std::string_view::npos; dash = stem.find('-', dash + 1)) {
    if (normalize_name(stem.substr(0, dash)) == req.normalized && versions_equal(stem.substr(dash + 1), req.version)) {
      return true;
    }
  }
  return false;
}

}  // namespace airlock::bundler::py

#include "bundler/sources/deb822.h"

#include <algorithm>

#include <fmt/core.h>

#include "bundler/sources/debian_version.h"
#include "core/base/text.h"

namespace airlock::bundler::apt {
namespace {

using text::trim;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// Package names (Policy §5.6.1: [a-z0-9][a-z0-9+.-]+); upper case is
// tolerated, as some third-party repositories use it.
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '.' ||
         c == '-' || c == '_';
}

Result<DepAtom> parse_atom(std::string_view text, std::string_view field) {
  auto bad = [&](std::string_view why) {
    return make_error(ErrorCode::kInvalidArgument, "bad relation '{}' in '{}': {}", trim(text), trim(field), why);
  };
  DepAtom atom;
  std::string_view s = trim(text);
  std::size_t i = 0;
  while (i < s.size() && is_name_char(s[i])) {
    ++i;
  }
  if (i == 0) {
    return bad("no package name");
  }
  atom.name = std::string(s.substr(0, i));
  if (i < s.size() && s[i] == ':') {
    std::size_t k = ++i;
    while (i < s.size() && is_name_char(s[i])) {
      ++i;
    }
    if (i == k) {
      return bad("empty architecture qualifier");
    }
    atom.arch_qualifier = std::string(s.substr(k, i - k));
  }
  s = trim(s.substr(i));
  if (!s.empty() && s.front() == '(') {
    std::size_t close = s.find(')');
    if (close == std::string_view::npos) {
      return bad("missing ')'");
    }
    std::string_view inside = trim(s.substr(1, close - 1));
    s = trim(s.substr(close + 1));
    struct Op {
      std::string_view text;
      Relation rel;
    };
    // Longest operators first; "<" and ">" are dpkg's obsolete forms of <= and >=.
    static constexpr Op k_ops[] = {{"<<", Relation::kEarlier},   {"<=", Relation::kEarlierEqual},
                                   {">>", Relation::kLater},     {">=", Relation::kLaterEqual},
                                   {"=", Relation::kEqual},      {"<", Relation::kEarlierEqual},
                                   {">", Relation::kLaterEqual}};
    bool matched = false;
    for (const Op& op : k_ops) {
      if (inside.starts_with(op.text)) {
        atom.relation = op.rel;
        atom.version = std::string(trim(inside.substr(op.text.size())));
        matched = true;
        break;
      }
    }
    if (!matched) {
      return bad("unknown version relation (use <<, <=, =, >=, >>)");
    }
    if (atom.version.empty() || atom.version.find_first_of(" \t") != std::string::npos) {
      return bad("bad version");
    }
  }
  if (!s.empty() && s.front() == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos) {
      return bad("missing ']'");
    }
    std::string_view list = s.substr(1, close - 1);
    s = trim(s.substr(close + 1));
    for (std::string_view arch : text::split_words(list)) {
      atom.arch_restrictions.emplace_back(arch);
    }
  }
  // Build profiles ("<!nocheck>") only appear in source packages; skip them.
  while (!s.empty() && s.front() == '<') {
    std::size_t close = s.find('>');
    if (close == std::string_view::npos) {
      return bad("missing '>'");
    }
    s = trim(s.substr(close + 1));
  }
  if (!s.empty()) {
    return bad(fmt::format("unexpected '{}'", s));
  }
  return atom;
}

}  // namespace

std::optional<std::string_view> Stanza::get(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (iequals(k, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

std::string Stanza::get_or(std::string_view name, std::string_view fallback) const {
  auto v = get(name);
  return std::string(v ? *v : fallback);
}

Result<std::vector<Stanza>> parse_stanzas(std::string_view text) {
  std::vector<Stanza> out;
  Stanza current;
  bool open = false;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  auto flush = [&] {
    if (open) {
      out.push_back(std::move(current));
      current = Stanza();
      open = false;
    }
  };
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (trim(line).empty()) {
      flush();
      continue;
    }
    if (line.front() == '#') {
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (!open || current.fields.empty()) {
        return make_error(ErrorCode::kInvalidArgument, "line {}: continuation line outside a field", line_no);
      }
      std::string_view v = trim(line);
      // A lone "." stands for an empty line in a multi-line value (Policy §5.1).
      std::string& value = current.fields.back().second;
      value += '\n';
      value += v == "." ? std::string_view() : v;
      current.text.append(line).push_back('\n');
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return make_error(ErrorCode::kInvalidArgument, "line {}: expected 'Field: value', got '{}'", line_no,
                        line.substr(0, 80));
    }
    if (!open) {
      open = true;
      current.line = line_no;
    }
    current.fields.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    current.text.append(line).push_back('\n');
  }
  flush();
  return out;
}

std::string DepAtom::to_string() const {
  std::string s = name;
  if (!arch_qualifier.empty()) {
    s += ':';
    s += arch_qualifier;
  }
  if (relation != Relation::kAny) {
    s += fmt::format(" ({} {})", relation_text(relation), version);
  }
  if (!arch_restrictions.empty()) {
    s += " [";
    for (std::size_t i = 0; i < arch_restrictions.size(); ++i) {
      s += (i > 0 ? " " : "") + arch_restrictions[i];
    }
    s += ']';
  }
  return s;
}

bool DepAtom::applies_to(std::string_view arch) const {
  if (arch_restrictions.empty()) {
    return true;
  }
  // Either all entries are negated ("[!i386 !arm64]": every other arch) or
  // none are ("[amd64 arm64]": only those).
  bool negated = arch_restrictions.front().starts_with('!');
  for (const std::string& a : arch_restrictions) {
    std::string_view restricted = a;
    if (restricted.starts_with('!')) {
      restricted.remove_prefix(1);
    }
    if (restricted == arch) {
      return !negated;
    }
  }
  return negated;
}

Result<std::vector<DepClause>> parse_dependencies(std::string_view field) {
  std::vector<DepClause> out;
  std::size_t pos = 0;
  while (pos <= field.size()) {
    std::size_t comma = field.find(',', pos);
    std::string_view clause_text =
        field.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? field.size() + 1 : comma + 1;
    if (trim(clause_text).empty()) {
      continue;
    }
    DepClause clause;
    std::size_t p = 0;
    while (p <= clause_text.size()) {
      std::size_t bar = clause_text.find('|', p);
      std::string_view alt =
          clause_text.substr(p, bar == std::string_view::npos ? std::string_view::npos : bar - p);
      p = bar == std::string_view::npos ? clause_text.size() + 1 : bar + 1;
      ASSIGN_OR_RETURN(DepAtom atom, parse_atom(alt, field));
      clause.push_back(std::move(atom));
    }
    out.push_back(std::move(clause));
  }
  return out;
}

bool relation_satisfied(Relation relation, std::string_view have, std::string_view want) {
  if (relation == Relation::kAny) {
    return true;
  }
  int c = compare_debian_versions(have, want);
  switch (relation) {
    case Relation::kEarlier:
      return c < 0;
    case Relation::kEarlierEqual:
      return c <= 0;
    case Relation::kEqual:
      return c == 0;
    case Relation::kLaterEqual:
      return c >= 0;
    case Relation::kLater:
      return c > 0;
    case Relation::kAny:
      break;
  }
  return true;
}

std::string_view relation_text(Relation relation) {
  switch (relation) {
    case Relation::kEarlier:
      return "<<";
    case Relation::kEarlierEqual:
      return "<=";
    case Relation::kEqual:
      return "=";
    case Relation::kLaterEqual:
      return ">=";
    case Relation::kLater:
      return ">>";
    case Relation::kAny:
      break;
  }
  return "";
}

}  // namespace airlock::bundler::apt

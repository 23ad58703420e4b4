#pragma once
// Debian control data (deb822, Debian Policy §5.1): stanzas of "Field: value"
// lines separated by blank lines, values continued on lines starting with a
// space or tab; and the relationship fields (Policy §7.1) Depends,
// Pre-Depends and Provides: "a (>= 1) | b:any, c [amd64]".
// Used for apt's Release and Packages files and dpkg's status file.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/error.h"

namespace airlock::bundler::apt {

struct Stanza {
  // Field names as written; values with the first line trimmed and each
  // continuation line trimmed and joined by '\n' (a multi-line field such as
  // Release's SHA256 starts with an empty first line).
  std::vector<std::pair<std::string, std::string>> fields;
  std::string text;      // the stanza's lines as they were, each ending in '\n'
  std::size_t line = 0;  // 1-based line of its first field

  // The value of a field; names compare case-insensitively.
  std::optional<std::string_view> get(std::string_view name) const;
  std::string get_or(std::string_view name, std::string_view fallback = {}) const;
};

// Parses every stanza. '#' lines (comments) are skipped. A line that is not a
// field or a continuation is kInvalidArgument naming its line number.
Result<std::vector<Stanza>> parse_stanzas(std::string_view text);

enum class Relation { kAny, kEarlier, kEarlierEqual, kEqual, kLaterEqual, kLater };

struct DepAtom {
  std::string name;
  std::string arch_qualifier;  // after ':' ("any", "native", an architecture); empty when none
  Relation relation = Relation::kAny;
  std::string version;
  std::vector<std::string> arch_restrictions;  // "[amd64 !i386]" (source-style; rare in binaries)

  // "name:qual (>= 1.0)", as a human would write it back.
  std::string to_string() const;
  // Whether this atom applies on `arch` given its [arch restrictions].
  bool applies_to(std::string_view arch) const;
};

using DepClause = std::vector<DepAtom>;  // alternatives, "a | b"

// Parses a Depends-style field: clauses separated by ',', alternatives by '|'.
// Empty clauses (a trailing comma) are skipped, as dpkg does. The obsolete
// '<' and '>' read as '<=' and '>=', as dpkg reads them.
Result<std::vector<DepClause>> parse_dependencies(std::string_view field);

// Whether version `have` satisfies `relation want`.
bool relation_satisfied(Relation relation, std::string_view have, std::string_view want);
std::string_view relation_text(Relation relation);

}  // namespace airlock::bundler::apt

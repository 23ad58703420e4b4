#include "core/manifest/command.h"

namespace airlock::manifest {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

bool is_operator(char c) {
  switch (c) {
    case '|': case '&': case ';': case '<': case '>': case '(': case ')': case '$': case '`':
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<std::vector<std::string>> split_command(std::string_view command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  auto refuse = [&](std::string_view what) {
    return make_error(ErrorCode::kInvalidArgument, "command '{}': {}", command, what);
  };
  for (std::size_t i = 0; i < command.size(); ++i) {
    const char c = command[i];
    if (is_blank(c)) {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      continue;
    }
    if (c == '\0') {
      return refuse("contains a NUL byte");
    }
    if (c == '\'') {
      const std::size_t end = command.find('\'', i + 1);
      if (end == std::string_view::npos) {
        return refuse("unterminated single quote");
      }
      word.append(command.substr(i + 1, end - i - 1));
      in_word = true;
      i = end;
      continue;
    }
    if (c == '"') {
      std::size_t j = i + 1;
      for (;; ++j) {
        if (j >= command.size()) {
          return refuse("unterminated double quote");
        }
        const char d = command[j];
        if (d == '"') {
          break;
        }
        if (d == '$' || d == '`') {
          return refuse(fmt::format("'{}' inside double quotes would be expanded by a shell; escape it as \\{} or "
                                    "set shell = true",
                                    d, d));
        }
        if (d == '\\' && j + 1 < command.size() &&
            (command[j + 1] == '"' || command[j + 1] == '\\' || command[j + 1] == '$' || command[j + 1] == '`')) {
          word.push_back(command[++j]);
          continue;
        }
        word.push_back(d);
      }
      in_word = true;
      i = j;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= command.size()) {
        return refuse("ends with a backslash");
      }
      word.push_back(command[++i]);
      in_word = true;
      continue;
    }
    if (is_operator(c) || (!in_word && (c == '~' || c == '#'))) {
      return refuse(fmt::format("unquoted '{}' is shell syntax; quote it, or set shell = true in [activate]", c));
    }
    word.push_back(c);
    in_word = true;
  }
  if (in_word) {
    words.push_back(std::move(word));
  }
  if (words.empty()) {
    return refuse("is empty");
  }
  return words;
}

}  // namespace airlock::manifest

#include "core/manifest/command.h"

#include <catch2/catch.hpp>

using airlock::ErrorCode;
using airlock::manifest::split_command;
using Words = std::vector<std::string>;

TEST_CASE("split_command splits as a POSIX shell would, without expanding", "[manifest][command]") {
  CHECK(split_command("systemctl restart vllm").value() == Words{"systemctl", "restart", "vllm"});
  CHECK(split_command("  a\t b \n c  ").value() == Words{"a", "b", "c"});
  CHECK(split_command("curl -sf 'http://127.0.0.1:8000/health?x=1&y=2'").value() ==
        Words{"curl", "-sf", "http://127.0.0.1:8000/health?x=1&y=2"});
  CHECK(split_command(R"(echo "a b" 'c "d"' e\ f)").value() == Words{"echo", "a b", "c \"d\"", "e f"});
  CHECK(split_command(R"(echo "q\"uote" "back\\slash" "\$HOME" "\n")").value() ==
        Words{"echo", "q\"uote", "back\\slash", "$HOME", "\\n"});
  CHECK(split_command(R"(a''b "" '')").value() == Words{"ab", "", ""});
  CHECK(split_command(R"(x\|y \$z)").value() == Words{"x|y", "$z"});
  CHECK(split_command("a#b c=~ d~").value() == Words{"a#b", "c=~", "d~"});
}

TEST_CASE("split_command refuses shell syntax and broken quoting, naming it", "[manifest][command]") {
  struct Case {
    const char* command;
    const char* says;
  };
  for (const Case& c : {Case{"a | b", "unquoted '|'"}, Case{"a && b", "unquoted '&'"}, Case{"a; b", "unquoted ';'"},
                        Case{"a > log", "unquoted '>'"}, Case{"a < in", "unquoted '<'"}, Case{"echo $HOME", "unquoted '$'"},
                        Case{"echo `id`", "unquoted '`'"}, Case{"(a)", "unquoted '('"}, Case{"~/bin/x", "unquoted '~'"},
                        Case{"a # comment", "unquoted '#'"}, Case{"echo 'open", "unterminated single quote"},
                        Case{"echo \"open", "unterminated double quote"}, Case{"echo \"$HOME\"", "inside double quotes"},
                        Case{"trailing\\", "ends with a backslash"}, Case{"", "is empty"}, Case{"   ", "is empty"}}) {
    INFO(c.command);
    auto r = split_command(c.command);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(r.error().message(), Catch::Contains(c.says));
  }
  auto nul = split_command(std::string_view("a\0b", 3));
  REQUIRE_FALSE(nul.has_value());
  CHECK_THAT(nul.error().message(), Catch::Contains("NUL"));
}

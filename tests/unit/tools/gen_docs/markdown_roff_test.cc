#include "tools/gen_docs/markdown_roff.h"

#include <string>

#include <catch2/catch.hpp>

#include "tools/gen_docs/cli_tree.h"
#include "tools/gen_docs/roff.h"

namespace airlock::gendocs {

TEST_CASE("roff: no text can become a request, literals keep '-' and quotes", "[gen_docs]") {
  CHECK(roff::line(roff::text(".SH EVIL")) == "\\&.SH EVIL");
  CHECK(roff::line(roff::text("'br")) == "\\&'br");
  CHECK(roff::text("a\\b") == "a\\eb");
  CHECK(roff::literal("--out 'x'") == "\\-\\-out \\(aqx\\(aq");
  CHECK(roff::text("4 GiB \xe2\x88\x92 1") == "4 GiB \\[u2212] 1");
  CHECK(roff::text("bad \xff byte") == "bad \\[uFFFD] byte");
  CHECK(roff::quoted("say \"hi\"") == "\"say \\(dqhi\\(dq\"");
}

TEST_CASE("markdown: headings, paragraphs, lists, code and tables become man(7) requests", "[gen_docs]") {
  auto roff = markdown_to_roff(
      "## Exit status\n\nText with `--json` and **bold**,\n*it* and [a link](https://x.example/p).\n\n"
      "### `[model]`\n\n- one\n  continued\n- two\n\n1. first\n\n```toml\n.name = \"x\"\n\n```\n\n"
      "| key | type | meaning |\n|---|---|---|\n| `a` | string | the \\| pipe |\n",
      "t.md");
  REQUIRE(roff);
  const std::string& r = *roff;
  CHECK(r.find(".SH \"EXIT STATUS\"\n") != std::string::npos);
  CHECK(r.find(".SS \"\\fB[model]\\fP\"\n") != std::string::npos);
  CHECK(r.find("Text with \\fB\\-\\-json\\fP and \\fBbold\\fP, \\fIit\\fP and a link") != std::string::npos);
  CHECK(r.find("<https://x.example/p>.") != std::string::npos);
  CHECK(r.find(".IP \\(bu 2\none continued\n.IP \\(bu 2\ntwo\n") != std::string::npos);
  CHECK(r.find(".IP 1. 4\nfirst\n") != std::string::npos);
  CHECK(r.find(".nf\n\\&.name = \"x\"\n\\&\n.fi\n") != std::string::npos);
  CHECK(r.find(".TP\n\\fBa\\fP (string)\nthe | pipe\n") != std::string::npos);
}

TEST_CASE("markdown: what the subset does not render is refused with its line", "[gen_docs]") {
  for (const char* bad : {"#### deep", "> quote", "<b>html</b>", "* star bullet", "---", "    indented code"}) {
    auto r = markdown_to_roff(std::string("para\n\n") + bad + "\n", "t.md");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains("t.md:3"));
  }
  auto open = markdown_to_roff("```\ncode\n", "t.md");
  REQUIRE_FALSE(open);
  CHECK_THAT(open.error().message(), Catch::Contains("not closed"));
  auto ragged = markdown_to_roff("| a | b |\n|---|---|\n| 1 |\n", "t.md");
  REQUIRE_FALSE(ragged);
  CHECK_THAT(ragged.error().message(), Catch::Contains("t.md:3"));
}

TEST_CASE("markdown: a page needs '# NAME(SECTION): summary' and gets .TH and NAME from it", "[gen_docs]") {
  auto page = markdown_man_page("# airlock-manifest(5): the manifest\n\n## Description\n\nx\n", "M.md", "airlock 1.2.3");
  REQUIRE(page);
  CHECK(page->find(".TH AIRLOCK\\-MANIFEST 5 \"\" \"airlock 1.2.3\"") != std::string::npos);
  CHECK(page->find(".SH NAME\nairlock\\-manifest \\- the manifest\n") != std::string::npos);
  auto bad = markdown_man_page("# The manifest\n\ntext\n", "M.md", "airlock 1.2.3");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Catch::Contains("M.md:1"));
}

TEST_CASE("cli tree: options, flags, positionals, defaults, choices and path kinds come from the App", "[gen_docs]") {
  CLI::App app{"tool: does things.", "tool"};
  std::string dir;
  std::string role = "a";
  int n = 4;
  bool flag = false;
  std::vector<std::string> keys;
  app.add_option("--root", dir, "root")->type_name("DIR");
  app.add_flag("-q,--quiet", flag, "quiet");
  CLI::App* sub = app.add_subcommand("add", "add a key");
  sub->add_option("key", keys, "key files")->required();
  sub->add_option("--role", role, "role")->check(CLI::IsMember({"a", "b"}));
  sub->add_option("--count", n, "count")->capture_default_str()->check(CLI::Range(1, 9));
  const CommandDoc doc = describe(app);
  REQUIRE(doc.options.size() == 3);  // --help, --root, --quiet
  CHECK(doc.options[0].is_help);
  CHECK(doc.options[1].value_kind == ValueKind::kDir);
  CHECK(doc.options[2].is_flag());
  CHECK(doc.options[2].names == std::vector<std::string>{"-q", "--quiet"});
  REQUIRE(doc.subcommands.size() == 1);
  const CommandDoc& add = doc.subcommands[0];
  CHECK(add.path_string() == "add");
  REQUIRE(add.positionals.size() == 1);
  CHECK(add.positionals[0].required);
  CHECK(add.positionals[0].repeatable);
  CHECK(add.positionals[0].value_kind == ValueKind::kFile);
  REQUIRE(add.options.size() == 3);
  CHECK(add.options[1].choices == std::vector<std::string>{"a", "b"});
  CHECK(add.options[1].value_kind == ValueKind::kChoices);
  CHECK(add.options[2].default_value == "4");
  CHECK(add.options[2].value_kind == ValueKind::kNone);
  CHECK(add.options[2].constraint == "INT in [1 - 9]");
}

}  // namespace airlock::gendocs

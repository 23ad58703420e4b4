// docs/MANIFEST.md (airlock-manifest(5)) against the parser: every key the
// parser accepts has its row in the reference, under its table, and every
// full example in the reference parses.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "core/manifest/manifest.h"
#include "tests/support/temp_dir.h"

namespace airlock::manifest {
namespace {

namespace stdfs = std::filesystem;

std::string read(const stdfs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const stdfs::path k_source = AIRLOCK_SOURCE_DIR;

// "[model]" -> {"source", "revision", ...}: the allowed sets manifest.cc
// passes to check_keys, read from its source.
std::map<std::string, std::set<std::string>> parser_keys() {
  const std::string cc = read(k_source / "core/manifest/manifest.cc");
  std::map<std::string, std::set<std::string>> out;
  const std::regex call(R"re(check_keys\(ctx, [^,]+, ("[^"]*"|where), \{([^}]*)\}\))re");
  const std::regex where_def(R"re(std::string where = fmt::format\("(\[\[[a-z]+\]\])[^"]*")re");
  const std::regex quoted(R"re("([^"]+)")re");
  std::string last_where;
  std::istringstream in(cc);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, where_def)) {
      last_where = m[1];
    }
    if (std::regex_search(line, m, call)) {
      std::string table = m[1] == "where" ? last_where : std::string(m[1]).substr(1, m[1].length() - 2);
      const std::string list = m[2];
      for (std::sregex_iterator k(list.begin(), list.end(), quoted), e; k != e; ++k) {
        out[table].insert((*k)[1]);
      }
    }
  }
  return out;
}

// "### [model]" -> the keys in its table's first column.
std::map<std::string, std::set<std::string>> reference_keys(const std::string& md) {
  std::map<std::string, std::set<std::string>> out;
  std::istringstream in(md);
  std::string line;
  std::string table;
  const std::regex row(R"re(^\| `([a-z_-]+)` \|)re");
  while (std::getline(in, line)) {
    if (line.starts_with("### ")) {
      table = line.substr(4);
    } else if (line.starts_with("## ")) {
      table.clear();
    }
    std::smatch m;
    if (!table.empty() && std::regex_search(line, m, row)) {
      out[table].insert(m[1]);
    }
  }
  return out;
}

TEST_CASE("manifest reference: every key the parser accepts is documented under its table, and no other",
          "[manifest]") {
  const auto parser = parser_keys();
  const auto reference = reference_keys(read(k_source / "docs/MANIFEST.md"));
  // The parser's tables: the top level, [deployment], [model], [activate], and the arrays.
  REQUIRE(parser.size() >= 8);
  for (const auto& [table, keys] : parser) {
    if (table == "top level") {
      for (const std::string& t : keys) {
        const bool documented = reference.contains("[" + t + "]") || reference.contains("[[" + t + "]]");
        INFO("table " << t << " has no section in docs/MANIFEST.md");
        CHECK(documented);
      }
      continue;
    }
    INFO("table " << table);
    REQUIRE(reference.contains(table));
    CHECK(reference.at(table) == keys);
  }
}

TEST_CASE("manifest reference: every full example parses", "[manifest]") {
  const std::string md = read(k_source / "docs/MANIFEST.md");
  test::TempDir dir;
  // What the examples name relative to the manifest (and the absolute keyring).
  const stdfs::path base = dir.path() / "site";
  for (const char* d : {"site/serve", "site/demo-llm/serve", "site/keys", "demo-out/model-v1", "keyrings"}) {
    stdfs::create_directories(dir.path() / d);
  }
  std::ofstream(base / "requirements.txt") << "";
  std::ofstream(base / "keys" / "example-apt.gpg") << "";
  std::ofstream(dir.path() / "keyrings" / "debian-archive-keyring.gpg") << "";
  int parsed = 0;
  std::size_t at = 0;
  while ((at = md.find("```toml\n", at)) != std::string::npos) {
    const std::size_t start = at + 8;
    const std::size_t end = md.find("```", start);
    REQUIRE(end != std::string::npos);
    std::string toml = md.substr(start, end - start);
    at = end + 3;
    if (toml.find("[deployment]") == std::string::npos) {
      continue;  // a fragment
    }
    for (std::size_t p; (p = toml.find("/usr/share/keyrings/")) != std::string::npos;) {
      toml.replace(p, 20, (dir.path() / "keyrings").string() + "/");
    }
    auto m = parse_manifest_text(toml, base / "example.toml");
    INFO(toml);
    REQUIRE(m);
    ++parsed;
  }
  CHECK(parsed >= 3);
}

}  // namespace
}  // namespace airlock::manifest

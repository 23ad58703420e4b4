#include "bundler/sources/apt_resolve.h"

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "bundler/sources/apt_repo.h"
#include "bundler/sources/deb822.h"
#include "bundler/sources/gpgv.h"

namespace airlock::bundler::apt {
namespace {

// ---- deb822 stanzas -------------------------------------------------------

TEST_CASE("apt_deps: stanzas, continuation lines and multi-line fields", "[apt][deb822]") {
  auto st = parse_stanzas(
      "Origin: test\n"
      "SHA256:\n"
      " 0123 10 main/binary-amd64/Packages\n"
      " 4567 20 main/binary-amd64/Packages.xz\n"
      "\n"
      "\n"
      "Package: a\n"
      "Description: short\n"
      " long line\n"
      " .\n"
      " after the empty line\n");
  REQUIRE(st);
  REQUIRE(st->size() == 2);
  CHECK((*st)[0].get("origin") == "test");  // names compare case-insensitively
  CHECK((*st)[0].get("SHA256") == "\n0123 10 main/binary-amd64/Packages\n4567 20 main/binary-amd64/Packages.xz");
  CHECK((*st)[1].get("Description") == "short\nlong line\n\nafter the empty line");
  CHECK((*st)[1].line == 7);
  CHECK_FALSE((*st)[1].get("Version"));
}

TEST_CASE("apt_deps: a malformed line names its line number", "[apt][deb822]") {
  auto st = parse_stanzas("Package: a\nthis is not a field\n");
  REQUIRE_FALSE(st);
  CHECK(st.error().message().find("line 2") != std::string::npos);
  auto cont = parse_stanzas(" leading continuation\n");
  REQUIRE_FALSE(cont);
}

// ---- relationship fields --------------------------------------------------

TEST_CASE("apt_deps: alternatives, relations, qualifiers and restrictions", "[apt][deps]") {
  auto deps = parse_dependencies("libc6 (>= 2.34), libfoo (>= 1.0) | libalt, python3:any, gcc:native (<< 13), "
                                 "x (= 1:2.0-1) [amd64], y (<= 3) [!amd64], z (>> 0~),");
  REQUIRE(deps);
  REQUIRE(deps->size() == 7);
  CHECK((*deps)[0][0].name == "libc6");
  CHECK((*deps)[0][0].relation == Relation::kLaterEqual);
  CHECK((*deps)[0][0].version == "2.34");
  REQUIRE((*deps)[1].size() == 2);
  CHECK((*deps)[1][0].to_string() == "libfoo (>= 1.0)");
  CHECK((*deps)[1][1].name == "libalt");
  CHECK((*deps)[1][1].relation == Relation::kAny);
  CHECK((*deps)[2][0].arch_qualifier == "any");
  CHECK((*deps)[3][0].arch_qualifier == "native");
  CHECK((*deps)[3][0].relation == Relation::kEarlier);
  CHECK((*deps)[4][0].version == "1:2.0-1");
  CHECK((*deps)[4][0].applies_to("amd64"));
  CHECK_FALSE((*deps)[4][0].applies_to("arm64"));
  CHECK_FALSE((*deps)[5][0].applies_to("amd64"));
  CHECK((*deps)[5][0].applies_to("arm64"));
  CHECK((*deps)[6][0].relation == Relation::kLater);
}

TEST_CASE("apt_deps: dpkg's obsolete '<' and '>' mean '<=' and '>='", "[apt][deps]") {
  auto deps = parse_dependencies("a (< 2), b (> 1)");
  REQUIRE(deps);
  CHECK((*deps)[0][0].relation == Relation::kEarlierEqual);
  CHECK((*deps)[1][0].relation == Relation::kLaterEqual);
}

TEST_CASE("apt_deps: malformed relations are refused", "[apt][deps]") {
  CHECK_FALSE(parse_dependencies("a (>= 1"));
  CHECK_FALSE(parse_dependencies("a (~= 1)"));
  CHECK_FALSE(parse_dependencies("a (>= )"));
  CHECK_FALSE(parse_dependencies("a | , b"));
  CHECK_FALSE(parse_dependencies("(>= 1)"));
  CHECK_FALSE(parse_dependencies("a b"));
}

TEST_CASE("apt_deps: relations compare Debian versions", "[apt][deps]") {
  CHECK(relation_satisfied(Relation::kLaterEqual, "1.0", "1.0"));
  CHECK(relation_satisfied(Relation::kLaterEqual, "1.10", "1.9"));
  CHECK_FALSE(relation_satisfied(Relation::kLaterEqual, "1.0~rc1", "1.0"));
  CHECK(relation_satisfied(Relation::kEarlier, "1.0~rc1", "1.0"));
  CHECK_FALSE(relation_satisfied(Relation::kEarlier, "1.0", "1.0"));
  CHECK(relation_satisfied(Relation::kEqual, "0:1.0-0", "1.0"));
  CHECK(relation_satisfied(Relation::kLater, "1:0.1", "9.9"));
  CHECK(relation_satisfied(Relation::kAny, "anything", ""));
}

// ---- clearsigned files ----------------------------------------------------

TEST_CASE("apt_deps: clearsigned text is split as apt does", "[apt][gpgv]") {
  std::string good =
      "-----BEGIN PGP SIGNED MESSAGE-----\n"
      "Hash: SHA512\n"
      "\n"
      "Origin: x\n"
      "- -dash line\n"
      "-----BEGIN PGP SIGNATURE-----\n"
      "\n"
      "abc\n"
      "-----END PGP SIGNATURE-----\n";
  auto text = clearsigned_text(good);
  REQUIRE(text);
  CHECK(*text == "Origin: x\n-dash line\n");
  // Text outside the signed part, or a second message, is refused.
  CHECK_FALSE(clearsigned_text("Origin: evil\n" + good));
  CHECK_FALSE(clearsigned_text(good + "Origin: evil\n"));
  CHECK_FALSE(clearsigned_text("Origin: x\n"));
  auto unescaped = clearsigned_text(
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n-----BEGIN PGP SIGNED MESSAGE-----\n"
      "-----BEGIN PGP SIGNATURE-----\n-----END PGP SIGNATURE-----\n");
  CHECK_FALSE(unescaped);
}

// ---- resolution -----------------------------------------------------------

constexpr const char* k_sha = "0000000000000000000000000000000000000000000000000000000000000000";

std::string stanza(const std::string& name, const std::string& version, const std::string& extra = "",
                   const std::string& arch = "amd64") {
  return "Package: " + name + "\nVersion: " + version + "\nArchitecture: " + arch + "\n" + extra + "Filename: ./" +
         name + "_" + version + "_" + arch + ".deb\nSize: 100\nSHA256: " + k_sha + "\n\n";
}

RepoIndex repo(const std::string& label, const std::string& packages, std::size_t index) {
  RepoIndex r;
  r.label = label;
  r.base_url = label;
  r.architecture = "amd64";
  auto pkgs = parse_packages(packages, "amd64", index, label);
  REQUIRE(pkgs);
  r.packages = std::move(*pkgs);
  return r;
}

std::vector<std::string> names(const Resolution& res) {
  std::vector<std::string> out;
  for (const Chosen& c : res.chosen) {
    out.push_back(c.package->name + "=" + c.package->version);
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::string k_main = stanza("app", "2.0", "Depends: libfoo (>= 1.0) | libalt, virt\n") +
                           stanza("app", "1.0", "Depends: libold\n") +
                           stanza("libfoo", "1.5", "Pre-Depends: base\n") +
                           stanza("libfoo", "0.9", "Pre-Depends: base\n") + stanza("libalt", "1.0") +
                           stanza("base", "1.0", "", "all") + stanza("impl", "3.0", "Provides: virt (= 3.0)\n") +
                           stanza("other", "1.0", "", "arm64");

TEST_CASE("apt_resolve: newest version, alternatives, Pre-Depends and Provides", "[apt][resolve]") {
  std::vector<RepoIndex> repos = {repo("http://r/", k_main, 0)};
  auto res = resolve_packages(repos, {parse_request("app", 0)}, {});
  REQUIRE(res);
  CHECK(names(*res) == std::vector<std::string>{"app=2.0", "base=1.0", "impl=3.0", "libfoo=1.5"});
  auto base = std::find_if(res->chosen.begin(), res->chosen.end(),
                           [](const Chosen& c) { return c.package->name == "base"; });
  REQUIRE(base != res->chosen.end());
  CHECK(base->needed_by == "app → libfoo");
  CHECK_FALSE(base->requested);
}

TEST_CASE("apt_resolve: NAME=VERSION takes that exact version", "[apt][resolve]") {
  std::vector<RepoIndex> repos = {repo("http://r/", k_main + stanza("libold", "1"), 0)};
  auto res = resolve_packages(repos, {parse_request("app=1.0", 0)}, {});
  REQUIRE(res);
  CHECK(names(*res) == std::vector<std::string>{"app=1.0", "libold=1"});
}

TEST_CASE("apt_resolve: the first satisfiable alternative is taken", "[apt][resolve]") {
  // Only libfoo 0.9 exists: "libfoo (>= 1.0) | libalt" falls through to libalt.
  std::string pkgs = stanza("app", "2.0", "Depends: libfoo (>= 1.0) | libalt\n") + stanza("libfoo", "0.9") +
                     stanza("libalt", "1.0");
  std::vector<RepoIndex> repos = {repo("http://r/", pkgs, 0)};
  auto res = resolve_packages(repos, {parse_request("app", 0)}, {});
  REQUIRE(res);
  CHECK(names(*res) == std::vector<std::string>{"app=2.0", "libalt=1.0"});
}

TEST_CASE("apt_resolve: an alternative already requested satisfies the clause", "[apt][resolve]") {
  std::vector<RepoIndex> repos = {repo("http://r/", k_main, 0)};
  auto res = resolve_packages(repos, {parse_request("app", 0), parse_request("libalt", 0)}, {});
  REQUIRE(res);
  CHECK(names(*res) == std::vector<std::string>{"app=2.0", "impl=3.0", "libalt=1.0"});
}

TEST_CASE("apt_resolve: dependencies resolve across repositories", "[apt][resolve]") {
  std::vector<RepoIndex> repos = {
      repo("http://one/", stanza("app", "1", "Depends: lib (>= 2)\n") + stanza("lib", "1"), 0),
      repo("http://two/", stanza("lib", "2.5"), 1)};
  auto res = resolve_packages(repos, {parse_request("app", 0)}, {});
  REQUIRE(res);
  CHECK(names(*res) == std::vector<std::string>{"app=1", "lib=2.5"});
  auto lib = std::find_if(res->chosen.begin(), res->chosen.end(), [](const Chosen& c) { return c.package->name == "lib"; });
  CHECK(lib->package->repo == 1);
}

TEST_CASE("apt_resolve: what the target has installed is left out", "[apt][resolve]") {
  std::vector<RepoIndex> repos = {repo("http://r/", k_main, 0)};
  auto installed = parse_dpkg_status(
      "Package: base\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n\n"
      "Package: libfoo\nStatus: install ok installed\nVersion: 0.5\nArchitecture: amd64\n\n"  // too old: shipped
      "Package: other-virt\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\nProvides: virt\n\n"
      "Package: libalt\nStatus: deinstall ok config-files\nVersion: 1.0\nArchitecture: amd64\n\n",
      "status");
  REQUIRE(installed);
  REQUIRE(installed->size() == 3);
  auto res = resolve_packages(repos, {parse_request("app", 0)}, *installed);
  REQUIRE(res);
  CHECK(names(*res) == std::vector<std::string>{"app=2.0", "libfoo=1.5"});
  CHECK(res->satisfied_on_target.size() == 2);  // base, virt
}

TEST_CASE("apt_resolve: a versioned dependency needs a versioned Provides", "[apt][resolve]") {
  std::string pkgs = stanza("app", "1", "Depends: virt (>= 2)\n") + stanza("p1", "1", "Provides: virt\n") +
                     stanza("p2", "1", "Provides: virt (= 2.1)\n");
  std::vector<RepoIndex> repos = {repo("http://r/", pkgs, 0)};
  auto res = resolve_packages(repos, {parse_request("app", 0)}, {});
  REQUIRE(res);
  CHECK(names(*res) == std::vector<std::string>{"app=1", "p2=1"});
}

TEST_CASE("apt_resolve: architecture qualifiers", "[apt][resolve]") {
  std::string pkgs = stanza("app", "1", "Depends: python3:any, libc:native, tool:arm64 | tool-fallback\n") +
                     stanza("python3", "3.11") + stanza("libc", "2.36") + stanza("tool-fallback", "1");
  std::vector<RepoIndex> repos = {repo("http://r/", pkgs, 0)};
  auto res = resolve_packages(repos, {parse_request("app", 0)}, {});
  REQUIRE(res);
  // tool:arm64 cannot be satisfied by amd64 packages: the alternative is taken.
  CHECK(names(*res) == std::vector<std::string>{"app=1", "libc=2.36", "python3=3.11", "tool-fallback=1"});
  // An installed package of another architecture satisfies ":any" and, when
  // Multi-Arch: foreign, an unqualified dependency too.
  auto installed = parse_dpkg_status(
      "Package: python3\nStatus: install ok installed\nVersion: 3.11\nArchitecture: arm64\n\n"
      "Package: libc\nStatus: install ok installed\nVersion: 2.36\nArchitecture: arm64\nMulti-Arch: foreign\n",
      "status");
  REQUIRE(installed);
  auto res2 = resolve_packages(repos, {parse_request("app", 0)}, *installed);
  REQUIRE(res2);
  CHECK(names(*res2) == std::vector<std::string>{"app=1", "tool-fallback=1"});
}

TEST_CASE("apt_resolve: an unsatisfiable dependency names the chain", "[apt][resolve]") {
  std::string pkgs = stanza("cuda-toolkit-12-4", "12.4.1-1", "Depends: mid\n") +
                     stanza("mid", "1", "Depends: libfoo (>= 2)\n") + stanza("libfoo", "1.0");
  std::vector<RepoIndex> repos = {repo("http://r/", pkgs, 0)};
  auto res = resolve_packages(repos, {parse_request("cuda-toolkit-12-4", 0)}, {});
  REQUIRE_FALSE(res);
  CHECK(res.error().code() == ErrorCode::kNotFound);
  const std::string& m = res.error().message();
  INFO(m);
  CHECK(m.find("cuda-toolkit-12-4 → mid → libfoo (>= 2): not in any [[deb]] repository") != std::string::npos);
  CHECK(m.find("libfoo 1.0") != std::string::npos);
}

TEST_CASE("apt_resolve: a missing package or version names the repository", "[apt][resolve]") {
  std::vector<RepoIndex> repos = {repo("http://r/ flat", k_main, 0)};
  auto missing = resolve_packages(repos, {parse_request("nosuch", 0)}, {});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kNotFound);
  CHECK(missing.error().message().find("http://r/ flat") != std::string::npos);
  CHECK(missing.error().message().find("'nosuch'") != std::string::npos);
  auto version = resolve_packages(repos, {parse_request("app=3.0", 0)}, {});
  REQUIRE_FALSE(version);
  CHECK(version.error().code() == ErrorCode::kNotFound);
  CHECK(version.error().message().find("no version 3.0") != std::string::npos);
  CHECK(version.error().message().find("2.0") != std::string::npos);
  // Packages of another architecture are not there for this one.
  CHECK_FALSE(resolve_packages(repos, {parse_request("other", 0)}, {}));
}

TEST_CASE("apt_resolve: a chosen version that does not fit a later relation is an error", "[apt][resolve]") {
  std::string pkgs = stanza("app", "1", "Depends: lib (>= 2)\n") + stanza("lib", "1") + stanza("lib", "2");
  std::vector<RepoIndex> repos = {repo("http://r/", pkgs, 0)};
  auto res = resolve_packages(repos, {parse_request("lib=1", 0), parse_request("app", 0)}, {});
  REQUIRE_FALSE(res);
  CHECK(res.error().message().find("lib 1 is already chosen (requested)") != std::string::npos);
}

TEST_CASE("apt_resolve: Packages stanzas for other architectures are dropped", "[apt][resolve]") {
  auto pkgs = parse_packages(stanza("a", "1") + stanza("b", "1", "", "all") + stanza("c", "1", "", "arm64"), "amd64",
                             0, "P");
  REQUIRE(pkgs);
  CHECK(pkgs->size() == 2);
  auto bad = parse_packages("Package: a\nVersion: 1\n\n", "amd64", 0, "P");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("P: line 1") != std::string::npos);
}

}  // namespace
}  // namespace airlock::bundler::apt

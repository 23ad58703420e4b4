// bundler/sources/sources.h: the source kind table: which kind owns which
// locked source, what goes into the payload, inspect's words, and local
// resolution through the table (no network).
#include "bundler/sources/sources.h"

#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

namespace airlock::bundler {
namespace {

using nlohmann::json;

std::string kind_of(std::string_view kind, const json& identity) {
  const SourceKind* k = find_source_kind(kind, identity);
  return k == nullptr ? std::string("(none)") : std::string(k->name);
}

TEST_CASE("sources: every lock kind has exactly one owner, and each kind one name", "[sources]") {
  CHECK(kind_of("model", {{"repo", "org/name"}, {"commit", "c"}}) == "hf");
  CHECK(kind_of("model", {{"source", "/models/x"}}) == "model_dir");
  CHECK(kind_of("model", json::object()) == "model_dir");  // as the payload carries it
  CHECK(kind_of("image", {{"ref", "docker.io/library/ubuntu:22.04"}}) == "oci");
  CHECK(kind_of("oci-layout", {{"refs", json::array()}}) == "oci");
  CHECK(kind_of("deb", {{"repo", "https://deb.debian.org/debian/"}}) == "apt");
  CHECK(kind_of("wheels", {{"index", "https://pypi.org/simple/"}}) == "wheels");
  CHECK(kind_of("files", {{"dest", "config"}}) == "files");
  CHECK(kind_of("tarball", json::object()) == "(none)");
  std::set<std::string_view> names;
  for (const SourceKind* k : source_kinds()) {
    CHECK(names.insert(k->name).second);
    CHECK(k->resolve != nullptr);
    CHECK(k->owns != nullptr);
    CHECK(k->describe != nullptr);
  }
  CHECK(names.size() == 6);
}

TEST_CASE("sources: the payload drops only a local model's directory", "[sources]") {
  LockedSource local{"model", {{"source", "/home/me/model"}}, {}};
  CHECK(payload_identity(local) == json::object());
  LockedSource hub{"model", {{"source", "hf://org/name"}, {"repo", "org/name"}}, {}};
  CHECK(payload_identity(hub) == hub.identity);
  LockedSource files{"files", {{"dest", "config"}}, {}};
  CHECK(payload_identity(files) == files.identity);
}

TEST_CASE("sources: inspect's words for each kind", "[sources]") {
  CHECK(describe_source("model", {{"repo", "org/name"}, {"commit", "abc"}}) == "hf://org/name @ abc");
  CHECK(describe_source("model", json::object()).empty());
  CHECK(describe_source("image", {{"ref", "r:1"}, {"platform", "linux/amd64"}, {"digest", "sha256:ab"}}) ==
        "r:1 linux/amd64 sha256:ab");
  CHECK(describe_source("oci-layout", {{"refs", json::array({"r:1"})}}).empty());
  CHECK(describe_source("deb", {{"repo", "https://deb/"}}) == "https://deb/");
  CHECK(describe_source("wheels", {{"index", "https://pypi/simple/"}}) == "https://pypi/simple/");
  CHECK(describe_source("files", {{"dest", "config"}}) == "config");
  CHECK(describe_source("tarball", {{"index", "x"}}) == "x");  // unknown kinds: what the identity names
}

TEST_CASE("sources: downloads by kind, plain ones named by the repository", "[sources]") {
  LockedSource deb{"deb", {{"repo", "http://127.0.0.1:9/debian/"}, {"insecure", true}}, {}};
  deb.files.push_back(LockedFile{"debs/a.deb", "http://127.0.0.1:9/debian/a.deb", 3, std::string(64, 'a')});
  deb.files.push_back(LockedFile{"debs/b.deb", "/local/b.deb", 3, std::string(64, 'b')});
  auto items = fetch_items(deb, ResolveContext{});
  REQUIRE(items);
  REQUIRE(items->size() == 1);
  CHECK((*items)[0].what == "http://127.0.0.1:9/debian/: debs/a.deb");
  CHECK((*items)[0].allow_insecure_http);
  CHECK((*items)[0].sha256 == std::string(64, 'a'));
  LockedSource other{"tarball", json::object(), deb.files};
  auto plain = fetch_items(other, ResolveContext{});
  REQUIRE(plain);
  REQUIRE(plain->size() == 1);
  CHECK((*plain)[0].what == "tarball: debs/a.deb");
  CHECK_FALSE((*plain)[0].allow_insecure_http);
}

TEST_CASE("sources: local [model] and [[files]] resolve through the table, in manifest order", "[sources]") {
  test::TempDir dir("sources");
  std::filesystem::create_directories(dir.path() / "model");
  std::ofstream(dir.path() / "model" / "config.json") << "{}";
  std::ofstream(dir.path() / "model" / "notes.txt") << "x";
  std::ofstream(dir.path() / "run.sh") << "echo";
  auto m = manifest::parse_manifest_text(R"(
[deployment]
name = "demo"
version = "1.0"
[model]
source = "model"
exclude = ["*.txt"]
[[files]]
source = "run.sh"
dest = "bin/run.sh"
)",
                                         dir.path() / "airlock.toml", dir.path());
  REQUIRE(m);
  ResolveContext ctx;
  ctx.hash_local = true;
  auto sources = resolve_sources(*m, ctx);
  REQUIRE(sources);
  REQUIRE(sources->size() == 2);
  CHECK((*sources)[0].kind == "model");
  REQUIRE((*sources)[0].files.size() == 1);
  CHECK((*sources)[0].files[0].path == "model/config.json");
  CHECK((*sources)[0].files[0].sha256 == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  CHECK((*sources)[1].kind == "files");
  CHECK((*sources)[1].files[0].path == "bin/run.sh");
  ctx.hash_local = false;
  auto unhashed = resolve_sources(*m, ctx);
  REQUIRE(unhashed);
  CHECK((*unhashed)[0].files[0].sha256.empty());
}

TEST_CASE("sources: a local [model] whose globs select nothing is refused by name", "[sources]") {
  test::TempDir dir("sources");
  std::filesystem::create_directories(dir.path() / "model");
  std::ofstream(dir.path() / "model" / "notes.txt") << "x";
  auto m = manifest::parse_manifest_text(R"(
[deployment]
name = "demo"
version = "1.0"
[model]
source = "model"
include = ["*.json"]
)",
                                         dir.path() / "airlock.toml", dir.path());
  REQUIRE(m);
  auto sources = resolve_sources(*m, ResolveContext{});
  REQUIRE_FALSE(sources);
  CHECK(sources.error().message().find("[model] no file in") != std::string::npos);
}

}  // namespace
}  // namespace airlock::bundler

#include "bundler/sources/hf_hub.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "bundler/sources/sources.h"
#include "tests/support/temp_dir.h"

namespace airlock::bundler {
namespace {

// The hf kind's downloads, reached through the source kind table as fetch_lock does.
Result<std::vector<net::FetchItem>> hf_fetch(const LockedSource& s, const ResolveContext& ctx) {
  const SourceKind* kind = find_source_kind(s.kind, s.identity);
  REQUIRE(kind != nullptr);
  REQUIRE(kind->name == "hf");
  return fetch_items(s, ctx);
}

// Sets environment variables for one test and puts the old values back.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name);
      m_old[name] = old == nullptr ? std::nullopt : std::optional<std::string>(old);
      if (value == nullptr) {
        ::unsetenv(name);
      } else {
        ::setenv(name, value, 1);
      }
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : m_old) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> m_old;
};

TEST_CASE("hf: the next page comes from rel=\"next\" only", "[hf]") {
  CHECK(hf::next_link(R"(<https://hub/api/models/a/b/tree/c?cursor=x>; rel="next")") ==
        "https://hub/api/models/a/b/tree/c?cursor=x");
  CHECK(hf::next_link(R"(<https://h/p1>; rel="prev", <https://h/p3>; rel="next")") == "https://h/p3");
  CHECK(hf::next_link(R"(</api/x?cursor=a,b>; REL=next)") == "/api/x?cursor=a,b");
  CHECK(hf::next_link(R"(<https://h/p1>; rel="prev")").empty());
  CHECK(hf::next_link(R"(<https://h/p1>; rel="nextish")").empty());
  CHECK(hf::next_link(R"(<https://h/p1>; title="rel=next"; rel=prev)").empty());
  CHECK(hf::next_link(R"(<https://h/p9>; rel="last next")") == "https://h/p9");
  CHECK(hf::next_link("garbage").empty());
  CHECK(hf::next_link("").empty());
}

TEST_CASE("hf: etags lose W/ and quotes", "[hf]") {
  CHECK(hf::normalize_etag(R"("abc")") == "abc");
  CHECK(hf::normalize_etag(R"(W/"abc")") == "abc");
  CHECK(hf::normalize_etag("abc") == "abc");
}

TEST_CASE("hf: repository ids follow the Hub's rules", "[hf]") {
  CHECK(hf::repo_from_source("hf://meta-llama/Llama-3.1-8B-Instruct").value() == "meta-llama/Llama-3.1-8B-Instruct");
  CHECK(hf::repo_from_source("hf://a_b/c.d-e").value() == "a_b/c.d-e");
  for (const char* bad : {"hf://name", "hf://org/", "hf:///name", "hf://a/b/c", "hf://org/na--me", "hf://org/a..b",
                          "hf://org/name.git", "hf://-org/name", "hf://org/name-", "hf://org/na me", "hf://org/n%41",
                          "https://huggingface.co/org/name", "hf://org/naïve"}) {
    INFO(bad);
    auto r = hf::repo_from_source(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  }
  CHECK_FALSE(hf::repo_from_source("hf://org/" + std::string(97, 'a')));
}

TEST_CASE("hf: resolve URLs encode each path segment", "[hf]") {
  CHECK(hf::resolve_url("https://hub", "o/n", std::string(40, 'a'), "templates/chat template+v1.jinja") ==
        "https://hub/o/n/resolve/" + std::string(40, 'a') + "/templates/chat%20template%2Bv1.jinja");
  CHECK(hf::resolve_url("https://hub", "o/n", "c", "a/b/c.json") == "https://hub/o/n/resolve/c/a/b/c.json");
}

TEST_CASE("hf: endpoint from HF_ENDPOINT, trailing slashes stripped", "[hf]") {
  {
    ScopedEnv env{{"HF_ENDPOINT", nullptr}};
    CHECK(hf::endpoint_from_env() == "https://huggingface.co");
  }
  {
    ScopedEnv env{{"HF_ENDPOINT", "http://127.0.0.1:8080//"}};
    CHECK(hf::endpoint_from_env() == "http://127.0.0.1:8080");
  }
}

TEST_CASE("hf: token from HF_TOKEN, then HUGGING_FACE_HUB_TOKEN, then the token file", "[hf]") {
  test::TempDir dir("hf-token");
  const std::string home = (dir.path() / "hf").string();
  std::filesystem::create_directories(home);
  std::ofstream(dir.path() / "hf" / "token") << "  hf_from_file \n";
  {
    ScopedEnv env{{"HF_TOKEN", " hf_one\n"}, {"HUGGING_FACE_HUB_TOKEN", "hf_two"}, {"HF_HOME", home.c_str()},
                  {"HF_TOKEN_PATH", nullptr}};
    auto t = hf::token_from_env();
    REQUIRE(t);
    REQUIRE(*t);
    CHECK((*t)->value == "hf_one");
    CHECK((*t)->from == "$HF_TOKEN");
  }
  {
    ScopedEnv env{{"HF_TOKEN", "  "}, {"HUGGING_FACE_HUB_TOKEN", "hf_two"}, {"HF_HOME", home.c_str()},
                  {"HF_TOKEN_PATH", nullptr}};
    CHECK(hf::token_from_env().value()->value == "hf_two");
  }
  {
    ScopedEnv env{{"HF_TOKEN", nullptr}, {"HUGGING_FACE_HUB_TOKEN", nullptr}, {"HF_HOME", home.c_str()},
                  {"HF_TOKEN_PATH", nullptr}};
    auto t = hf::token_from_env();
    REQUIRE(t);
    REQUIRE(*t);
    CHECK((*t)->value == "hf_from_file");
    CHECK((*t)->from == (dir.path() / "hf" / "token").string());
  }
  {
    ScopedEnv env{{"HF_TOKEN", nullptr}, {"HUGGING_FACE_HUB_TOKEN", nullptr}, {"HF_HOME", dir.path().c_str()},
                  {"HF_TOKEN_PATH", nullptr}};
    auto t = hf::token_from_env();
    REQUIRE(t);
    CHECK_FALSE(*t);  // no token file: anonymous
  }
  {
    std::ofstream(dir.path() / "two-lines") << "hf_a\nhf_b\n";
    const std::string two = (dir.path() / "two-lines").string();
    ScopedEnv env{{"HF_TOKEN", nullptr}, {"HUGGING_FACE_HUB_TOKEN", nullptr}, {"HF_TOKEN_PATH", two.c_str()}};
    auto t = hf::token_from_env();
    REQUIRE_FALSE(t);
    CHECK(t.error().message().find("two-lines") != std::string::npos);
  }
  {
    ScopedEnv env{{"HF_TOKEN", "hf_a\r\nX-Injected: 1"}};
    CHECK_FALSE(hf::token_from_env());
  }
}

LockedSource locked(const std::string& endpoint) {
  const std::string commit(40, 'c');
  LockedSource s;
  s.kind = "model";
  s.identity = {{"source", "hf://org/name"}, {"repo", "org/name"}, {"revision", "main"}, {"commit", commit},
                {"endpoint", endpoint}};
  s.files.push_back(LockedFile{"model/model.safetensors", hf::resolve_url(endpoint, "org/name", commit, "model.safetensors"),
                               10, std::string(64, 'a'), 0644, "", {{"lfs", true}, {"blob", std::string(64, 'a')}}});
  s.files.push_back(LockedFile{"model/config.json", hf::resolve_url(endpoint, "org/name", commit, "config.json"), 2,
                               std::string(64, 'b'), 0644, "",
                               {{"lfs", false}, {"blob", std::string(40, 'd')}, {"git_sha1", std::string(40, 'd')}}});
  return s;
}

TEST_CASE("hf: fetch items carry the token only to the configured endpoint", "[hf]") {
  ResolveContext ctx;
  {
    ScopedEnv env{{"HF_ENDPOINT", "http://127.0.0.1:9"}, {"HF_TOKEN", "hf_secret"}};
    auto items = hf_fetch(locked("http://127.0.0.1:9"), ctx);
    REQUIRE(items);
    REQUIRE(items->size() == 2);
    CHECK((*items)[0].what == "hf://org/name: model.safetensors");
    CHECK((*items)[0].authorization == "Bearer hf_secret");
    CHECK((*items)[0].git_sha1.empty());
    CHECK((*items)[0].sha256 == std::string(64, 'a'));
    CHECK((*items)[1].git_sha1 == std::string(40, 'd'));
  }
  {
    // A lock made against another endpoint does not get this machine's token.
    ScopedEnv env{{"HF_ENDPOINT", "http://127.0.0.1:10"}, {"HF_TOKEN", "hf_secret"}};
    auto items = hf_fetch(locked("http://127.0.0.1:9"), ctx);
    REQUIRE(items);
    CHECK((*items)[0].authorization.empty());
  }
}

TEST_CASE("hf: fetch items refuse a lock that points elsewhere", "[hf]") {
  ResolveContext ctx;
  ScopedEnv env{{"HF_ENDPOINT", "http://127.0.0.1:9"}, {"HF_TOKEN", "hf_secret"}};
  {
    LockedSource s = locked("http://127.0.0.1:9");
    s.files[0].origin = "http://127.0.0.2:9/steal";
    auto r = hf_fetch(s, ctx);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("model.safetensors") != std::string::npos);
  }
  {
    LockedSource s = locked("http://127.0.0.1:9");
    s.files[1].extra.erase("git_sha1");
    auto r = hf_fetch(s, ctx);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("git_sha1") != std::string::npos);
  }
  {
    LockedSource s = locked("http://127.0.0.1:9");
    s.files[1].path = "model/../etc/passwd";
    CHECK_FALSE(hf_fetch(s, ctx));
  }
  {
    LockedSource s = locked("http://127.0.0.1:9");
    s.identity["commit"] = "main";
    CHECK_FALSE(hf_fetch(s, ctx));
  }
}

}  // namespace
}  // namespace airlock::bundler

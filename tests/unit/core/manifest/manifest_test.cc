#include "core/manifest/manifest.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"
#include <fmt/core.h>

namespace airlock::manifest {
namespace {

namespace stdfs = std::filesystem;

using test::TempDir;

// A temp dir holding a model directory "model-dir" and a files source "serve".
struct Fixture {
  TempDir dir;
  stdfs::path manifest;
  Fixture() {
    stdfs::create_directories(dir.path() / "model-dir");
    stdfs::create_directories(dir.path() / "serve");
    std::ofstream(dir.path() / "serve" / "run.sh") << "#!/bin/sh\n";
    std::ofstream(dir.path() / "notes.txt") << "hello\n";
    manifest = dir.path() / "deploy.toml";
  }
  Result<Manifest> parse(std::string_view text) const { return parse_manifest_text(text, manifest); }
};

const char* const k_deployment = R"(
[deployment]
name = "demo-llm"
version = "1.0.0"
)";

const char* const k_model = R"(
[model]
source = "model-dir"
)";

// Expects kInvalidArgument whose message contains every needle.
void expect_invalid(const Result<Manifest>& r, std::initializer_list<std::string_view> needles) {
  REQUIRE_FALSE(r.has_value());
  INFO(r.error().message());
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  for (std::string_view n : needles) {
    CHECK(r.error().message().find(n) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("manifest: a full manifest parses", "[manifest]") {
  Fixture fx;
  const std::string text = R"(
# comment
[deployment]
name = "demo-llm"
version = "1.0.0+build.7"

[model]
source = "model-dir"
include = ["*.safetensors", "*.json"]
exclude = ["*.bin"]

[[files]]
source = "serve"
dest = "serve"

[[files]]
source = "notes.txt"
dest = "docs/notes.txt"

[activate]
run = ["systemctl", "restart", "demo-llm"]
health = "curl -sf http://127.0.0.1:8000/health"
timeout = "90s"
shell = true
)";
  auto m = fx.parse(text);
  REQUIRE(m.has_value());
  CHECK(m->name == "demo-llm");
  CHECK(m->version == "1.0.0+build.7");
  CHECK(m->path == fx.manifest);
  REQUIRE(m->model.has_value());
  CHECK(m->model->source == (fx.dir.path() / "model-dir").lexically_normal().string());
  CHECK_FALSE(m->model->revision.has_value());
  // A revision means something for the Hub only.
  expect_invalid(fx.parse(std::string(k_deployment) + k_model + "revision = \"abc123\"\n"), {"[model]", "revision"});
  CHECK(m->model->include == std::vector<std::string>{"*.safetensors", "*.json"});
  CHECK(m->model->exclude == std::vector<std::string>{"*.bin"});
  REQUIRE(m->files.size() == 2);
  CHECK(m->files[0].source == fx.dir.path() / "serve");
  CHECK(m->files[0].dest == "serve");
  CHECK(m->files[1].source == fx.dir.path() / "notes.txt");
  CHECK(m->files[1].dest == "docs/notes.txt");
  REQUIRE(m->activate.has_value());
  CHECK(m->activate->run == std::vector<std::string>{"systemctl", "restart", "demo-llm"});
  CHECK(m->activate->health == std::optional<std::string>("curl -sf http://127.0.0.1:8000/health"));
  CHECK(m->activate->timeout_seconds == 90);
  CHECK(m->activate->shell);
}

TEST_CASE("manifest: minimal manifests and defaults", "[manifest]") {
  Fixture fx;
  auto m = fx.parse(std::string(k_deployment) + k_model);
  REQUIRE(m.has_value());
  REQUIRE(m->model.has_value());
  CHECK(m->model->include.empty());
  CHECK(m->model->exclude.empty());
  CHECK_FALSE(m->model->revision.has_value());
  CHECK(m->files.empty());
  CHECK_FALSE(m->activate.has_value());

  // Only [[files]], absolute source.
  m = fx.parse(std::string(k_deployment) + "[[files]]\nsource = \"" + (fx.dir.path() / "notes.txt").string() +
               "\"\ndest = \"etc/notes\"\n");
  REQUIRE(m.has_value());
  CHECK_FALSE(m->model.has_value());
  REQUIRE(m->files.size() == 1);
  CHECK(m->files[0].source == fx.dir.path() / "notes.txt");

  // [activate] defaults.
  m = fx.parse(std::string(k_deployment) + k_model + "[activate]\nrun = [\"x\"]\n");
  REQUIRE(m.has_value());
  REQUIRE(m->activate.has_value());
  CHECK(m->activate->timeout_seconds == 120);
  CHECK_FALSE(m->activate->shell);
  CHECK_FALSE(m->activate->health.has_value());
}

TEST_CASE("manifest: unknown keys are errors naming the key and table", "[manifest]") {
  Fixture fx;
  expect_invalid(fx.parse(std::string(k_deployment) + k_model + "colour = \"blue\"\n"), {"colour"});
  expect_invalid(fx.parse(std::string("colour = \"blue\"\n") + k_deployment + k_model), {"top level", "colour"});
  expect_invalid(fx.parse(std::string(k_deployment) + k_model + "[modle]\nsource = \"x\"\n"), {"top level", "modle"});
  expect_invalid(fx.parse(std::string(k_deployment) + "author = \"me\"\n" + k_model), {"[deployment]", "author"});
  expect_invalid(fx.parse(std::string(k_deployment) + k_model + "includes = [\"*\"]\n"), {"[model]", "includes"});
  expect_invalid(fx.parse(std::string(k_deployment) + "[[files]]\nsource = \"serve\"\ndest = \"serve\"\nmode = 1\n"),
                 {"[[files]] #1", "mode"});
  expect_invalid(fx.parse(std::string(k_deployment) +
                          "[[files]]\nsource = \"serve\"\ndest = \"serve\"\n"
                          "[[files]]\nsource = \"serve\"\ndest = \"serve2\"\ndestination = \"x\"\n"),
                 {"[[files]] #2", "destination"});
  expect_invalid(fx.parse(std::string(k_deployment) + k_model + "[activate]\nrun = [\"x\"]\nretries = 3\n"),
                 {"[activate]", "retries"});
  // Every message names the manifest file.
  auto r = fx.parse(std::string(k_deployment) + k_model + "[activate]\nretries = 3\n");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find(fx.manifest.string()) != std::string::npos);
}

TEST_CASE("manifest: bad deployment names and versions", "[manifest]") {
  Fixture fx;
  for (std::string name : {"Demo", "a/b", "..", ".", "", "a b", "demo!"}) {
    INFO("name: " << name);
    expect_invalid(fx.parse("[deployment]\nname = \"" + name + "\"\nversion = \"1\"\n" + k_model),
                   {"[deployment] name"});
  }
  for (std::string version : {"", "1 0", "1/2", "..", "v1:2", "1.0~rc1"}) {
    INFO("version: " << version);
    expect_invalid(fx.parse("[deployment]\nname = \"demo\"\nversion = \"" + version + "\"\n" + k_model),
                   {"[deployment] version"});
  }
  expect_invalid(fx.parse(std::string("[deployment]\nversion = \"1\"\n") + k_model), {"[deployment]", "name"});
  expect_invalid(fx.parse(std::string("[deployment]\nname = \"demo\"\n") + k_model), {"[deployment]", "version"});
  expect_invalid(fx.parse(std::string("[deployment]\nname = 5\nversion = \"1\"\n") + k_model), {"name"});
  // Valid edge cases.
  CHECK(fx.parse(std::string("[deployment]\nname = \"a.b_c-9\"\nversion = \"V1.0+x_y-z\"\n") + k_model).has_value());
}

TEST_CASE("manifest: missing [deployment] and nothing to ship", "[manifest]") {
  Fixture fx;
  expect_invalid(fx.parse(k_model), {"[deployment]"});
  expect_invalid(fx.parse(std::string("deployment = \"demo\"\n") + k_model), {"[deployment]"});
  expect_invalid(fx.parse(k_deployment), {"nothing to ship"});
  expect_invalid(fx.parse(std::string(k_deployment) + "[activate]\nrun = [\"x\"]\n"), {"nothing to ship"});
}

TEST_CASE("manifest: [[files]] dest must be safe and not under model/", "[manifest]") {
  Fixture fx;
  for (std::string dest : {"../etc", "a/../../b", "/etc/passwd", "", "a//b", "./a", "a/."}) {
    INFO("dest: " << dest);
    expect_invalid(fx.parse(std::string(k_deployment) + "[[files]]\nsource = \"serve\"\ndest = \"" + dest + "\"\n"),
                   {"[[files]] #1", "dest"});
  }
  for (std::string dest : {"model", "model/x", "model/sub/y"}) {
    INFO("dest: " << dest);
    expect_invalid(fx.parse(std::string(k_deployment) + "[[files]]\nsource = \"serve\"\ndest = \"" + dest + "\"\n"),
                   {"[[files]] #1", "reserved"});
  }
  // "models" is not "model/".
  CHECK(fx.parse(std::string(k_deployment) + "[[files]]\nsource = \"serve\"\ndest = \"models\"\n").has_value());
  expect_invalid(fx.parse(std::string(k_deployment) + "[[files]]\nsource = \"serve\"\n"), {"[[files]] #1", "dest"});
  expect_invalid(fx.parse(std::string(k_deployment) + "[files]\nsource = \"serve\"\ndest = \"x\"\n"), {"[[files]]"});
}

TEST_CASE("manifest: remote sources", "[manifest]") {
  Fixture fx;
  auto r = fx.parse(std::string(k_deployment) + "[model]\nsource = \"hf://meta-llama/Llama-3.1-8B\"\nrevision = \"main\"\n");
  REQUIRE(r.has_value());
  CHECK(r->model->is_hub());
  CHECK(r->model->revision == "main");
  expect_invalid(fx.parse(std::string(k_deployment) + "[model]\nsource = \"hf://meta-llama\"\n"), {"[model]", "ORG/NAME"});

  r = fx.parse(std::string(k_deployment) +
               "[[image]]\nref = \"docker.io/vllm/vllm-openai:v0.6.3\"\n"
               "[[deb]]\nrepo = \"https://example.org/debian bookworm main contrib\"\npackages = [\"curl=7.88.1-10\"]\n"
               "[[deb]]\nrepo = \"https://example.org/cuda/x86_64/\"\npackages = [\"cuda-toolkit-12-4\"]\n");
  REQUIRE(r.has_value());
  REQUIRE(r->images.size() == 1);
  CHECK(r->images[0].platform == "linux/amd64");
  REQUIRE(r->apt.size() == 2);
  CHECK(r->apt[0].repo == "https://example.org/debian/");
  CHECK(r->apt[0].suite == "bookworm");
  CHECK(r->apt[0].components == std::vector<std::string>{"main", "contrib"});
  CHECK(r->apt[1].suite.empty());
  expect_invalid(fx.parse(std::string(k_deployment) + "[[deb]]\nrepo = \"ftp://x/\"\npackages = [\"a\"]\n"),
                 {"[[deb]] #1", "URL"});
  expect_invalid(fx.parse(std::string(k_deployment) + "[[image]]\nref = \"a\"\nplatform = \"amd64\"\n"),
                 {"[[image]] #1", "platform"});
  expect_invalid(fx.parse(std::string(k_deployment) + k_model + "[[files]]\nsource = \"serve\"\ndest = \"images/x\"\n"),
                 {"[[files]] #1", "reserved"});
  expect_invalid(fx.parse(std::string(k_deployment) + "[model]\nsource = \"s3://bucket/model\"\n"), {"[model]", "scheme"});
  expect_invalid(fx.parse(std::string(k_deployment) + "[[model]]\nsource = \"model-dir\"\n"), {"[model]"});
}

TEST_CASE("manifest: missing sources are kNotFound", "[manifest]") {
  Fixture fx;
  auto r = fx.parse(std::string(k_deployment) + "[model]\nsource = \"no-such-model\"\n");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kNotFound);
  CHECK(r.error().message().find("no-such-model") != std::string::npos);

  // A file is not a model directory.
  r = fx.parse(std::string(k_deployment) + "[model]\nsource = \"notes.txt\"\n");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kNotFound);

  r = fx.parse(std::string(k_deployment) + "[[files]]\nsource = \"missing.txt\"\ndest = \"x\"\n");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kNotFound);
  CHECK(r.error().message().find("missing.txt") != std::string::npos);
}

TEST_CASE("manifest: invalid TOML is an error naming the line", "[manifest]") {
  Fixture fx;
  auto r = fx.parse("[deployment]\nname = \"demo\"\nversion = \n");
  expect_invalid(r, {"line 3"});
  r = fx.parse("[deployment\nname = \"demo\"\n");
  expect_invalid(r, {"line 1"});
  r = fx.parse("[deployment]\nname = \"demo\"\nname = \"again\"\nversion = \"1\"\n");
  expect_invalid(r, {"line 3"});
}

TEST_CASE("manifest: [activate] values are checked", "[manifest]") {
  Fixture fx;
  auto with_activate = [&](std::string body) { return fx.parse(std::string(k_deployment) + k_model + "[activate]\n" + body); };
  expect_invalid(with_activate("timeout = \"90x\"\n"), {"[activate] timeout"});
  expect_invalid(with_activate("timeout = 90\n"), {"timeout"});
  expect_invalid(with_activate("shell = \"yes\"\n"), {"shell"});
  expect_invalid(with_activate("run = \"systemctl restart x\"\n"), {"run"});
  expect_invalid(with_activate("run = [1, 2]\n"), {"run"});
  auto m = with_activate("timeout = \"15m\"\n");
  REQUIRE(m.has_value());
  CHECK(m->activate->timeout_seconds == 900);
}

TEST_CASE("manifest: parse_manifest reads the file", "[manifest]") {
  Fixture fx;
  std::ofstream(fx.manifest) << k_deployment << k_model;
  auto m = parse_manifest(fx.manifest);
  REQUIRE(m.has_value());
  CHECK(m->name == "demo-llm");
  auto missing = parse_manifest(fx.dir.path() / "nope.toml");
  REQUIRE_FALSE(missing.has_value());
}

TEST_CASE("manifest: is_safe_relative_path", "[manifest]") {
  struct Case {
    std::string path;
    bool safe;
  };
  const std::vector<Case> cases = {
      {"a", true},
      {"a/b", true},
      {"model/model-00001-of-00002.safetensors", true},
      {"a.b/c", true},
      {".hidden", true},
      {"a/.b", true},
      {"..a", true},
      {"a..", true},
      {"...", true},
      {"", false},
      {"/", false},
      {"/a", false},
      {"a/", false},
      {"a//b", false},
      {".", false},
      {"..", false},
      {"./a", false},
      {"a/.", false},
      {"a/./b", false},
      {"a/..", false},
      {"../a", false},
      {"a/../b", false},
      {std::string("a\0b", 3), false},
      {std::string(4096, 'x'), true},
      {std::string(4097, 'x'), false},
  };
  for (const Case& c : cases) {
    INFO("path '" << c.path << "' (" << c.path.size() << " bytes)");
    CHECK(is_safe_relative_path(c.path) == c.safe);
  }
}

TEST_CASE("manifest: is_valid_name and is_valid_version", "[manifest]") {
  CHECK(is_valid_name("demo-llm"));
  CHECK(is_valid_name("a.b_c-0"));
  CHECK(is_valid_name(std::string(128, 'a')));
  CHECK_FALSE(is_valid_name(std::string(129, 'a')));
  CHECK_FALSE(is_valid_name("Demo"));
  CHECK_FALSE(is_valid_name(""));
  CHECK_FALSE(is_valid_name("."));
  CHECK_FALSE(is_valid_name(".."));
  CHECK_FALSE(is_valid_name("a+b"));
  CHECK(is_valid_version("1.0.0+Build_7-rc"));
  CHECK_FALSE(is_valid_version("1 0"));
  CHECK_FALSE(is_valid_version(".."));
  CHECK_FALSE(is_valid_version(""));
  CHECK_FALSE(is_valid_version("a/b"));
}

TEST_CASE("manifest: parse_duration_seconds", "[manifest]") {
  struct Case {
    std::string text;
    std::int64_t seconds;
  };
  const std::vector<Case> good = {
      {"30s", 30}, {"15m", 900}, {"12h", 43200}, {"90d", 7776000}, {"2w", 1209600},
      {"45", 45},  {"0", 0},     {"0s", 0},      {"90s", 90},      {"999999999999", 999999999999},
  };
  for (const Case& c : good) {
    INFO(c.text);
    auto r = parse_duration_seconds(c.text);
    REQUIRE(r.has_value());
    CHECK(*r == c.seconds);
  }
  for (std::string bad : {"", "s", "m", "1.5h", "-1", "+1", "1y", "10 s", " 5", "5 ", "1000000000000", "1h30m",
                          "0x10", "1S"}) {
    INFO("'" << bad << "'");
    auto r = parse_duration_seconds(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  }
}

}  // namespace airlock::manifest

namespace airlock::manifest {
namespace {

TEST_CASE("manifest: [model] allow_pickle and allow_remote_code", "[manifest]") {
  Fixture fx;
  auto m = fx.parse(std::string(k_deployment) + k_model);
  REQUIRE(m);
  CHECK_FALSE(m->model->allow_pickle);
  CHECK_FALSE(m->model->allow_remote_code);
  m = fx.parse(std::string(k_deployment) + k_model + "allow_pickle = true\nallow_remote_code = true\n");
  REQUIRE(m);
  CHECK(m->model->allow_pickle);
  CHECK(m->model->allow_remote_code);
  expect_invalid(fx.parse(std::string(k_deployment) + k_model + "allow_pickle = \"yes\"\n"),
                 {"[model]", "'allow_pickle' must be true or false"});
  expect_invalid(fx.parse(std::string(k_deployment) + k_model + "allow_pickles = true\n"),
                 {"[model]", "unknown key 'allow_pickles'"});
}

}  // namespace
}  // namespace airlock::manifest

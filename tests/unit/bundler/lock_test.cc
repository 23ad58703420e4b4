#include "bundler/lock.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "bundler/plan.h"
#include "tests/support/temp_dir.h"

namespace airlock::bundler {
namespace {

Lock sample(const std::filesystem::path& dir) {
  Lock lock;
  lock.name = "demo";
  lock.version = "1.0.0";
  lock.activate = nullptr;
  LockedSource hf;
  hf.kind = "model";
  hf.identity = {{"source", "hf://org/name"}, {"repo", "org/name"}, {"commit", std::string(40, 'a')}};
  hf.files.push_back(LockedFile{"model/config.json", "http://127.0.0.1:1/org/name/resolve/x/config.json", 2,
                                std::string(64, 'b'), 0644, "", {{"git_sha1", std::string(40, 'c')}}});
  LockedSource layout;
  layout.kind = "oci-layout";
  layout.files.push_back(LockedFile{"images/oci-layout", "inline", 5, std::string(64, 'd'), 0644, "hello", {}});
  LockedSource files;
  files.kind = "files";
  files.identity = {{"dest", "serve"}};
  files.files.push_back(LockedFile{"serve/run.sh", (dir / "serve" / "run.sh").string(), 7, std::string(64, 'e'), 0755,
                                   "", nlohmann::json::object()});
  lock.sources = {hf, layout, files};
  return lock;
}

TEST_CASE("lock: JSON round trip keeps every field, local origins are relative to the lock", "[lock]") {
  test::TempDir dir("lock");
  Lock lock = sample(dir.path());
  REQUIRE(write_lock(lock, dir.path() / "demo.lock.json"));
  std::ifstream in(dir.path() / "demo.lock.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("\"origin\": \"serve/run.sh\"") != std::string::npos);
  auto input = read_input(dir.path() / "demo.lock.json");
  REQUIRE(input.has_value());
  CHECK(input->is_lock);

  auto back = lock_from_input(*input);
  {
    std::ofstream toml(dir.path() / "m.toml");
    toml << "\n  [deployment]\nname = \"x\"\n";
  }
  auto manifest = read_input(dir.path() / "m.toml");
  REQUIRE(manifest.has_value());
  CHECK_FALSE(manifest->is_lock);
  REQUIRE(back.has_value());
  REQUIRE(back->sources.size() == 3);
  CHECK(back->sources[0].files[0].extra["git_sha1"] == std::string(40, 'c'));
  CHECK(back->sources[1].files[0].content == "hello");
  CHECK(back->sources[2].files[0].origin == (dir.path() / "serve" / "run.sh").string());
  CHECK(back->sources[2].files[0].mode == 0755);
  // The payload keeps identities and origins, never the connected machine's paths.
  nlohmann::json p = sources_for_payload(*back);
  CHECK(p.dump().find(dir.path().string()) == std::string::npos);
  CHECK(p[0]["identity"]["commit"] == std::string(40, 'a'));
}

TEST_CASE("lock: a malformed lock names the field", "[lock]") {
  test::TempDir dir("lock");
  nlohmann::json j = lock_to_json(sample(dir.path()), dir.path());
  j["sources"][0]["files"][0]["sha256"] = "xyz";
  auto r = lock_from_json(j, dir.path(), "x.lock.json");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("sha256 'xyz'") != std::string::npos);

  j = lock_to_json(sample(dir.path()), dir.path());
  j["sources"][0]["files"][0]["path"] = "../etc/passwd";
  r = lock_from_json(j, dir.path(), "x.lock.json");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("../etc/passwd") != std::string::npos);

  j = lock_to_json(sample(dir.path()), dir.path());
  j["airlock_lock"] = 99;
  r = lock_from_json(j, dir.path(), "x.lock.json");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kUnsupported);

  j = lock_to_json(sample(dir.path()), dir.path());
  j["sources"][1]["files"][0]["content"] = "hello!";
  r = lock_from_json(j, dir.path(), "x.lock.json");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("inline content") != std::string::npos);
}

TEST_CASE("lock: a local file that changed since the lock is refused after bundling", "[lock]") {
  test::TempDir dir("lock");
  Lock lock = sample(dir.path());
  format::Payload payload;
  for (const LockedSource& s : lock.sources) {
    for (const LockedFile& f : s.files) {
      format::FileEntry e;
      e.path = f.path;
      e.sha256 = f.sha256;
      payload.files.push_back(e);
    }
  }
  CHECK(reconcile_hashes(lock, payload).has_value());
  payload.files[2].sha256 = std::string(64, 'f');
  auto st = reconcile_hashes(lock, payload);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().message().find("serve/run.sh") != std::string::npos);
  CHECK(st.error().message().find("changed since the lock") != std::string::npos);
}

TEST_CASE("glob: '*' crosses '/', bare patterns match the file name", "[plan]") {
  CHECK(glob_match("*.json", "config.json"));
  CHECK(glob_match("*.json", "sub/dir/config.json"));
  CHECK(glob_match("tokenizer*", "tokenizer_config.json"));
  CHECK_FALSE(glob_match("*.bin", "model.safetensors"));
  CHECK(glob_selected({"*.safetensors"}, {"*consolidated*"}, "model-00001.safetensors"));
  CHECK_FALSE(glob_selected({"*.safetensors"}, {"*consolidated*"}, "consolidated.safetensors"));
  CHECK(glob_selected({}, {}, "anything"));
  CHECK(glob_match("templates/", "templates/chat.jinja"));
  CHECK_FALSE(glob_match("templates/", "other/chat.jinja"));
}

}  // namespace
}  // namespace airlock::bundler

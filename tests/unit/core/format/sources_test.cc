#include "core/format/sources.h"

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace airlock::format {
namespace {

using nlohmann::json;

const std::string k_sha_a(64, 'a');
const std::string k_commit(40, 'c');
const std::string k_blob(40, 'b');

std::map<std::string, ListedFile> bundle_files() {
  return {{"model/config.json", {10, k_sha_a}},
          {"model/w.safetensors", {20, std::string(64, 'd')}},
          {"debs/hello_1_amd64.deb", {30, std::string(64, 'e')}},
          {"wheels/x-1-py3-none-any.whl", {40, std::string(64, 'f')}}};
}

json hub_model(json revision = "main") {
  return json::array({{{"kind", "model"},
                       {"identity", {{"repo", "org/m"}, {"commit", k_commit}, {"revision", revision}, {"endpoint", "https://hf.co"}}},
                       {"files", json::array({{{"path", "model/config.json"}, {"size", 10}, {"sha256", k_sha_a},
                                               {"extra", {{"lfs", false}, {"blob", k_blob}, {"git_sha1", k_blob}}}},
                                              {{"path", "model/w.safetensors"}, {"extra", {{"lfs", true}, {"blob", std::string(64, 'd')}}}}})}}});
}

// As a reader sees it: parsed from text (a literal 10 is a signed integer
// in nlohmann::json, the text "10" an unsigned one).
json as_read(const json& j) { return json::parse(j.dump()); }

void expect_refused(const json& sources, std::string_view needle) {
  auto r = decode_sources(as_read(sources), bundle_files());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
  INFO(r.error().message());
  CHECK(r.error().message().find(needle) != std::string::npos);
}

TEST_CASE("sources: what the bundler writes decodes into typed structs", "[payload][sources]") {
  json deb = {{"kind", "deb"},
              {"identity", {{"repo", "http://deb.example/debian"}, {"components", {"main"}}, {"signed", true}, {"packages", json::array({json::object()})}}},
              {"files", json::array({{{"path", "debs/hello_1_amd64.deb"}, {"origin", "http://deb.example/h.deb"},
                                      {"extra", {{"control", "Package: hello\nVersion: 1\n"}, {"architecture", "amd64"}, {"needed_by", "a → b"}}}}})}};
  json wheels = {{"kind", "wheels"}, {"identity", {{"index", "https://pypi.example/simple"}, {"requirements", json::array()}}},
                 {"files", json::array({{{"path", "wheels/x-1-py3-none-any.whl"}, {"extra", {{"requirement", "x==1"}}}}})}};
  json layout = {{"kind", "oci-layout"}, {"identity", {{"refs", {"127.0.0.1:5000/demo:1"}}}}};
  json image = {{"kind", "image"}, {"identity", {{"ref", "127.0.0.1:5000/demo:1"}, {"digest", "sha256:" + k_sha_a}, {"size", 5}, {"insecure", true}}}};
  json all = hub_model();
  all.push_back(deb);
  all.push_back(wheels);
  all.push_back(layout);
  all.push_back(image);
  all.push_back({{"kind", "future-kind"}, {"identity", {{"whatever", 1}}}});
  auto r = decode_sources(as_read(all), bundle_files());
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 6);
  const Source* m = find_source(*r, "model");
  REQUIRE(m != nullptr);
  CHECK(m->is_hub_model());
  CHECK(m->identity.commit == k_commit);
  REQUIRE(m->files.size() == 2);
  CHECK(m->files[0].blob == k_blob);
  CHECK(m->files[1].lfs);
  CHECK(m->files[1].blob == std::string(64, 'd'));  // an LFS blob is named by the bundle's sha256
  const Source* d = find_source(*r, "deb");
  REQUIRE(d != nullptr);
  CHECK(d->files.at(0).architecture == "amd64");
  CHECK(d->files.at(0).control.starts_with("Package: hello"));
  CHECK(find_source(*r, "oci-layout")->identity.refs.size() == 1);
  // A signed integer where an unsigned one belongs is a wrong type too.
  json negative = hub_model();
  negative[0]["files"][0]["size"] = -10;
  expect_refused(negative, "files[0].size must be an unsigned integer");
  CHECK(decode_sources(json(), bundle_files())->empty());
  // A local model: no repo, revision "main".
  auto local = decode_sources(json::array({{{"kind", "model"}, {"identity", json::object()}, {"files", json::array({{{"path", "model/config.json"}}})}}}), bundle_files());
  REQUIRE(local.has_value());
  CHECK_FALSE(local->at(0).is_hub_model());
}

TEST_CASE("sources: every wrongly typed field is refused, naming it", "[payload][sources]") {
  expect_refused(json::object(), "sources must be an array");
  expect_refused(json::array({"x"}), "sources[0]: must be an object");
  expect_refused(json::array({{{"kind", 5}}}), "sources[0]: kind must be a non-empty string");
  expect_refused(json::array({{{"kind", "model"}, {"identity", "org/m"}}}), "sources[0] (model): identity must be an object");
  expect_refused(json::array({{{"kind", "deb"}, {"files", {{"path", "x"}}}}}), "files must be an array of objects");
  expect_refused(json::array({{{"kind", "model"}, {"files", json::array({{{"path", 7}}})}}}), "files[0].path must be a string");
  expect_refused(json::array({{{"kind", "model"}, {"files", json::array({json::object()})}}}), "files[0].path is missing");
  expect_refused(json::array({{{"kind", "model"}, {"files", json::array({{{"path", "model/config.json"}, {"size", "10"}}})}}}),
                 "files[0].size must be an unsigned integer");
  expect_refused(json::array({{{"kind", "model"}, {"files", json::array({{{"path", "model/config.json"}, {"extra", "x"}}})}}}),
                 "files[0].extra must be an object");
  json lfs = hub_model();
  lfs[0]["files"][0]["extra"]["lfs"] = "false";
  expect_refused(lfs, "files[0].extra.lfs must be a boolean");
  json repo = hub_model();
  repo[0]["identity"]["repo"] = json::array();
  expect_refused(repo, "identity.repo must be a string");
  json insecure = json::array({{{"kind", "image"}, {"identity", {{"ref", "r.example/x:1"}, {"insecure", "yes"}}}}});
  expect_refused(insecure, "identity.insecure must be a boolean");
  json control = json::array({{{"kind", "deb"}, {"files", json::array({{{"path", "debs/hello_1_amd64.deb"}, {"extra", {{"control", 1}}}}})}}});
  expect_refused(control, "extra.control must be a string");
}

TEST_CASE("sources: names that would collide with the layout are refused", "[payload][sources]") {
  expect_refused(hub_model("main/x"), "identity.revision 'main/x'");
  expect_refused(hub_model("../x"), "identity.revision");
  expect_refused(hub_model(7), "identity.revision must be a string");
  json commit = hub_model();
  commit[0]["identity"]["commit"] = "main";
  expect_refused(commit, "identity.commit 'main'");
  json repo = hub_model();
  repo[0]["identity"]["repo"] = "org/../x";
  expect_refused(repo, "identity.repo 'org/../x'");
  json blob = hub_model();
  blob[0]["files"][0]["extra"].erase("blob");
  expect_refused(blob, "extra.blob");
  json outside = hub_model();
  outside[0]["files"][1]["path"] = "debs/hello_1_amd64.deb";
  outside[0]["files"][1]["extra"]["lfs"] = false;
  outside[0]["files"][1]["extra"]["blob"] = k_blob;
  expect_refused(outside, "is not under model/");
  json missing = hub_model();
  missing[0]["files"][0]["path"] = "model/../../etc/passwd";
  expect_refused(missing, "is not a file of the bundle");
  json sha = hub_model();
  sha[0]["files"][0]["sha256"] = std::string(64, '0');
  expect_refused(sha, "size or sha256 differs");
  expect_refused(json::array({{{"kind", "image"}, {"identity", {{"ref", "r.example/../x:1"}}}}}), "identity.ref 'r.example/../x:1'");
  expect_refused(json::array({{{"kind", "image"}, {"identity", {{"ref", "r.example/x:1\n"}}}}}), "identity.ref must be a string without control");
  expect_refused(json::array({{{"kind", "image"}, {"identity", {{"ref", "r.example/x:1"}, {"digest", "sha256:x"}}}}}), "identity.digest");
  expect_refused(json::array({{{"kind", "oci-layout"}, {"identity", {{"refs", {"a/..:1"}}}}}}), "identity.refs");
  expect_refused(json::array({{{"kind", "deb"}, {"files", json::array({{{"path", "model/config.json"}}})}}}), "is not debs/NAME.deb");
  expect_refused(json::array({{{"kind", "deb"}, {"files", json::array({{{"path", "debs/hello_1_amd64.deb"}, {"extra", {{"architecture", "amd64\nX: y"}}}}})}}}),
                 "extra.architecture");
  expect_refused(json::array({{{"kind", "wheels"}, {"files", json::array({{{"path", "model/config.json"}}})}}}), "is not wheels/NAME");
  expect_refused(json::array({{{"kind", "files"}, {"identity", {{"dest", "../x"}}}}}), "identity.dest");
}

}  // namespace
}  // namespace airlock::format

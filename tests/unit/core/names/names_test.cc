#include "core/names/names.h"

#include <string>

#include <catch2/catch.hpp>

#include "core/manifest/manifest.h"

namespace airlock::format::names {
namespace {

TEST_CASE("names: deployment names and versions never collide with the layout", "[names]") {
  CHECK(is_deployment_name("demo-llm"));
  CHECK(is_deployment_name("a.b_c-0"));
  CHECK(is_deployment_name("current"));  // deployments/ holds only deployments
  CHECK_FALSE(is_deployment_name(""));
  CHECK_FALSE(is_deployment_name("."));
  CHECK_FALSE(is_deployment_name(".."));
  CHECK_FALSE(is_deployment_name(".hidden"));
  CHECK_FALSE(is_deployment_name("a.tmp-1"));
  CHECK_FALSE(is_deployment_name("a/b"));
  CHECK_FALSE(is_deployment_name("Demo"));
  CHECK_FALSE(is_deployment_name(std::string(129, 'a')));

  CHECK(is_version("1.0.0+Build_7-rc"));
  CHECK(is_version("Current2"));
  CHECK_FALSE(is_version("current"));
  CHECK_FALSE(is_version(".tmp-1"));
  CHECK_FALSE(is_version("1.0.tmp-x"));
  CHECK_FALSE(is_version(".1"));
  CHECK_FALSE(is_version(".."));
  CHECK_FALSE(is_version("a/b"));
  CHECK_FALSE(is_version(std::string("1\0", 2)));
  CHECK_FALSE(is_version("1\n"));
  // The manifest asks the same rules.
  CHECK_FALSE(manifest::is_valid_version("current"));
  CHECK_FALSE(manifest::is_valid_name(".tmp-x"));
}

TEST_CASE("names: Hugging Face repo, commit and revision", "[names]") {
  CHECK(is_hf_repo("org/model-7B.v1"));
  CHECK(is_hf_repo("gpt2"));
  CHECK_FALSE(is_hf_repo("org/a--b"));
  CHECK_FALSE(is_hf_repo("org/.."));
  CHECK_FALSE(is_hf_repo("org/.x"));
  CHECK_FALSE(is_hf_repo("a/b/c"));
  CHECK_FALSE(is_hf_repo(""));
  CHECK(is_hf_commit(std::string(40, 'a')));
  CHECK_FALSE(is_hf_commit(std::string(40, 'A')));
  CHECK_FALSE(is_hf_commit(std::string(39, 'a')));

  CHECK(is_hf_revision("main"));
  CHECK(is_hf_revision("v1.0"));
  CHECK(is_hf_revision("refs/pr/1"));
  CHECK(is_hf_revision("mainline/x"));
  CHECK_FALSE(is_hf_revision("main/x"));  // refs/main is a file
  CHECK_FALSE(is_hf_revision("a/../b"));
  CHECK_FALSE(is_hf_revision("a//b"));
  CHECK_FALSE(is_hf_revision("/a"));
  CHECK_FALSE(is_hf_revision("a/"));
  CHECK_FALSE(is_hf_revision(".tmp-x"));
  CHECK_FALSE(is_hf_revision("a/.hidden"));
  CHECK_FALSE(is_hf_revision("a b"));
  CHECK_FALSE(is_hf_revision(""));
  CHECK_FALSE(is_hf_revision(std::string(201, 'a')));
}

TEST_CASE("names: image refs, digests and target file names", "[names]") {
  CHECK(is_image_ref("127.0.0.1:5000/library/demo:1.0"));
  CHECK(is_image_ref("reg.example/a/b@sha256:" + std::string(64, 'a')));
  CHECK_FALSE(is_image_ref("reg.example/../x:1"));
  CHECK_FALSE(is_image_ref("reg.example/a/..:1"));
  CHECK_FALSE(is_image_ref("reg.example//x"));
  CHECK_FALSE(is_image_ref("reg.example/x:1\n"));
  CHECK_FALSE(is_image_ref("reg.example/x y"));
  CHECK_FALSE(is_image_ref(""));
  CHECK(is_sha256_digest("sha256:" + std::string(64, '0')));
  CHECK_FALSE(is_sha256_digest("sha256:" + std::string(63, '0')));
  CHECK_FALSE(is_sha256_digest("sha512:" + std::string(64, '0')));

  CHECK(is_target_file_name("numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl"));
  CHECK(is_target_file_name("hello_2.10-3_amd64.deb"));
  CHECK_FALSE(is_target_file_name(".tmp-x.whl"));
  CHECK_FALSE(is_target_file_name("a/b.whl"));
  CHECK_FALSE(is_target_file_name("a\nFilename: x.deb"));
  CHECK_FALSE(is_target_file_name(".."));
  CHECK_FALSE(is_target_file_name(""));
  CHECK(printable("a\nb") == "a\\x0ab");
}

}  // namespace
}  // namespace airlock::format::names

#include "core/fs/tree.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"
#include <fmt/core.h>

namespace airlock::fs {
namespace {

namespace stdfs = std::filesystem;

// A file with the given mode.
void write_mode(const stdfs::path& p, const std::string& text, stdfs::perms perms = stdfs::perms(0644)) {
  stdfs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
  stdfs::permissions(p, perms);
}

std::vector<std::string> rel_paths(const std::vector<SourceFile>& files) {
  std::vector<std::string> out;
  for (const SourceFile& f : files) out.push_back(f.rel_path);
  return out;
}

}  // namespace

TEST_CASE("tree: regular files, sorted by relative path, with sizes", "[fs]") {
  test::TempDir tmp;
  const stdfs::path root = tmp.path() / "src";
  write_mode(root / "b.txt", "bb");
  write_mode(root / "a" / "z.bin", "zzz");
  write_mode(root / "a" / "b" / "c", "");
  write_mode(root / "A", "capital");
  write_mode(root / "a.txt", "1");
  write_mode(root / "a-b", "12");
  stdfs::create_directories(root / "empty-dir");
  auto files = list_source_tree(root);
  REQUIRE(files.has_value());
  // Byte order: '-' < '.' < '/' and 'A' < 'a'.
  CHECK(rel_paths(*files) == std::vector<std::string>{"A", "a-b", "a.txt", "a/b/c", "a/z.bin", "b.txt"});
  for (const SourceFile& f : *files) {
    INFO(f.rel_path);
    CHECK(f.source.is_absolute());
    CHECK(stdfs::equivalent(f.source, root / f.rel_path));
    CHECK(f.size == stdfs::file_size(root / f.rel_path));
    CHECK(f.mode == 0644);
  }
}

TEST_CASE("tree: any execute bit gives 0755, none gives 0644", "[fs]") {
  test::TempDir tmp;
  const stdfs::path root = tmp.path() / "src";
  write_mode(root / "run.sh", "#!/bin/sh\n", stdfs::perms(0755));
  write_mode(root / "owner-x", "x", stdfs::perms(0744));
  write_mode(root / "other-x", "x", stdfs::perms(0641));
  write_mode(root / "plain", "x", stdfs::perms(0644));
  write_mode(root / "private", "x", stdfs::perms(0600));
  auto files = list_source_tree(root);
  REQUIRE(files.has_value());
  REQUIRE(files->size() == 5);
  for (const SourceFile& f : *files) {
    INFO(f.rel_path);
    const bool exec = f.rel_path == "run.sh" || f.rel_path == "owner-x" || f.rel_path == "other-x";
    CHECK(f.mode == (exec ? 0755u : 0644u));
  }
}

TEST_CASE("tree: a symlink to a file outside the root is refused, naming the link", "[fs]") {
  test::TempDir tmp;
  const stdfs::path root = tmp.path() / "src";
  write_mode(root / "ok.txt", "fine");
  write_mode(tmp.path() / "secret.txt", "outside");
  stdfs::create_symlink(tmp.path() / "secret.txt", root / "leak-abs");
  auto r = list_source_tree(root);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  CHECK(r.error().message().find("leak-abs") != std::string::npos);
  CHECK(r.error().message().find("outside") != std::string::npos);

  stdfs::remove(root / "leak-abs");
  stdfs::create_directories(root / "sub");
  stdfs::create_symlink("../../secret.txt", root / "sub" / "leak-rel");
  r = list_source_tree(root);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  CHECK(r.error().message().find("leak-rel") != std::string::npos);
}

TEST_CASE("tree: a symlink whose name shares the root's prefix is still outside", "[fs]") {
  test::TempDir tmp;
  const stdfs::path root = tmp.path() / "src";
  write_mode(root / "ok.txt", "fine");
  write_mode(tmp.path() / "src-other" / "x.txt", "sibling");  // "src-other" starts with "src"
  stdfs::create_symlink(tmp.path() / "src-other" / "x.txt", root / "sneaky");
  auto r = list_source_tree(root);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  CHECK(r.error().message().find("sneaky") != std::string::npos);
}

TEST_CASE("tree: a symlinked directory leading outside is refused", "[fs]") {
  test::TempDir tmp;
  const stdfs::path root = tmp.path() / "src";
  write_mode(root / "ok.txt", "fine");
  write_mode(tmp.path() / "elsewhere" / "data.bin", "outside");
  stdfs::create_directory_symlink(tmp.path() / "elsewhere", root / "linkdir");
  auto r = list_source_tree(root);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  CHECK(r.error().message().find("linkdir") != std::string::npos);
}

TEST_CASE("tree: a symlink to a file inside ships the target's bytes", "[fs]") {
  test::TempDir tmp;
  const stdfs::path root = tmp.path() / "src";
  write_mode(root / "weights" / "real.bin", "0123456789", stdfs::perms(0755));
  stdfs::create_symlink("weights/real.bin", root / "alias.bin");
  auto files = list_source_tree(root);
  REQUIRE(files.has_value());
  REQUIRE(rel_paths(*files) == std::vector<std::string>{"alias.bin", "weights/real.bin"});
  const SourceFile& alias = (*files)[0];
  CHECK(alias.size == 10);
  CHECK(alias.mode == 0755);
  CHECK(alias.source == stdfs::canonical(root / "weights" / "real.bin"));
  CHECK_FALSE(stdfs::is_symlink(alias.source));
}

TEST_CASE("tree: special files are refused", "[fs]") {
  test::TempDir tmp;
  const stdfs::path root = tmp.path() / "src";
  write_mode(root / "ok.txt", "fine");
  REQUIRE(::mkfifo((root / "pipe").c_str(), 0644) == 0);
  auto r = list_source_tree(root);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  CHECK(r.error().message().find("pipe") != std::string::npos);

  // A symlink inside the tree to the FIFO is refused too.
  stdfs::remove(root / "pipe");
  REQUIRE(::mkfifo((root / "p2").c_str(), 0644) == 0);
  stdfs::create_symlink("p2", root / "to-pipe");
  r = list_source_tree(root);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("tree: a dangling symlink is an error", "[fs]") {
  test::TempDir tmp;
  const stdfs::path root = tmp.path() / "src";
  write_mode(root / "ok.txt", "fine");
  stdfs::create_symlink("missing-target", root / "dangling");
  auto r = list_source_tree(root);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("dangling") != std::string::npos);
}

TEST_CASE("tree: a single-file root lists that file under its own name", "[fs]") {
  test::TempDir tmp;
  write_mode(tmp.path() / "config.json", "{\"a\": 1}", stdfs::perms(0700));
  auto files = list_source_tree(tmp.path() / "config.json");
  REQUIRE(files.has_value());
  REQUIRE(files->size() == 1);
  CHECK((*files)[0].rel_path == "config.json");
  CHECK((*files)[0].size == 8);
  CHECK((*files)[0].mode == 0755);
  CHECK(stdfs::equivalent((*files)[0].source, tmp.path() / "config.json"));
}

TEST_CASE("tree: a missing root is kNotFound, an empty directory lists nothing", "[fs]") {
  test::TempDir tmp;
  auto r = list_source_tree(tmp.path() / "nope");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kNotFound);
  stdfs::create_directories(tmp.path() / "empty" / "nested");
  auto files = list_source_tree(tmp.path() / "empty");
  REQUIRE(files.has_value());
  CHECK(files->empty());
}

}  // namespace airlock::fs

#include "core/fs/dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "core/fs/file.h"
#include "tests/support/temp_dir.h"

namespace airlock::fs {
namespace {

namespace stdfs = std::filesystem;


void write(const stdfs::path& p, const std::string& text) {
  stdfs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string read(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

unsigned mode_of(const stdfs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// A confined root and, beside it, a directory of precious files a planted
// link points at.
struct Fixture {
  test::TempDir tmp{"dir"};
  stdfs::path root = tmp.path() / "root";
  stdfs::path precious = tmp.path() / "precious";
  Fixture() {
    stdfs::create_directories(root);
    write(precious / "a.txt", "keep");
    write(precious / "sub" / "b.txt", "keep too");
    confine_below(root);
  }
  void precious_intact() const {
    CHECK(read(precious / "a.txt") == "keep");
    CHECK(read(precious / "sub" / "b.txt") == "keep too");
    CHECK(mode_of(precious / "sub") == 0755);
  }
};

}  // namespace

TEST_CASE("dir: remove_tree through a planted directory link fails naming it, the target survives", "[fs]") {
  Fixture f;
  stdfs::create_directories(f.root / "staging");
  stdfs::remove(f.root / "staging");
  stdfs::create_directory_symlink(f.precious, f.root / "staging");
  auto st = remove_tree(f.root / "staging" / "sub");
  REQUIRE_FALSE(st);
  CHECK(st.error().message().find((f.root / "staging").string() + ": is a symlink") != std::string::npos);
  f.precious_intact();
}

TEST_CASE("dir: remove_tree of a link removes the link, never its target's files", "[fs]") {
  Fixture f;
  stdfs::create_directories(f.root / "staging");
  stdfs::create_directory_symlink(f.precious, f.root / "staging" / "x");
  REQUIRE(remove_tree(f.root / "staging" / "x"));
  CHECK_FALSE(stdfs::exists(stdfs::symlink_status(f.root / "staging" / "x")));
  f.precious_intact();
}

TEST_CASE("dir: remove_tree removes a read-only tree, unlinking links inside it", "[fs]") {
  Fixture f;
  const stdfs::path v = f.root / "deployments" / "demo" / "1.0.0";
  write(v / "model" / "w.bin", "weights");
  stdfs::create_directory_symlink(f.precious, v / "model" / "planted");
  ::chmod((v / "model" / "w.bin").c_str(), 0444);
  ::chmod((v / "model").c_str(), 0555);
  ::chmod(v.c_str(), 0555);
  REQUIRE(remove_tree(v));
  CHECK_FALSE(stdfs::exists(v));
  f.precious_intact();
  CHECK(remove_tree(v));  // nothing there is fine
}

TEST_CASE("dir: make_dirs, write_file_atomic, File::create_new and replace_symlink refuse a linked component", "[fs]") {
  Fixture f;
  stdfs::create_directories(f.root / "hf");
  stdfs::create_directory_symlink(f.precious, f.root / "hf" / "models--x");
  const stdfs::path link = f.root / "hf" / "models--x";
  auto a = make_dirs(link / "blobs");
  REQUIRE_FALSE(a);
  CHECK(a.error().message().find(link.string()) != std::string::npos);
  CHECK_FALSE(write_file_atomic(link / "refs", as_bytes(std::string_view("x"))));
  CHECK_FALSE(File::create_new(link / "new", 0600));
  CHECK_FALSE(File::open_write(link / "a.txt"));
  CHECK_FALSE(replace_symlink(link / "current", "1.0.0"));
  CHECK_FALSE(chmod_entry(link / "a.txt", 0600));
  CHECK_FALSE(rename_entry(link / "a.txt", f.root / "stolen"));
  CHECK_FALSE(stdfs::exists(f.precious / "blobs"));
  CHECK_FALSE(stdfs::exists(f.precious / "new"));
  CHECK(stdfs::directory_iterator(f.precious) != stdfs::directory_iterator());
  f.precious_intact();
  // The last component is never followed either.
  stdfs::create_symlink(f.precious / "a.txt", f.root / "hf" / "file-link");
  CHECK_FALSE(chmod_entry(f.root / "hf" / "file-link", 0600));
  CHECK_FALSE(hardlink(f.root / "hf" / "file-link", f.root / "hf" / "copy"));
  CHECK(mode_of(f.precious / "a.txt") == 0644);
}

TEST_CASE("dir: new directories get exactly the mode asked for, whatever the umask", "[fs]") {
  Fixture f;
  {
    ScopedUmask loose(0);
    REQUIRE(make_dirs(f.root / "a" / "b", 0755));
  }
  CHECK(mode_of(f.root / "a") == 0755);
  CHECK(mode_of(f.root / "a" / "b") == 0755);
  {
    ScopedUmask tight(077);
    REQUIRE(make_dirs(f.root / "keys", 0700));
  }
  CHECK(mode_of(f.root / "keys") == 0700);
}

TEST_CASE("dir: list gives lstat types, open_sub refuses a link", "[fs]") {
  Fixture f;
  write(f.root / "d" / "file", "x");
  stdfs::create_directories(f.root / "d" / "sub");
  stdfs::create_directory_symlink(f.precious, f.root / "d" / "link");
  auto d = Dir::open(f.root / "d");
  REQUIRE(d);
  auto entries = d->list();
  REQUIRE(entries);
  std::map<std::string, EntryType> types;
  for (const DirEntry& e : *entries) {
    types[e.name] = e.type;
  }
  CHECK(types.size() == 3);
  CHECK(types["file"] == EntryType::kFile);
  CHECK(types["sub"] == EntryType::kDirectory);
  CHECK(types["link"] == EntryType::kSymlink);
  CHECK(d->open_sub("sub"));
  CHECK_FALSE(d->open_sub("link"));
  CHECK_FALSE(d->open_sub(".."));
  REQUIRE(d->remove("link"));
  f.precious_intact();
  CHECK(Dir::open(f.root / "missing").error().code() == ErrorCode::kNotFound);
}

TEST_CASE("dir: check_private refuses links, loose modes and readable secrets, naming the fix", "[fs]") {
  Fixture f;
  stdfs::create_directories(f.root / "staging");
  CHECK(check_private(f.root, EntryType::kDirectory));
  CHECK(check_private(f.root / "staging", EntryType::kDirectory));
  ::chmod((f.root / "staging").c_str(), 0775);
  auto loose = check_private(f.root / "staging", EntryType::kDirectory);
  REQUIRE_FALSE(loose);
  CHECK(loose.error().message().find("chmod go-w " + (f.root / "staging").string()) != std::string::npos);
  write(f.root / "site.key", "secret");
  ::chmod((f.root / "site.key").c_str(), 0644);
  CHECK(check_private(f.root / "site.key", EntryType::kFile));
  auto secret = check_private(f.root / "site.key", EntryType::kFile, true);
  REQUIRE_FALSE(secret);
  CHECK(secret.error().message().find("chmod go-rwx") != std::string::npos);
  stdfs::create_directory_symlink(f.precious, f.root / "hf");
  auto link = check_private(f.root / "hf", EntryType::kDirectory);
  REQUIRE_FALSE(link);
  CHECK(link.error().message().find("is a symlink") != std::string::npos);
  CHECK_FALSE(check_private(f.root / "site.key", EntryType::kDirectory));
  CHECK(check_private(f.root / "nothing", EntryType::kFile).error().code() == ErrorCode::kNotFound);
}

TEST_CASE("dir: outside every confinement root, parents are followed but the last component is not", "[fs]") {
  test::TempDir tmp("dir-out");
  write(tmp.path() / "real" / "f", "x");
  stdfs::create_directory_symlink(tmp.path() / "real", tmp.path() / "via");
  REQUIRE(write_file_atomic(tmp.path() / "via" / "g", as_bytes(std::string_view("y"))));
  CHECK(read(tmp.path() / "real" / "g") == "y");
  REQUIRE(remove_tree(tmp.path() / "via"));  // the link, not real/
  CHECK(stdfs::exists(tmp.path() / "real" / "f"));
}

}  // namespace airlock::fs

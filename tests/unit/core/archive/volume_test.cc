// Volumes: what VolumeWriter writes is what the libarchive-based writer
// (of the first bundles of format 1) wrote, and VolumeReader reads volumes that
// libarchive wrote, hashing every byte.

#include "core/archive/volume.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <fstream>
#include <optional>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/crypto/sha256.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace airlock::archive {
namespace {

namespace stdfs = std::filesystem;

struct Pack {
  std::string name;
  Bytes data;
};

std::vector<Pack> packs() {
  std::vector<Pack> out;
  for (std::size_t i = 0; i < 6; ++i) {
    Bytes b((i * 1234567) % (5 << 20) + i);
    for (std::size_t j = 0; j < b.size(); ++j) {
      b[j] = static_cast<std::uint8_t>(j * 31 + i);
    }
    out.push_back({fmt::format("packs/{:06}.pack", i), std::move(b)});
  }
  return out;
}

// Exactly the old VolumeWriter's libarchive calls.
void write_with_libarchive(const stdfs::path& path, const std::vector<Pack>& entries) {
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  struct archive* a = archive_write_new();
  archive_write_set_format_pax(a);
  archive_write_set_bytes_per_block(a, 1 << 20);
  archive_write_set_bytes_in_last_block(a, 1);
  REQUIRE(archive_write_open_FILE(a, f) == ARCHIVE_OK);
  for (const Pack& p : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, p.name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(p.data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 0, 0);
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    archive_entry_free(e);
    REQUIRE(archive_write_data(a, p.data.data(), p.data.size()) == static_cast<la_ssize_t>(p.data.size()));
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  std::fclose(f);
}

Bytes slurp(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

TEST_CASE("VolumeWriter writes the same bytes as the libarchive writer it replaces", "[archive][volume]") {
  test::TempDir dir("volume");
  const auto entries = packs();
  auto w = VolumeWriter::create(dir.path() / "ours.vol001.tar");
  REQUIRE(w);
  for (const Pack& p : entries) {
    REQUIRE((*w)->add_entry(p.name, p.data));
    CHECK((*w)->logical_size() == (*w)->bytes_written());
  }
  REQUIRE((*w)->finish());
  write_with_libarchive(dir.path() / "theirs.vol001.tar", entries);
  const Bytes ours = slurp(dir.path() / "ours.vol001.tar");
  const Bytes theirs = slurp(dir.path() / "theirs.vol001.tar");
  CHECK(ours.size() == theirs.size());
  CHECK(ours == theirs);
  CHECK((*w)->bytes_written() == ours.size());
  CHECK((*w)->sha256_hex() == crypto::sha256_hex(theirs));
  SECTION("and an empty volume") {
    auto e = VolumeWriter::create(dir.path() / "empty.vol001.tar");
    REQUIRE(e);
    REQUIRE((*e)->finish());
    write_with_libarchive(dir.path() / "empty-la.vol001.tar", {});
    CHECK(slurp(dir.path() / "empty.vol001.tar") == slurp(dir.path() / "empty-la.vol001.tar"));
  }
}

TEST_CASE("VolumeReader reads a volume libarchive wrote, and hashes what follows the end marker", "[archive][volume]") {
  test::TempDir dir("volume");
  const auto entries = packs();
  const stdfs::path path = dir.path() / "b.vol001.tar";
  write_with_libarchive(path, entries);
  bool trailing = GENERATE(false, true);
  if (trailing) {
    std::ofstream(path, std::ios::binary | std::ios::app) << std::string(3000, '\0');
  }
  const Bytes all = slurp(path);
  auto file = fs::File::open_read(path);
  REQUIRE(file);
  auto r = VolumeReader::open(std::move(*file), "b.vol001.tar", all.size());
  REQUIRE(r);
  for (const Pack& p : entries) {
    auto e = (*r)->next();
    REQUIRE(e);
    REQUIRE(*e);
    CHECK((*e)->name == p.name);
    CHECK((*e)->regular);
    REQUIRE((*e)->size == p.data.size());
    Bytes got(p.data.size());
    // In frame-sized pieces, as bundle_reader reads them.
    for (std::size_t off = 0; off < got.size(); off += 100000) {
      REQUIRE((*r)->read_exact(std::span(got).subspan(off, std::min<std::size_t>(100000, got.size() - off))));
    }
    CHECK(got == p.data);
  }
  auto end = (*r)->next();
  REQUIRE(end);
  CHECK_FALSE(*end);
  auto fin = (*r)->finish();
  REQUIRE(fin);
  CHECK(fin->first == all.size());
  CHECK(fin->second == crypto::sha256_hex(all));
}

namespace {

// Reads every entry of the volume at `path` in full; the first error, if any.
std::optional<Error> read_volume(const stdfs::path& path, bool hash) {
  auto file = fs::File::open_read(path);
  REQUIRE(file);
  auto r = VolumeReader::open(std::move(*file), path.filename().string(), stdfs::file_size(path), hash);
  if (!r) {
    return r.error();
  }
  for (;;) {
    auto e = (*r)->next();
    if (!e) {
      return e.error();
    }
    if (!*e) {
      break;
    }
    Bytes data((*e)->size);
    if (auto st = (*r)->read_exact(data); !st) {
      return st.error();
    }
  }
  auto fin = (*r)->finish();
  if (!fin) {
    return fin.error();
  }
  return std::nullopt;
}

// Sets the ustar header at `at` field [from, from + n) to `value` and fixes its checksum.
void patch_header(Bytes& b, std::size_t at, std::size_t from, std::string_view value) {
  std::memcpy(b.data() + at + from, value.data(), value.size());
  std::memset(b.data() + at + 148, ' ', 8);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 512; ++i) {
    sum += b[at + i];
  }
  const std::string chk = fmt::format("{:06o}", sum);
  std::memcpy(b.data() + at + 148, chk.data(), 6);
  b[at + 154] = 0;
  b[at + 155] = ' ';
}

}  // namespace

TEST_CASE("VolumeReader takes only the bytes the writer writes: every header, padding and the end fixed",
          "[archive][volume]") {
  test::TempDir dir("volume");
  const std::vector<Pack> entries = {{"packs/000000.pack", Bytes(1000, 7)}, {"packs/000001.pack", Bytes(700, 9)}};
  const stdfs::path good = dir.path() / "c.vol001.tar";
  write_with_libarchive(good, entries);
  const Bytes orig = slurp(good);
  for (const bool hash : {true, false}) {
    INFO((hash ? "hashing" : "not hashing"));
    CHECK_FALSE(read_volume(good, hash).has_value());
    const stdfs::path bad = dir.path() / "bad.vol001.tar";
    auto refused = [&](const Bytes& b, std::string_view why) {
      test::write_bytes(bad, b);
      auto err = read_volume(bad, hash);
      REQUIRE(err.has_value());
      CHECK(err->code() == ErrorCode::kCorruption);
      CHECK_THAT(err->message(), Catch::Contains(std::string(why)));
    };
    // Header fields the tar subset reads but whose values it ignores: each
    // one changed (checksum fixed up) is still a byte that was not signed.
    const std::size_t second = 512 + 1024;  // first header, 1000 bytes of data padded to 1024
    for (auto [from, value] : {std::pair<std::size_t, std::string_view>{136, "00000000001"},  // mtime
                               {100, "000755 "},                                              // mode
                               {265, "root"},                                                 // uname
                               {156, std::string_view("\0", 1)}}) {                           // typeflag NUL
      INFO("header offset " << from);
      Bytes b = orig;
      patch_header(b, second, from, value);
      refused(b, "entry 'packs/000001.pack' has headers that are not byte for byte the ones Airlock writes");
    }
    {
      Bytes b = orig;
      b[512 + 1000 + 3] = 1;  // padding after the first entry's data
      refused(b, "entry 'packs/000000.pack' is followed by padding that is not zeros");
    }
    {
      Bytes b = orig;
      b.resize(b.size() + 512, 0);  // a block after the end marker
      if (hash) {
        test::write_bytes(bad, b);
        auto err = read_volume(bad, hash);
        CHECK_FALSE(err.has_value());  // read and hashed: the caller's SHA-256 comparison refuses it
      } else {
        refused(b, "512 bytes follow the end-of-archive marker");
      }
    }
  }
}

TEST_CASE("VolumeReader refuses a symlink entry, naming the volume and the entry", "[archive][volume]") {
  test::TempDir dir("volume");
  const stdfs::path path = dir.path() / "h.vol001.tar";
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    struct archive* a = archive_write_new();
    archive_write_set_format_pax(a);
    archive_write_set_bytes_in_last_block(a, 1);
    REQUIRE(archive_write_open_FILE(a, f) == ARCHIVE_OK);
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "packs/000000.pack");
    archive_entry_set_filetype(e, AE_IFLNK);
    archive_entry_set_symlink(e, "/etc/shadow");
    archive_entry_set_perm(e, 0777);
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    archive_entry_free(e);
    REQUIRE(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
    std::fclose(f);
  }
  auto file = fs::File::open_read(path);
  REQUIRE(file);
  auto r = VolumeReader::open(std::move(*file), "h.vol001.tar", stdfs::file_size(path));
  REQUIRE(r);
  auto e = (*r)->next();
  REQUIRE_FALSE(e);
  CHECK(e.error().code() == ErrorCode::kCorruption);
  CHECK_THAT(e.error().message(), Catch::Contains("h.vol001.tar: entry 'packs/000000.pack' is a symbolic link"));
}

}  // namespace
}  // namespace airlock::archive

// The tar subset (core/archive/tar.h): the writer's bytes against
// libarchive's pax writer, interop both ways, and one test per refusal.

#include "core/archive/tar.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/core.h>

namespace airlock::archive::tar {
namespace {

struct File {
  std::string name;
  Bytes data;
};

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) {
    b[i] = static_cast<std::uint8_t>(seed + i * 7 + (i >> 9));
  }
  return b;
}

Bytes write_ours(const std::vector<File>& files) {
  Bytes out;
  Writer w([&](ByteSpan d) {
    append(out, d);
    return ok_status();
  });
  for (const File& f : files) {
    REQUIRE(w.add_entry(f.name, f.data));
  }
  REQUIRE(w.finish());
  CHECK(w.bytes_written() == out.size());
  return out;
}

// What core/archive/volume.cc did before it had its own tar writer.
struct Capture {
  Bytes out;
  std::size_t fail_after = static_cast<std::size_t>(-1);  // refuse writes past this many bytes
};

la_ssize_t capture_cb(struct archive*, void* ctx, const void* buf, size_t n) {
  auto* c = static_cast<Capture*>(ctx);
  if (c->out.size() >= c->fail_after) {
    return -1;
  }
  c->out.insert(c->out.end(), static_cast<const std::uint8_t*>(buf), static_cast<const std::uint8_t*>(buf) + n);
  return static_cast<la_ssize_t>(n);
}

struct archive* libarchive_writer(Capture& c, int bytes_per_block, bool restricted = false) {
  struct archive* a = archive_write_new();
  REQUIRE((restricted ? archive_write_set_format_pax_restricted(a) : archive_write_set_format_pax(a)) == ARCHIVE_OK);
  archive_write_set_bytes_per_block(a, bytes_per_block);
  archive_write_set_bytes_in_last_block(a, 1);
  REQUIRE(archive_write_open2(a, &c, nullptr, capture_cb, nullptr, nullptr) == ARCHIVE_OK);
  return a;
}

void libarchive_header(struct archive* a, const std::string& name, std::uint64_t size, bool mtime = true) {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_size(e, static_cast<la_int64_t>(size));
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  if (mtime) {
    archive_entry_set_mtime(e, 0, 0);
  }
  REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
  archive_entry_free(e);
}

Bytes write_libarchive(const std::vector<File>& files, bool restricted = false) {
  Capture c;
  struct archive* a = libarchive_writer(c, 1 << 20, restricted);
  for (const File& f : files) {
    libarchive_header(a, f.name, f.data.size(), !restricted);
    if (!f.data.empty()) {
      REQUIRE(archive_write_data(a, f.data.data(), f.data.size()) == static_cast<la_ssize_t>(f.data.size()));
    }
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  return c.out;
}

// The header bytes libarchive writes for an entry of `size` (data not written).
Bytes libarchive_header_only(const std::string& name, std::uint64_t size, std::size_t header_bytes) {
  Capture c;
  c.fail_after = header_bytes;  // then the data (and close's padding) fail: nothing huge is written
  struct archive* a = libarchive_writer(c, 512);
  libarchive_header(a, name, size);
  const Bytes one(512, 0);
  (void)archive_write_data(a, one.data(), one.size());
  archive_write_free(a);
  return c.out;
}

Source memory_source(const Bytes& bytes, std::size_t& pos) {
  return [&bytes, &pos](std::span<std::uint8_t> out) -> Result<std::size_t> {
    const std::size_t n = std::min(out.size(), bytes.size() - pos);
    std::memcpy(out.data(), bytes.data() + pos, n);
    pos += n;
    return n;
  };
}

// Every entry of `bytes` read with our reader (total = `total`, default its size).
Result<std::vector<File>> read_ours(const Bytes& bytes, std::optional<std::uint64_t> total = std::nullopt) {
  std::size_t pos = 0;
  Reader r(memory_source(bytes, pos), "t.vol001.tar", total ? *total : bytes.size());
  std::vector<File> files;
  for (;;) {
    ASSIGN_OR_RETURN(auto e, r.next());
    if (!e) {
      break;
    }
    File f{e->name, Bytes(static_cast<std::size_t>(e->size))};
    TRY(r.read(f.data));
    files.push_back(std::move(f));
  }
  if (r.consumed() != pos) {
    return make_error(ErrorCode::kIOError, "consumed {} but read {}", r.consumed(), pos);
  }
  return files;
}

std::string read_error(const Bytes& bytes, std::optional<std::uint64_t> total = std::nullopt) {
  auto r = read_ours(bytes, total);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ErrorCode::kCorruption);
  CHECK_THAT(r.error().message(), Catch::Contains("t.vol001.tar"));
  return r.error().message();
}

// ---- crafting headers by hand

using Block = std::array<std::uint8_t, 512>;

void set_field(Block& h, std::size_t at, std::size_t width, std::string_view v) {
  std::memset(h.data() + at, 0, width);
  std::memcpy(h.data() + at, v.data(), std::min(v.size(), width));
}

void fix_checksum(Block& h) {
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (std::uint8_t b : h) {
    sum += b;
  }
  const std::string s = fmt::format("{:06o}", sum);
  std::memcpy(h.data() + 148, s.data(), 6);
  h[154] = 0;
  h[155] = ' ';
}

Block header(std::string_view name, std::uint64_t size, char type = '0') {
  Block h{};
  set_field(h, 0, 100, name);
  set_field(h, 100, 8, "000644 ");
  set_field(h, 108, 8, "000000 ");
  set_field(h, 116, 8, "000000 ");
  set_field(h, 124, 12, fmt::format("{:011o} ", size));
  set_field(h, 136, 12, "00000000000 ");
  h[156] = static_cast<std::uint8_t>(type);
  std::memcpy(h.data() + 257, "ustar\0" "00", 8);
  set_field(h, 329, 8, "000000 ");
  set_field(h, 337, 8, "000000 ");
  fix_checksum(h);
  return h;
}

void put(Bytes& out, const Block& h) { out.insert(out.end(), h.begin(), h.end()); }

void put_data(Bytes& out, std::string_view data) {
  append(out, as_bytes(data));
  out.resize(out.size() + (512 - data.size() % 512) % 512, 0);
}

void put_end(Bytes& out) { out.resize(out.size() + 1024, 0); }

// One well-formed pax record ("LEN key=value\n", LEN counting itself).
std::string rec(std::string_view key, std::string_view value) {
  const std::size_t body = key.size() + value.size() + 3;
  std::size_t len = body + std::to_string(body).size();
  if (std::to_string(len).size() != std::to_string(body).size()) {
    ++len;
  }
  return fmt::format("{} {}={}\n", len, key, value);
}

// A pax 'x' header with `records`, then a regular entry.
Bytes with_pax(std::string_view records, std::string_view name = "packs/000000.pack", std::uint64_t size = 3) {
  Bytes out;
  put(out, header("packs/PaxHeader/000000.pack", records.size(), 'x'));
  put_data(out, records);
  put(out, header(name, size));
  put_data(out, std::string(size, 'd'));
  put_end(out);
  return out;
}

Bytes one_entry(const Block& h, std::string_view data = "abc") {
  Bytes out;
  put(out, h);
  put_data(out, data);
  put_end(out);
  return out;
}

// ---- the writer

TEST_CASE("tar writer writes the bytes libarchive's pax writer wrote for Airlock's entries", "[archive][tar]") {
  const std::vector<File> files = {
      {"packs/000000.pack", pattern(1 << 20, 1)},
      {"packs/000001.pack", pattern(0, 2)},
      {"packs/000002.pack", pattern(1, 3)},
      {"packs/000003.pack", pattern(511, 4)},
      {"packs/000004.pack", pattern(512, 5)},
      {"packs/000005.pack", pattern(513, 6)},
      {"packs/000006.pack", pattern((3 << 20) + 17, 7)},
      {"manifest.json", pattern(40, 8)},
      {"blobs/sha256/" + std::string(64, 'e'), pattern(700, 9)},
      {std::string(99, 'n'), pattern(5, 10)},
      {std::string(100, 'm'), pattern(6, 11)},
  };
  const Bytes ours = write_ours(files);
  CHECK(ours == write_libarchive(files));
  SECTION("and an empty archive is the end marker alone") {
    CHECK(write_ours({}) == write_libarchive({}));
    CHECK(write_ours({}).size() == 1024);
  }
  SECTION("the reader reads both") {
    auto back = read_ours(ours);
    REQUIRE(back);
    REQUIRE(back->size() == files.size());
    for (std::size_t i = 0; i < files.size(); ++i) {
      CHECK((*back)[i].name == files[i].name);
      CHECK((*back)[i].data == files[i].data);
    }
  }
}

TEST_CASE("tar writer matches libarchive's pax 'size' header for entries of 8 GiB and more", "[archive][tar]") {
  for (std::uint64_t size : {std::uint64_t{1} << 33, std::uint64_t{9000000000}, std::uint64_t{70000000000}}) {
    CAPTURE(size);
    Bytes ours;
    Writer w([&](ByteSpan d) {
      append(ours, d);
      return ok_status();
    });
    REQUIRE(w.begin_entry("packs/000001.pack", size));
    REQUIRE(ours.size() == 3 * 512);  // pax header, its records, the ustar header
    CHECK(ours == libarchive_header_only("packs/000001.pack", size, 3 * 512));
    CHECK_THAT(std::string(ours.begin() + 512, ours.begin() + 1024), Catch::StartsWith(fmt::format("{} size={}\n",
                                                                                                   size < 10000000000 ? 19 : 20, size)));
    // Our reader takes the entry from those bytes (data not read: zeros after).
    std::size_t pos = 0;
    Bytes rest = ours;
    Reader r(memory_source(rest, pos), "t.vol001.tar", ours.size() + size + (512 - size % 512) % 512 + 1024);
    auto e = r.next();
    REQUIRE(e);
    REQUIRE(*e);
    CHECK((*e)->name == "packs/000001.pack");
    CHECK((*e)->size == size);
  }
}

TEST_CASE("tar writer puts a long path in a pax record, and libarchive reads it back", "[archive][tar]") {
  const std::string deep = "a/" + std::string(150, 'b') + "/c.bin";
  const std::string flat(300, 'f');
  const Bytes ours = write_ours({{deep, pattern(10, 1)}, {flat, pattern(600, 2)}});
  auto back = read_ours(ours);
  REQUIRE(back);
  REQUIRE(back->size() == 2);
  CHECK((*back)[0].name == deep);
  CHECK((*back)[1].name == flat);
  CHECK((*back)[1].data == pattern(600, 2));

  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  REQUIRE(archive_read_open_memory(a, ours.data(), ours.size()) == ARCHIVE_OK);
  archive_entry* e = nullptr;
  REQUIRE(archive_read_next_header(a, &e) == ARCHIVE_OK);
  CHECK(std::string(archive_entry_pathname(e)) == deep);
  CHECK(archive_entry_size(e) == 10);
  REQUIRE(archive_read_next_header(a, &e) == ARCHIVE_OK);
  CHECK(std::string(archive_entry_pathname(e)) == flat);
  CHECK(archive_entry_filetype(e) == AE_IFREG);
  CHECK(archive_read_next_header(a, &e) == ARCHIVE_EOF);
  archive_read_free(a);
}

TEST_CASE("tar reader reads what libarchive's restricted pax writer writes (the old docker-archive)", "[archive][tar]") {
  const std::vector<File> files = {{"manifest.json", pattern(30, 1)}, {"blobs/sha256/" + std::string(64, 'a'), pattern(2000, 2)}};
  const Bytes theirs = write_libarchive(files, true);
  CHECK(theirs == write_ours(files));
  auto back = read_ours(theirs);
  REQUIRE(back);
  CHECK(back->size() == 2);
}

TEST_CASE("tar writer refuses misuse", "[archive][tar]") {
  Bytes out;
  Writer w([&](ByteSpan d) {
    append(out, d);
    return ok_status();
  });
  CHECK_FALSE(w.begin_entry("", 1));
  CHECK_FALSE(w.begin_entry(std::string("a\0b", 3), 1));
  CHECK_FALSE(w.begin_entry("dir/", 0));
  CHECK_FALSE(w.begin_entry(std::string(k_max_path + 1, 'x'), 1));
  CHECK_FALSE(w.write(pattern(1, 1)));  // outside an entry
  REQUIRE(w.begin_entry("a", 2));
  CHECK_FALSE(w.begin_entry("b", 0));  // previous not complete
  CHECK_FALSE(w.write(pattern(3, 1)));  // past its size
  CHECK_FALSE(w.end_entry());           // early
  CHECK_FALSE(w.finish());              // inside an entry
  REQUIRE(w.write(pattern(2, 1)));
  REQUIRE(w.end_entry());
  REQUIRE(w.finish());
  CHECK_FALSE(w.finish());
  CHECK_FALSE(w.begin_entry("c", 0));
  CHECK(out.size() == 512 + 512 + 1024);
}

TEST_CASE("tar writer stops at the first sink error", "[archive][tar]") {
  int calls = 0;
  Writer w([&](ByteSpan) -> Status {
    ++calls;
    return make_error(ErrorCode::kIOError, "disk full");
  });
  auto st = w.add_entry("a", pattern(5, 1));
  REQUIRE_FALSE(st);
  CHECK(st.error().code() == ErrorCode::kIOError);
  CHECK_FALSE(w.finish());
  CHECK(calls == 1);
}

// ---- the reader: accepted forms

TEST_CASE("tar reader accepts typeflag NUL as a regular file and full-width octal fields", "[archive][tar]") {
  Block h = header("packs/000000.pack", 3, '\0');
  set_field(h, 100, 8, "0000644");   // seven digits and NUL (GNU, Python)
  set_field(h, 124, 12, "000000000003");  // all twelve digits, no terminator
  fix_checksum(h);
  auto r = read_ours(one_entry(h));
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].name == "packs/000000.pack");
  CHECK(as_chars((*r)[0].data) == "abc");
}

TEST_CASE("tar reader skips data the caller left unread and reads nothing past the end marker", "[archive][tar]") {
  Bytes b;
  put(b, header("one", 1000));
  put_data(b, std::string(1000, 'x'));
  put(b, header("two", 3));
  put_data(b, "abc");
  put_end(b);
  const std::size_t tar_size = b.size();
  b.resize(b.size() + 4096, 0x55);  // after the marker: the caller's
  std::size_t pos = 0;
  Reader r(memory_source(b, pos), "t.vol001.tar", b.size());
  auto e = r.next();
  REQUIRE(e);
  REQUIRE(*e);
  Bytes part(10);
  REQUIRE(r.read(part));
  e = r.next();
  REQUIRE(e);
  REQUIRE(*e);
  CHECK((*e)->name == "two");
  Bytes too_much(4);
  CHECK_FALSE(r.read(too_much));
  e = r.next();
  REQUIRE(e);
  CHECK_FALSE(*e);
  CHECK(r.consumed() == tar_size);
  CHECK(pos == tar_size);
  e = r.next();
  REQUIRE(e);
  CHECK_FALSE(*e);
}

// ---- the reader: refusals

TEST_CASE("tar reader refuses every entry kind but regular files, naming volume and entry", "[archive][tar]") {
  const std::vector<std::pair<char, std::string>> kinds = {
      {'1', "hard link"},        {'2', "symbolic link"},        {'3', "character device"},
      {'4', "block device"},     {'5', "directory"},            {'6', "FIFO"},
      {'7', "contiguous file"},  {'g', "pax global header"},    {'L', "GNU long name"},
      {'K', "GNU long link name"}, {'S', "GNU sparse file"},    {'V', "GNU volume label"},
      {'D', "GNU directory dump"}, {'Z', "unknown type"},
  };
  for (const auto& [type, kind] : kinds) {
    CAPTURE(type);
    Block h = header("evil-entry", 0, type);
    if (type == '1' || type == '2') {
      set_field(h, 157, 100, "/etc/shadow");
      fix_checksum(h);
    }
    const std::string msg = read_error(one_entry(h, ""));
    CHECK_THAT(msg, Catch::Contains("entry 'evil-entry'"));
    CHECK_THAT(msg, Catch::Contains(kind));
    CHECK_THAT(msg, Catch::Contains("only regular files"));
  }
}

TEST_CASE("tar reader refuses a symlink behind a pax path, naming the pax path", "[archive][tar]") {
  Bytes b;
  const std::string path = rec("path", "packs/000000.pack");
  REQUIRE(path == "26 path=packs/000000.pack\n");
  put(b, header("PaxHeader/x", path.size(), 'x'));
  put_data(b, path);
  put(b, header("x", 0, '2'));
  put_end(b);
  CHECK_THAT(read_error(b), Catch::Contains("entry 'packs/000000.pack' is a symbolic link"));
}

TEST_CASE("tar reader refuses pax keys Airlock does not write", "[archive][tar]") {
  for (const std::string& r : {rec("mtime", "17"), rec("uname", "nobody"), rec("SCHILY.xattr.user.x", "1"),
                               rec("linkpath", "/etc/x"), rec("GNU.sparse.map", "0,1,2,3,4,5"), rec("atime", "0"),
                               rec("LIBARCHIVE.creationtime", "0"), rec("comment", "hi")}) {
    CAPTURE(r);
    const std::string msg = read_error(with_pax(r));
    CHECK_THAT(msg, Catch::Contains("is not one Airlock writes"));
    CHECK_THAT(msg, Catch::Contains("PaxHeader"));
  }
  // The same bytes with an accepted key pass: the refusal is the key's.
  auto ok = read_ours(with_pax(rec("path", "packs/000000.pack.long"), "x", 3));
  REQUIRE(ok);
  CHECK((*ok)[0].name == "packs/000000.pack.long");
}

TEST_CASE("tar reader refuses malformed pax records", "[archive][tar]") {
  const std::vector<std::string> bad = {
      "",                              // no records
      "99 path=a\n",                   // longer than the header
      "8 path=a\n",                    // length off by one
      "010 path=a\n",                  // leading zero
      "x path=a\n",                    // no length
      "10path=abc\n",                  // no space
      "10 path=ab ",                   // no newline
      "9 pathab\n",                    // no '='
      "9 =value\n",                    // empty key
      "10 path=a\n10 path=b\n",        // path twice
      "11 size=12\n11 size=12\n",      // size twice
      "11 size=1x\n",                  // size not decimal
      "11 size=01\n",                  // size with a leading zero
      "29 size=99999999999999999999\n",  // out of range
      "28 size=9223372036854775808\n",   // past INT64_MAX
      "8 path=\n",                     // empty path
      "10 path=a\nxx",                 // garbage after a record
  };
  for (const std::string& rec : bad) {
    CAPTURE(rec);
    CHECK_THAT(read_error(with_pax(rec)), Catch::Contains("pax"));
  }
}

TEST_CASE("tar reader caps pax headers and refuses two in a row or one without an entry", "[archive][tar]") {
  const std::string big = fmt::format("{} path={}\n", k_max_pax_header + 2, std::string(k_max_pax_header - 9, 'p'));
  REQUIRE(big.size() == k_max_pax_header + 2);
  CHECK_THAT(read_error(with_pax(big)), Catch::Contains("at most"));

  Bytes two;
  put(two, header("PaxHeader/a", 10, 'x'));
  put_data(two, "10 path=a\n");
  put(two, header("PaxHeader/b", 10, 'x'));
  put_data(two, "10 path=b\n");
  put(two, header("b", 0));
  put_end(two);
  CHECK_THAT(read_error(two), Catch::Contains("second pax header"));

  Bytes dangling;
  put(dangling, header("PaxHeader/a", 10, 'x'));
  put_data(dangling, "10 path=a\n");
  put_end(dangling);
  CHECK_THAT(read_error(dangling), Catch::Contains("end of the archive, not by an entry"));
}

TEST_CASE("tar reader refuses a pax size the ustar field disagrees with", "[archive][tar]") {
  CHECK_THAT(read_error(with_pax("10 size=4\n", "x", 3)), Catch::Contains("disagree"));
}

TEST_CASE("tar reader refuses damaged or foreign headers", "[archive][tar]") {
  SECTION("checksum") {
    Block h = header("packs/000000.pack", 3);
    h[0] = 'q';  // checksum not fixed
    CHECK_THAT(read_error(one_entry(h)), Catch::Contains("checksum"));
  }
  SECTION("signed checksum of a header with high bytes is not the unsigned one") {
    Block h = header("packs/\xe9\xe9.pack", 3);
    unsigned sum = 0;
    for (std::size_t i = 0; i < 512; ++i) {
      sum += static_cast<unsigned>((i >= 148 && i < 156) ? ' ' : static_cast<signed char>(h[i]));
    }
    set_field(h, 148, 8, fmt::format("{:06o}", sum & 0777777));
    CHECK_THAT(read_error(one_entry(h)), Catch::Contains("checksum"));
  }
  SECTION("GNU magic") {
    Block h = header("packs/000000.pack", 3);
    std::memcpy(h.data() + 257, "ustar  \0", 8);
    fix_checksum(h);
    CHECK_THAT(read_error(one_entry(h)), Catch::Contains("GNU tar header"));
  }
  SECTION("old tar (no magic)") {
    Block h = header("packs/000000.pack", 3);
    std::memset(h.data() + 257, 0, 8);
    fix_checksum(h);
    CHECK_THAT(read_error(one_entry(h)), Catch::Contains("has no POSIX ustar header"));
  }
  SECTION("version") {
    Block h = header("packs/000000.pack", 3);
    std::memcpy(h.data() + 263, "01", 2);
    fix_checksum(h);
    CHECK_THAT(read_error(one_entry(h)), Catch::Contains("has no POSIX ustar header"));
  }
  SECTION("base-256 and garbage in numeric fields") {
    const std::vector<std::pair<std::size_t, std::string>> cases = {
        {100, std::string("\x80\0\0\0\0\0\x01\xa4", 8)},  // mode in base-256
        {108, " 00000 "},                              // leading space
        {116, "0000x0 "},                              // garbage
        {136, "-0000000001 "},                         // a sign
        {329, "00000 9"},                              // a digit after the terminator
        {100, std::string(8, '\0')},                   // empty mode
    };
    for (const auto& [at, value] : cases) {
      CAPTURE(at);
      Block h = header("packs/000000.pack", 3);
      std::memcpy(h.data() + at, value.data(), value.size());
      fix_checksum(h);
      CHECK_THAT(read_error(one_entry(h)), Catch::Contains("not plain octal"));
    }
  }
  SECTION("base-256 size without a pax size") {
    Block h = header("packs/000000.pack", 3);
    set_field(h, 124, 12, std::string("\x80\0\0\0\0\0\0\0\0\0\0\x03", 12));
    fix_checksum(h);
    CHECK_THAT(read_error(one_entry(h)), Catch::Contains("size field that is not plain octal"));
  }
  SECTION("ustar prefix") {
    Block h = header("000000.pack", 3);
    set_field(h, 345, 155, "packs");
    fix_checksum(h);
    CHECK_THAT(read_error(one_entry(h)), Catch::Contains("entry 'packs/000000.pack' uses the ustar prefix"));
  }
  SECTION("a regular file with a link name") {
    Block h = header("packs/000000.pack", 3);
    set_field(h, 157, 100, "/etc/passwd");
    fix_checksum(h);
    CHECK_THAT(read_error(one_entry(h)), Catch::Contains("link name"));
  }
  SECTION("an empty name") {
    CHECK_THAT(read_error(one_entry(header("", 3))), Catch::Contains("empty name"));
  }
}

TEST_CASE("tar reader refuses sizes beyond what is left, truncation, and a missing end marker", "[archive][tar]") {
  const Bytes good = one_entry(header("packs/000000.pack", 3));
  REQUIRE(read_ours(good));
  SECTION("an entry larger than the volume") {
    CHECK_THAT(read_error(one_entry(header("packs/000000.pack", 1 << 20))),
               Catch::Contains("entry 'packs/000000.pack' says 1048576 bytes, but only"));
  }
  SECTION("an entry that leaves no room for the end marker") {
    Bytes b = good;
    b.resize(b.size() - 512);
    CHECK_THAT(read_error(b), Catch::Contains("no room for the end-of-archive marker"));
  }
  SECTION("a truncated header") {
    Bytes b(good.begin(), good.begin() + 300);
    CHECK_THAT(read_error(b), Catch::Contains("truncated tar header"));
  }
  SECTION("data cut short by the source (the file shrank)") {
    Bytes b(good.begin(), good.begin() + 514);
    CHECK_THAT(read_error(b, good.size()), Catch::Contains("truncated at byte 514"));
  }
  SECTION("no end marker") {
    // After an entry, the room check already says so; an empty file reaches the end itself.
    Bytes b(good.begin(), good.end() - 1024);
    CHECK_THAT(read_error(b), Catch::Contains("no room for the end-of-archive marker"));
    CHECK_THAT(read_error(Bytes{}), Catch::Contains("without the end-of-archive marker"));
  }
  SECTION("one zero block, then the end") {
    Bytes c;
    put(c, header("a", 0));
    c.resize(c.size() + 512, 0);
    CHECK_THAT(read_error(c), Catch::Contains("no room for the end-of-archive marker"));
    Bytes d(512, 0);
    CHECK_THAT(read_error(d), Catch::Contains("one zero block"));
  }
  SECTION("a lone zero block before another header") {
    Bytes b;
    b.resize(512, 0);
    put(b, header("packs/000000.pack", 3));
    put_data(b, "abc");
    put_end(b);
    CHECK_THAT(read_error(b), Catch::Contains("lone zero block"));
  }
  SECTION("a pax header at the very end") {
    Bytes b;
    put(b, header("PaxHeader/a", 10, 'x'));
    put_data(b, "10 path=a\n");
    CHECK_THAT(read_error(b), Catch::Contains("no entry after it"));
  }
}

}  // namespace
}  // namespace airlock::archive::tar

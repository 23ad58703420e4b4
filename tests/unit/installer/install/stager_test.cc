#include "installer/install/stager.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/files.h"
#include "tests/support/temp_dir.h"
#include <fmt/core.h>

#include "core/crypto/sha256.h"

namespace airlock::installer {
namespace {

namespace stdfs = std::filesystem;

using test::TempDir;

os::PosixFileSystem real_fs;

// `chunks` as the payload's chunk records, stored as they are, back to back
// in one pack.
void add_chunks_in_one_pack(format::Payload& payload, const std::vector<Bytes>& chunks) {
  std::uint64_t offset = 0;
  for (const Bytes& ch : chunks) {
    format::ChunkEntry e;
    e.id = crypto::sha256(ch);
    e.size = ch.size();
    e.stored = ch.size();
    e.offset = offset;
    offset += ch.size();
    payload.chunks.push_back(e);
  }
  payload.packs.push_back(format::PackEntry{0, "packs/000000.pack", offset});
}

Bytes read_all(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Three chunks; file A = c0 c1; file B = c2 c0 c2 c1 (out of order, c2
// repeated); file C = c2; file "empty" has no chunks.
struct Sample {
  std::vector<Bytes> chunks = {test::random_bytes(1000, 1), test::random_bytes(5000, 2), test::random_bytes(333, 3)};
  format::Payload payload;
  Bytes a;
  Bytes b;
  Bytes c;

  Sample() {
    auto cat = [&](std::initializer_list<int> ids) {
      Bytes out;
      for (int i : ids) append(out, chunks[static_cast<std::size_t>(i)]);
      return out;
    };
    a = cat({0, 1});
    b = cat({2, 0, 2, 1});
    c = cat({2});
    payload.name = "demo";
    payload.version = "1";
    add_chunks_in_one_pack(payload, chunks);
    payload.refs = {0, 1, 2, 0, 2, 1, 2};
    payload.files = {
        format::FileEntry{"a.bin", 0644, a.size(), crypto::sha256_hex(a), 0, 2},
        format::FileEntry{"dir/b.bin", 0755, b.size(), crypto::sha256_hex(b), 2, 4},
        format::FileEntry{"dir/sub/c.bin", 0644, c.size(), crypto::sha256_hex(c), 6, 1},
        format::FileEntry{"empty", 0644, 0, crypto::sha256_hex({}), 7, 0},
    };
  }
  std::vector<bool> no_skip() const { return std::vector<bool>(payload.files.size(), false); }
};

}  // namespace

TEST_CASE("stager: chunks arriving out of order assemble every file", "[installer][stager]") {
  Sample s;
  // The encoded payload is one the reader would accept.
  REQUIRE(format::decode_payload(format::encode_payload(s.payload), 1).has_value());
  TempDir tmp;
  const stdfs::path tree = tmp.path() / "tree";
  Stager stager(real_fs, s.payload, tree, s.no_skip());
  REQUIRE(stager.create_files());
  // Every file exists at its full size before any chunk arrives.
  CHECK(stdfs::file_size(tree / "a.bin") == s.a.size());
  CHECK(stdfs::file_size(tree / "dir/b.bin") == s.b.size());
  CHECK(stdfs::file_size(tree / "empty") == 0);
  // c1 (a later offset of a.bin, and the last of b.bin) first, then c2, then c0.
  for (std::uint32_t k : {1u, 2u, 0u}) {
    INFO("chunk " << k);
    REQUIRE(stager.on_chunk(k, s.chunks[k]));
  }
  REQUIRE(stager.finish());
  CHECK(read_all(tree / "a.bin") == s.a);
  CHECK(read_all(tree / "dir/b.bin") == s.b);
  CHECK(read_all(tree / "dir/sub/c.bin") == s.c);
  CHECK(read_all(tree / "empty").empty());
}

TEST_CASE("stager: every delivery order gives the same files", "[installer][stager]") {
  Sample s;
  std::vector<std::uint32_t> order = {0, 1, 2};
  do {
    INFO("order " << order[0] << order[1] << order[2]);
    TempDir tmp;
    Stager stager(real_fs, s.payload, tmp.path() / "t", s.no_skip());
    REQUIRE(stager.create_files());
    for (std::uint32_t k : order) {
      REQUIRE(stager.on_chunk(k, s.chunks[k]));
    }
    REQUIRE(stager.finish());
    CHECK(read_all(tmp.path() / "t" / "a.bin") == s.a);
    CHECK(read_all(tmp.path() / "t" / "dir/b.bin") == s.b);
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST_CASE("stager: a chunk delivered twice is kCorruption", "[installer][stager]") {
  Sample s;
  TempDir tmp;
  Stager stager(real_fs, s.payload, tmp.path() / "tree", s.no_skip());
  REQUIRE(stager.create_files());
  REQUIRE(stager.on_chunk(1, s.chunks[1]));
  auto again = stager.on_chunk(1, s.chunks[1]);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code() == ErrorCode::kCorruption);
  CHECK_THAT(again.error().message(), Catch::Contains("chunk 1 arrived twice"));
}

TEST_CASE("stager: a chunk that never arrives fails at finish", "[installer][stager]") {
  Sample s;
  TempDir tmp;
  Stager stager(real_fs, s.payload, tmp.path() / "tree", s.no_skip());
  REQUIRE(stager.create_files());
  REQUIRE(stager.on_chunk(0, s.chunks[0]));
  REQUIRE(stager.on_chunk(2, s.chunks[2]));
  auto fin = stager.finish();
  REQUIRE_FALSE(fin.has_value());
  CHECK(fin.error().code() == ErrorCode::kCorruption);
  CHECK(fin.error().message().find("not all of its chunks") != std::string::npos);
}

TEST_CASE("stager: skipped files are not written", "[installer][stager]") {
  Sample s;
  TempDir tmp;
  const stdfs::path tree = tmp.path() / "tree";
  std::vector<bool> skip = s.no_skip();
  skip[0] = true;  // a.bin will be hardlinked by the caller
  Stager stager(real_fs, s.payload, tree, skip);
  REQUIRE(stager.create_files());
  CHECK_FALSE(stdfs::exists(tree / "a.bin"));
  for (std::uint32_t k : {2u, 1u, 0u}) {
    REQUIRE(stager.on_chunk(k, s.chunks[k]));
  }
  REQUIRE(stager.finish());
  CHECK_FALSE(stdfs::exists(tree / "a.bin"));
  CHECK(read_all(tree / "dir/b.bin") == s.b);
}

TEST_CASE("stager: verify-only mode writes nothing and still wants every chunk", "[installer][stager]") {
  Sample s;
  TempDir tmp;
  const stdfs::path cwd = stdfs::current_path();
  stdfs::current_path(tmp.path());
  Stager stager(real_fs, s.payload, stdfs::path(), s.no_skip());
  REQUIRE(stager.create_files());
  for (std::uint32_t k : {1u, 0u}) {
    REQUIRE(stager.on_chunk(k, s.chunks[k]));
  }
  auto short_of_one = stager.finish();
  REQUIRE(stager.on_chunk(2, s.chunks[2]));
  auto all = stager.finish();
  stdfs::current_path(cwd);
  REQUIRE_FALSE(short_of_one.has_value());
  CHECK_THAT(short_of_one.error().message(), Catch::Contains("not all of its chunks arrived"));
  CHECK(all.has_value());
  CHECK(stdfs::is_empty(tmp.path()));
}

}  // namespace airlock::installer

namespace airlock::installer {
namespace {

// The sample over two volumes: chunks 0 and 1 in a pack of volume 0, chunk 2
// in a pack of volume 1; the first run staged volume 0 and stopped.
struct Stopped {
  Sample s;
  TempDir tmp;
  stdfs::path tree = tmp.path() / "tree";
  Stopped() {
    s.payload.packs = {format::PackEntry{0, "packs/000000.pack", 6000}, format::PackEntry{1, "packs/000001.pack", 333}};
    s.payload.chunks[2].pack = 1;
    s.payload.chunks[2].offset = 0;
    Stager first(real_fs, s.payload, tree, s.no_skip());
    REQUIRE(first.create_files());
    REQUIRE(first.on_chunk(0, s.chunks[0]));
    REQUIRE(first.on_chunk(1, s.chunks[1]));
  }
};

}  // namespace

TEST_CASE("stager: a resumed install reads only the volumes not staged and checks what was staged before",
          "[installer][stager][resume]") {
  Stopped st;
  Stager again(real_fs, st.s.payload, st.tree, st.s.no_skip());
  REQUIRE(again.resume_files({true, false}));
  REQUIRE(again.on_chunk(2, st.s.chunks[2]));
  REQUIRE(again.finish());
  CHECK(read_all(st.tree / "a.bin") == st.s.a);  // every chunk from the first run, read back
  CHECK(read_all(st.tree / "dir/b.bin") == st.s.b);
  CHECK(read_all(st.tree / "dir/sub/c.bin") == st.s.c);
}

TEST_CASE("stager: a staged byte changed while stopped is kCorruption naming the file",
          "[installer][stager][resume]") {
  Stopped st;
  {
    std::fstream f(st.tree / "a.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put(static_cast<char>(st.s.a[10] ^ 0xff));
  }
  Stager again(real_fs, st.s.payload, st.tree, st.s.no_skip());
  REQUIRE(again.resume_files({true, false}));
  REQUIRE(again.on_chunk(2, st.s.chunks[2]));
  auto done = again.finish();
  REQUIRE_FALSE(done.has_value());
  CHECK(done.error().code() == ErrorCode::kCorruption);
  CHECK_THAT(done.error().message(), Catch::Contains("a.bin: bytes 0..1000 staged by the interrupted install changed"));
}

TEST_CASE("stager: a resumed install checks every place a staged chunk was written, not only the first",
          "[installer][stager][resume]") {
  Stopped st;
  // b.bin holds c0 once and c2 twice; c0's place in b.bin is changed, its
  // place in a.bin is not.
  const std::uint64_t at = st.s.chunks[2].size() + 5;  // inside c0, after the first c2
  {
    std::fstream f(st.tree / "dir/b.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(at));
    f.put(static_cast<char>(st.s.b[at] ^ 0x01));
  }
  Stager again(real_fs, st.s.payload, st.tree, st.s.no_skip());
  REQUIRE(again.resume_files({true, false}));
  REQUIRE(again.on_chunk(2, st.s.chunks[2]));
  auto done = again.finish();
  REQUIRE_FALSE(done.has_value());
  CHECK_THAT(done.error().message(), Catch::Contains("dir/b.bin: bytes"));
}

TEST_CASE("stager: resuming over a staged file that is a hardlink, short or gone is refused before a write",
          "[installer][stager][resume]") {
  Stopped st;
  SECTION("a hardlink to a file elsewhere") {
    const stdfs::path victim = st.tmp.path() / "victim";
    stdfs::copy_file(st.tree / "dir/b.bin", victim);
    stdfs::remove(st.tree / "dir/b.bin");
    stdfs::create_hard_link(victim, st.tree / "dir/b.bin");
    const Bytes before = read_all(victim);
    Stager again(real_fs, st.s.payload, st.tree, st.s.no_skip());
    auto r = again.resume_files({true, false});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
    CHECK(read_all(victim) == before);
  }
  SECTION("cut short") {
    stdfs::resize_file(st.tree / "a.bin", 10);
    Stager again(real_fs, st.s.payload, st.tree, st.s.no_skip());
    auto r = again.resume_files({true, false});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
  }
  SECTION("gone") {
    stdfs::remove(st.tree / "dir/sub/c.bin");
    Stager again(real_fs, st.s.payload, st.tree, st.s.no_skip());
    CHECK_FALSE(again.resume_files({true, false}).has_value());
  }
  SECTION("a symlink") {
    stdfs::remove(st.tree / "a.bin");
    stdfs::create_symlink(st.tmp.path() / "elsewhere", st.tree / "a.bin");
    Stager again(real_fs, st.s.payload, st.tree, st.s.no_skip());
    CHECK_FALSE(again.resume_files({true, false}).has_value());
    CHECK_FALSE(stdfs::exists(st.tmp.path() / "elsewhere"));
  }
}

}  // namespace airlock::installer

namespace airlock::installer {
namespace {

// The real file system, counting what goes through pwrite_direct and
// refusing a call that breaks its alignment contract.
struct DirectStats {
  std::uint64_t direct_bytes = 0;
  std::uint64_t misaligned_calls = 0;
};
class CountingFile final : public os::StagedFile {
 public:
  CountingFile(std::unique_ptr<os::StagedFile> inner, DirectStats& stats) : m_inner(std::move(inner)), m_stats(stats) {}
  Status allocate(std::uint64_t size) override { return m_inner->allocate(size); }
  Status pwrite_all(ByteSpan data, std::uint64_t offset) override { return m_inner->pwrite_all(data, offset); }
  Status pwrite_direct(ByteSpan data, std::uint64_t offset) override {
    const auto addr = reinterpret_cast<std::uintptr_t>(data.data());
    if (addr % os::k_direct_align != 0 || data.size() % os::k_direct_align != 0 || offset % os::k_direct_align != 0) {
      ++m_stats.misaligned_calls;
    }
    m_stats.direct_bytes += data.size();
    return m_inner->pwrite_direct(data, offset);
  }
  Status pread_exact(std::span<std::uint8_t> out, std::uint64_t offset) override {
    return m_inner->pread_exact(out, offset);
  }
  void start_writeback(std::uint64_t offset, std::uint64_t len) override { m_inner->start_writeback(offset, len); }
  Status check_staged(std::uint64_t size) override { return m_inner->check_staged(size); }

 private:
  std::unique_ptr<os::StagedFile> m_inner;
  DirectStats& m_stats;
};
class CountingFs final : public os::FileSystem {
 public:
  Result<std::unique_ptr<os::StagedFile>> create_new(const stdfs::path& path, std::uint32_t mode) override {
    ASSIGN_OR_RETURN(auto f, m_real.create_new(path, mode));
    return std::unique_ptr<os::StagedFile>(std::make_unique<CountingFile>(std::move(f), stats));
  }
  Result<std::unique_ptr<os::StagedFile>> open_write(const stdfs::path& path) override {
    ASSIGN_OR_RETURN(auto f, m_real.open_write(path));
    return std::unique_ptr<os::StagedFile>(std::make_unique<CountingFile>(std::move(f), stats));
  }
  Status make_dirs(const stdfs::path& dir, std::uint32_t mode) override { return m_real.make_dirs(dir, mode); }
  Status sync_file_system(const stdfs::path& dir) override { return m_real.sync_file_system(dir); }
  Status fsync_dir(const stdfs::path& dir) override { return m_real.fsync_dir(dir); }
  Status rename(const stdfs::path& from, const stdfs::path& to) override { return m_real.rename(from, to); }
  Status hardlink(const stdfs::path& from, const stdfs::path& to) override { return m_real.hardlink(from, to); }
  Status chmod(const stdfs::path& path, std::uint32_t mode) override { return m_real.chmod(path, mode); }
  Status remove_tree(const stdfs::path& path) override { return m_real.remove_tree(path); }
  Status replace_symlink(const stdfs::path& link, const std::string& target) override {
    return m_real.replace_symlink(link, target);
  }
  DirectStats stats;

 private:
  os::PosixFileSystem m_real;
};

// Two large files (above the 4 MiB of direct writing, of unaligned sizes)
// and a small one. Chunks of unaligned sizes; big = c0..c7 with c2 again at
// the end (a place that is not where the run ends); other = c8 c9 c1, so
// delivery in chunk order switches between the files; small = c10.
struct LargeSample {
  std::vector<Bytes> chunks;
  format::Payload payload;
  std::vector<Bytes> contents;
  LargeSample() {
    for (int i = 0; i < 11; ++i) {
      chunks.push_back(test::random_bytes(i == 10 ? 777 : (1u << 20) - 4099 * static_cast<std::size_t>(i + 1), 40 + i));
    }
    const std::vector<std::vector<std::uint32_t>> files = {{0, 1, 2, 3, 4, 5, 6, 7, 2}, {8, 9, 1, 9, 8}, {10}};
    payload.name = "demo";
    payload.version = "1";
    add_chunks_in_one_pack(payload, chunks);
    const char* names[] = {"model/big.safetensors", "model/other.safetensors", "config.json"};
    for (std::size_t f = 0; f < files.size(); ++f) {
      Bytes content;
      const std::uint64_t first = payload.refs.size();
      for (std::uint32_t k : files[f]) {
        payload.refs.push_back(k);
        append(content, chunks[k]);
      }
      payload.files.push_back(format::FileEntry{names[f], 0644, content.size(), crypto::sha256_hex(content), first,
                                                files[f].size()});
      contents.push_back(std::move(content));
    }
  }
};

}  // namespace

TEST_CASE("stager: large files written directly, in aligned blocks, come out byte for byte in any order",
          "[installer][stager]") {
  LargeSample s;
  REQUIRE(format::decode_payload(format::encode_payload(s.payload), 1).has_value());
  REQUIRE(s.contents[0].size() > (4u << 20));
  REQUIRE(s.contents[0].size() % 4096 != 0);
  std::vector<std::uint32_t> order(s.chunks.size());
  for (std::uint32_t k = 0; k < order.size(); ++k) order[k] = k;
  for (int pass = 0; pass < 3; ++pass) {
    INFO("pass " << pass);  // chunk order (as the reader delivers), reversed, shuffled
    if (pass == 1) std::reverse(order.begin(), order.end());
    if (pass == 2) std::shuffle(order.begin(), order.end(), std::mt19937(5));
    TempDir tmp;
    CountingFs fs;
    Stager stager(fs, s.payload, tmp.path() / "t", std::vector<bool>(s.payload.files.size(), false));
    REQUIRE(stager.create_files());
    for (std::uint32_t k : order) {
      REQUIRE(stager.on_chunk(k, s.chunks[k]));
    }
    REQUIRE(stager.finish());
    for (std::size_t f = 0; f < s.contents.size(); ++f) {
      CHECK(read_all(tmp.path() / "t" / s.payload.files[f].path) == s.contents[f]);
    }
    CHECK(fs.stats.misaligned_calls == 0);
    if (pass == 0) {
      // In chunk order most of both large files went around the cache.
      CHECK(fs.stats.direct_bytes > (s.contents[0].size() + s.contents[1].size()) / 2);
    }
  }
}

TEST_CASE("stager: flush() puts every delivered chunk in its file before finish", "[installer][stager]") {
  LargeSample s;
  TempDir tmp;
  CountingFs fs;
  Stager stager(fs, s.payload, tmp.path() / "t", std::vector<bool>(s.payload.files.size(), false));
  REQUIRE(stager.create_files());
  for (std::uint32_t k : {0u, 1u, 2u}) {
    REQUIRE(stager.on_chunk(k, s.chunks[k]));
  }
  REQUIRE(stager.flush());
  // What a resume record written now would claim is on disk (not yet synced, but written).
  const Bytes got = read_all(tmp.path() / "t" / s.payload.files[0].path);
  Bytes want;
  for (std::uint32_t k : {0u, 1u, 2u}) append(want, s.chunks[k]);
  REQUIRE(got.size() == s.contents[0].size());
  CHECK(Bytes(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(want.size())) == want);
}

}  // namespace airlock::installer

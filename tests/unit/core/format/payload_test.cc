#include "core/format/payload.h"

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/crypto/sha256.h"

namespace airlock::format {
namespace {

using nlohmann::json;

crypto::Digest digest_filled(std::uint8_t v) {
  crypto::Digest d{};
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(v + i);
  return d;
}

// Two volumes, two packs, three chunks; files share chunk 0; one empty file.
Payload sample_payload() {
  Payload p;
  p.name = "demo";
  p.version = "1.0.0";
  p.chunks = {
      ChunkEntry{digest_filled(0x10), 100, 50, 0, 0, codec::Codec::kZstd},
      ChunkEntry{digest_filled(0x20), 200, 80, 0, 50, codec::Codec::kBytePlane},
      ChunkEntry{digest_filled(0x30), 300, 316, 1, 0, codec::Codec::kStore},
  };
  p.packs = {PackEntry{0, "packs/000000.pack", 130}, PackEntry{1, "packs/000001.pack", 316}};
  p.refs = {0, 1, 2, 0};
  p.files = {
      FileEntry{"model/a.bin", 0644, 300, std::string(64, 'a'), 0, 2},
      FileEntry{"model/sub/b.bin", 0755, 400, std::string(64, 'b'), 2, 2},
      FileEntry{"config/empty", 0644, 0, crypto::sha256_hex({}), 4, 0},
  };
  p.activate = json{{"run", {"systemctl", "restart", "x"}}, {"timeout_seconds", 90}, {"shell", false}};
  return p;
}

Result<Payload> round_trip(const Payload& p, std::size_t volumes = 2) { return decode_payload(encode_payload(p), volumes); }

void expect_corrupt(const Payload& p, std::string_view needle = {}, std::size_t volumes = 2) {
  auto r = round_trip(p, volumes);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
  if (!needle.empty()) {
    INFO(r.error().message());
    CHECK(r.error().message().find(needle) != std::string::npos);
  }
}

void expect_corrupt_bytes(const Bytes& b, std::size_t volumes = 2) {
  auto r = decode_payload(b, volumes);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
}

std::size_t meta_len(const Bytes& b) { return static_cast<std::size_t>(get_u64le(b.data() + 8)); }
std::size_t chunk_record_at(const Bytes& b, std::size_t i) { return 16 + meta_len(b) + 8 + 64 * i; }

// Re-encodes `b` with its metadata JSON edited by `edit`.
Bytes with_meta(const Bytes& b, const std::function<void(json&)>& edit) {
  const std::size_t len = meta_len(b);
  json meta = json::parse(as_chars(ByteSpan(b.data() + 16, len)));
  edit(meta);
  std::string text = meta.dump();
  Bytes out(b.begin(), b.begin() + 8);
  put_u64le(out, text.size());
  append(out, as_bytes(text));
  out.insert(out.end(), b.begin() + static_cast<std::ptrdiff_t>(16 + len), b.end());
  return out;
}

}  // namespace

TEST_CASE("payload: encode/decode round trip keeps every field", "[format][payload]") {
  Payload p = sample_payload();
  p.chunking.min_size = 1024;
  p.chunking.avg_size = 4096;
  p.chunking.max_size = 16384;
  p.chunking.tensor_size = 8192;
  auto d = round_trip(p);
  REQUIRE(d.has_value());
  CHECK(d->name == p.name);
  CHECK(d->version == p.version);
  CHECK(d->chunking.min_size == 1024);
  CHECK(d->chunking.avg_size == 4096);
  CHECK(d->chunking.max_size == 16384);
  CHECK(d->chunking.tensor_size == 8192);
  REQUIRE(d->chunks.size() == p.chunks.size());
  for (std::size_t i = 0; i < p.chunks.size(); ++i) {
    INFO("chunk " << i);
    CHECK(d->chunks[i].id == p.chunks[i].id);
    CHECK(d->chunks[i].size == p.chunks[i].size);
    CHECK(d->chunks[i].stored == p.chunks[i].stored);
    CHECK(d->chunks[i].pack == p.chunks[i].pack);
    CHECK(d->chunks[i].offset == p.chunks[i].offset);
    CHECK(d->chunks[i].codec == p.chunks[i].codec);
  }
  REQUIRE(d->files.size() == p.files.size());
  for (std::size_t i = 0; i < p.files.size(); ++i) {
    INFO("file " << i);
    CHECK(d->files[i].path == p.files[i].path);
    CHECK(d->files[i].mode == p.files[i].mode);
    CHECK(d->files[i].size == p.files[i].size);
    CHECK(d->files[i].sha256 == p.files[i].sha256);
    CHECK(d->files[i].first_ref == p.files[i].first_ref);
    CHECK(d->files[i].ref_count == p.files[i].ref_count);
  }
  REQUIRE(d->packs.size() == p.packs.size());
  for (std::size_t i = 0; i < p.packs.size(); ++i) {
    CHECK(d->packs[i].volume == p.packs[i].volume);
    CHECK(d->packs[i].name == p.packs[i].name);
    CHECK(d->packs[i].size == p.packs[i].size);
  }
  CHECK(d->refs == p.refs);
  CHECK(d->activate == p.activate);
  CHECK(d->total_file_bytes() == 700);
  CHECK(encode_payload(*d) == encode_payload(p));
}

TEST_CASE("payload: file hashes that the chunk ids contradict are refused", "[format][payload]") {
  SECTION("an empty file whose SHA-256 is not that of nothing") {
    Payload p = sample_payload();
    p.files[2].sha256 = std::string(64, 'e');
    expect_corrupt(p, "file 'config/empty' has a SHA-256 its chunks contradict");
  }
  SECTION("a one-chunk file whose SHA-256 is not its chunk id") {
    Payload p = sample_payload();
    p.files.push_back(FileEntry{"model/one.bin", 0644, 300, std::string(64, 'c'), 2, 1});
    expect_corrupt(p, "file 'model/one.bin' has a SHA-256 its chunks contradict");
    p.files.back().sha256 = to_hex(p.chunks[2].id);
    CHECK(round_trip(p).has_value());
  }
  SECTION("not 64 lowercase hex digits") {
    for (const std::string bad : {std::string(63, 'a'), std::string(64, 'A'), std::string(64, 'g')}) {
      Payload p = sample_payload();
      p.files[0].sha256 = bad;
      expect_corrupt(p, "file 'model/a.bin' has a SHA-256");
    }
  }
  SECTION("a fixed tensor chunk size above the maximum chunk") {
    Payload p = sample_payload();
    p.chunking.tensor_size = p.chunking.max_size + 1;
    expect_corrupt(p, "chunking: 'tensor' is not a size up to 'max'");
    p.chunking.tensor_size = 0;  // what bundles before fixed tensor cuts say (no "tensor" at all)
    const Bytes b = encode_payload(p);
    CHECK_FALSE(json::parse(as_chars(ByteSpan(b.data() + 16, meta_len(b))))["chunking"].contains("tensor"));
    auto d = round_trip(p);
    REQUIRE(d.has_value());
    CHECK(d->chunking.tensor_size == 0);
  }
}

TEST_CASE("payload: byte layout follows FORMAT.md", "[format][payload]") {
  Payload p = sample_payload();
  Bytes b = encode_payload(p);
  CHECK(std::memcmp(b.data(), "ALPAYLD1", 8) == 0);
  json meta = json::parse(as_chars(ByteSpan(b.data() + 16, meta_len(b))));
  CHECK(meta["chunking"]["algorithm"] == "fastcdc-v1+tensor-fixed");
  CHECK(meta["chunking"]["tensor"] == 1048576);
  CHECK(meta["deployment"]["name"] == "demo");
  const std::size_t count_at = 16 + meta_len(b);
  CHECK(get_u64le(b.data() + count_at) == 3);
  const std::uint8_t* r = b.data() + chunk_record_at(b, 1);
  CHECK(std::memcmp(r, p.chunks[1].id.data(), 32) == 0);
  CHECK(get_u64le(r + 32) == 200);
  CHECK(get_u64le(r + 40) == 80);
  CHECK(get_u64le(r + 48) == 50);
  CHECK(get_u32le(r + 56) == 0);
  CHECK(r[60] == 2);
  CHECK((r[61] | r[62] | r[63]) == 0);
  const std::size_t refs_at = chunk_record_at(b, 3);
  CHECK(get_u64le(b.data() + refs_at) == 4);
  CHECK(b.size() == refs_at + 8 + 4 * 4);
  CHECK(get_u32le(b.data() + refs_at + 8 + 8) == 2);
}

TEST_CASE("payload: an empty payload round trips", "[format][payload]") {
  Payload p;
  p.name = "empty";
  p.version = "0";
  auto d = round_trip(p, 1);
  REQUIRE(d.has_value());
  CHECK(d->files.empty());
  CHECK(d->chunks.empty());
  CHECK(d->refs.empty());
  CHECK(d->packs.empty());
  CHECK(d->activate.is_null());
}

TEST_CASE("payload: rejects unsafe paths", "[format][payload]") {
  for (std::string path : {std::string("../x"), std::string("/abs"), std::string("a//b"), std::string("a/./b"),
                           std::string(""), std::string("."), std::string(".."), std::string("a/.."),
                           std::string("./a"), std::string("a/"), std::string("model/../../etc/passwd"),
                           std::string("a\0b", 3)}) {
    INFO("path: " << path);
    Payload p = sample_payload();
    p.files[0].path = path;
    expect_corrupt(p);
  }
}

TEST_CASE("payload: rejects duplicate paths", "[format][payload]") {
  Payload p = sample_payload();
  p.files[1].path = p.files[0].path;
  expect_corrupt(p, "twice");
}

TEST_CASE("payload: rejects a path that is both a file and a directory", "[format][payload]") {
  Payload p = sample_payload();
  p.files[0].path = "a";
  p.files[1].path = "a/b";
  expect_corrupt(p, "both a file and a directory");

  p.files[0].path = "x/y/z";
  p.files[1].path = "x/y";
  expect_corrupt(p, "both a file and a directory");

  // Siblings that merely share a prefix are fine.
  p.files[0].path = "a";
  p.files[1].path = "a0/b";
  p.files[2].path = "a.b";
  auto ok = round_trip(p);
  REQUIRE(ok.has_value());
  p.files[2].path = "a-b/c";
  ok = round_trip(p);
  REQUIRE(ok.has_value());
}

TEST_CASE("payload: only modes 0644 and 0755 are allowed", "[format][payload]") {
  for (std::uint32_t mode : {04755u, 0777u, 02755u, 01755u, 0600u, 0444u, 0u, 0100644u}) {
    INFO("mode " << std::oct << mode);
    Payload p = sample_payload();
    p.files[1].mode = mode;
    expect_corrupt(p, "mode");
  }
  Payload p = sample_payload();
  p.files[0].mode = 0755;
  p.files[1].mode = 0644;
  REQUIRE(round_trip(p).has_value());
}

TEST_CASE("payload: a JSON mode that only truncates to 0644 is rejected", "[format][payload]") {
  // 2^32 + 420: not 420, whatever a 32-bit cast makes of it.
  Bytes b = with_meta(encode_payload(sample_payload()),
                      [](json& m) { m["files"][0]["mode"] = (1ull << 32) + 0644; });
  expect_corrupt_bytes(b);
}

TEST_CASE("payload: a JSON pack volume that only truncates to 0 is rejected", "[format][payload]") {
  // 2^32 is not volume 0, whatever a 32-bit cast makes of it.
  Bytes b = with_meta(encode_payload(sample_payload()), [](json& m) { m["packs"][0]["volume"] = 1ull << 32; });
  expect_corrupt_bytes(b);
}

TEST_CASE("payload: rejects references beyond the chunk table", "[format][payload]") {
  Payload p = sample_payload();
  p.refs[3] = 3;
  expect_corrupt(p, "chunk 3 of 3");
  p.refs[3] = 0xffffffffu;
  expect_corrupt(p);
}

TEST_CASE("payload: rejects file ranges past the reference table", "[format][payload]") {
  Payload p = sample_payload();
  p.files[2].first_ref = 5;
  expect_corrupt(p, "references past");
  p = sample_payload();
  p.files[1].ref_count = 3;
  p.files[1].size = 500;
  expect_corrupt(p, "references past");
  p = sample_payload();
  p.files[1].first_ref = ~0ull;
  p.files[1].ref_count = 2;
  expect_corrupt(p, "references past");
}

TEST_CASE("payload: rejects a file size that is not the sum of its chunks", "[format][payload]") {
  for (std::uint64_t size : {299ull, 301ull, 0ull, ~0ull}) {
    INFO(size);
    Payload p = sample_payload();
    p.files[0].size = size;
    expect_corrupt(p, "add up");
  }
  Payload p = sample_payload();
  p.files[2].size = 1;  // empty file claiming a byte
  expect_corrupt(p, "add up");
}

TEST_CASE("payload: rejects gaps, overlaps and reordering inside a pack", "[format][payload]") {
  Payload p = sample_payload();
  p.chunks[1].offset = 51;  // gap
  p.packs[0].size = 131;
  expect_corrupt(p, "chunk 1");

  p = sample_payload();
  p.chunks[1].offset = 49;  // overlap
  p.packs[0].size = 129;
  expect_corrupt(p, "chunk 1");

  p = sample_payload();
  p.chunks[0].offset = 80;  // out of order: chunk 1 first, then chunk 0
  p.chunks[1].offset = 0;
  expect_corrupt(p, "chunk 0");

  p = sample_payload();
  p.chunks[2].offset = 1;  // first frame not at 0
  p.packs[1].size = 317;
  expect_corrupt(p, "chunk 2");
}

TEST_CASE("payload: rejects a pack size that does not match its frames", "[format][payload]") {
  for (std::uint64_t size : {129ull, 131ull, 0ull}) {
    INFO(size);
    Payload p = sample_payload();
    p.packs[0].size = size;
    expect_corrupt(p, "packs/000000.pack");
  }
  Payload p = sample_payload();
  p.packs.push_back(PackEntry{1, "packs/000002.pack", 10});  // a pack with no frames
  expect_corrupt(p, "packs/000002.pack");
}

TEST_CASE("payload: rejects a pack in a volume that does not exist", "[format][payload]") {
  Payload p = sample_payload();
  p.packs[1].volume = 2;
  expect_corrupt(p, "packs/000001.pack");
  expect_corrupt(sample_payload(), "packs/000001.pack", 1);
  expect_corrupt(sample_payload(), {}, 0);
}

TEST_CASE("payload: rejects badly named or duplicated packs", "[format][payload]") {
  for (std::string name : {"packs/000000.pack", "other/1.pack", "packs/../x", "/packs/1", "packs//1", "packs/"}) {
    INFO(name);
    Payload p = sample_payload();
    p.packs[1].name = name;
    expect_corrupt(p);
  }
}

TEST_CASE("payload: rejects a chunk in a pack that does not exist", "[format][payload]") {
  Payload p = sample_payload();
  p.chunks[2].pack = 2;
  expect_corrupt(p, "chunk 2");
}

TEST_CASE("payload: rejects an unknown codec byte", "[format][payload]") {
  Bytes good = encode_payload(sample_payload());
  REQUIRE(decode_payload(good, 2).has_value());
  for (std::uint8_t codec : {std::uint8_t{3}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
    INFO(int(codec));
    Bytes b = good;
    b[chunk_record_at(b, 1) + 60] = codec;
    expect_corrupt_bytes(b);
  }
}

// Pack 0 holds a solid block: chunk 0 (head, 40 stored bytes) with members
// 1 and 2 after it; chunk 3 a plain frame after the block.
Payload solid_payload() {
  Payload p = sample_payload();
  p.chunks = {
      ChunkEntry{digest_filled(0x10), 100, 40, 0, 0, codec::Codec::kSolid},
      ChunkEntry{digest_filled(0x20), 200, 0, 0, 40, codec::Codec::kMember},
      ChunkEntry{digest_filled(0x30), 300, 0, 0, 40, codec::Codec::kMember},
      ChunkEntry{digest_filled(0x40), 50, 60, 0, 40, codec::Codec::kZstd},
  };
  p.packs = {PackEntry{0, "packs/000000.pack", 100}};
  p.refs = {0, 1, 2, 3};
  p.files = {
      FileEntry{"a", 0644, 100, to_hex(digest_filled(0x10)), 0, 1},
      FileEntry{"b", 0644, 200, to_hex(digest_filled(0x20)), 1, 1},
      FileEntry{"c", 0644, 350, std::string(64, 'c'), 2, 2},
  };
  return p;
}

TEST_CASE("payload: solid blocks are read from format version 2 on, and only well formed", "[format][payload]") {
  const Payload good = solid_payload();
  auto v2 = decode_payload(encode_payload(good), 2, 2);
  REQUIRE(v2.has_value());
  CHECK(v2->has_solid_blocks());
  CHECK(v2->group_end(0) == 3);
  CHECK(v2->group_end(1) == 2);
  CHECK(v2->group_end(3) == 4);
  // A version-1 bundle has no such records.
  auto v1 = decode_payload(encode_payload(good), 2, 1);
  REQUIRE_FALSE(v1.has_value());
  CHECK_THAT(v1.error().message(), Catch::Contains("chunk 0 has an unknown codec"));
  CHECK_FALSE(sample_payload().has_solid_blocks());
  REQUIRE(decode_payload(encode_payload(sample_payload()), 2, 2).has_value());

  auto expect_v2_corrupt = [](const Payload& p, std::string_view needle) {
    auto r = decode_payload(encode_payload(p), 2, 2);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
    CHECK_THAT(r.error().message(), Catch::Contains(std::string(needle)));
  };
  Payload p = good;
  p.chunks[0].codec = codec::Codec::kZstd;  // members after a plain frame
  expect_v2_corrupt(p, "chunk 1 is a solid-block member that follows no solid block");
  p = good;
  p.chunks[3].codec = codec::Codec::kMember;  // a member after a plain frame
  p.chunks[2].codec = codec::Codec::kZstd;
  expect_v2_corrupt(p, "chunk 3 is a solid-block member");
  p = good;
  p.chunks[1].stored = 10;  // a member with bytes of its own
  p.chunks[1].offset = 40;
  p.chunks[2].offset = 50;
  p.chunks[3].offset = 50;
  p.packs[0].size = 110;
  expect_v2_corrupt(p, "chunk 1 is a solid-block member");
  p = good;
  p.chunks[0].stored = 0;  // a head with no frame
  p.chunks[1].offset = p.chunks[2].offset = p.chunks[3].offset = 0;
  p.packs[0].size = 60;
  expect_v2_corrupt(p, "solid block at chunk 0 has no frame");
  p = good;  // a member in another pack than its head
  p.packs = {PackEntry{0, "packs/000000.pack", 40}, PackEntry{1, "packs/000001.pack", 60}};
  p.chunks[2].pack = 1;
  p.chunks[2].offset = 0;
  p.chunks[3].pack = 1;
  p.chunks[3].offset = 0;
  expect_v2_corrupt(p, "chunk 2 is a solid-block member");
  p = good;  // a member first in the table
  p.chunks[0].codec = codec::Codec::kMember;
  p.chunks[0].stored = 0;
  p.chunks[1].offset = p.chunks[2].offset = p.chunks[3].offset = 0;
  p.packs[0].size = 60;
  expect_v2_corrupt(p, "chunk 0 is a solid-block member");
  p = good;  // more bytes in one block than one chunk may have
  p.chunking.max_size = p.chunking.tensor_size = 500;
  expect_v2_corrupt(p, "solid block ending at chunk 2 holds more than 500 bytes");
  p.chunking.max_size = p.chunking.tensor_size = 600;
  CHECK(decode_payload(encode_payload(p), 2, 2).has_value());
  // Codec bytes past the last record kind stay unknown.
  Bytes b = encode_payload(good);
  b[chunk_record_at(b, 3) + 60] = 5;
  auto r = decode_payload(b, 2, 2);
  REQUIRE_FALSE(r.has_value());
  CHECK_THAT(r.error().message(), Catch::Contains("chunk 3 has an unknown codec"));
}

TEST_CASE("payload: rejects nonzero reserved bytes", "[format][payload]") {
  Bytes good = encode_payload(sample_payload());
  for (std::size_t chunk = 0; chunk < 3; ++chunk) {
    for (std::size_t k = 61; k < 64; ++k) {
      INFO("chunk " << chunk << " byte " << k);
      Bytes b = good;
      b[chunk_record_at(b, chunk) + k] = 0x01;
      auto r = decode_payload(b, 2);
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().code() == ErrorCode::kCorruption);
      CHECK(r.error().message().find("reserved") != std::string::npos);
    }
  }
}

TEST_CASE("payload: rejects a chunk size of 0 or above the maximum", "[format][payload]") {
  Payload p = sample_payload();
  p.chunks[0].size = 0;
  expect_corrupt(p, "chunk 0");

  p = sample_payload();
  p.chunks[2].size = p.chunking.max_size + 1ull;
  p.files[1].size = p.chunking.max_size + 1ull + 100;
  expect_corrupt(p, "chunk 2");

  // Exactly the maximum is fine.
  p = sample_payload();
  p.chunks[2].size = p.chunking.max_size;
  p.files[1].size = p.chunking.max_size + 100ull;
  REQUIRE(round_trip(p).has_value());

  p = sample_payload();
  p.chunks[2].stored = (8u << 20) + 1;
  p.packs[1].size = p.chunks[2].stored;
  expect_corrupt(p, "chunk 2");
}

TEST_CASE("payload: rejects trailing bytes", "[format][payload]") {
  for (std::size_t extra : {1u, 4u, 64u}) {
    Bytes b = encode_payload(sample_payload());
    b.insert(b.end(), extra, 0);
    auto r = decode_payload(b, 2);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
    CHECK(r.error().message().find("trailing") != std::string::npos);
  }
}

TEST_CASE("payload: rejects a bad magic, bad JSON and huge counts", "[format][payload]") {
  Bytes good = encode_payload(sample_payload());
  Bytes b = good;
  b[7] = '2';
  expect_corrupt_bytes(b);

  b = good;
  b[16] = '[';
  expect_corrupt_bytes(b);

  b = good;
  for (int i = 0; i < 8; ++i) b[8 + i] = 0xff;  // metadata length 2^64-1
  expect_corrupt_bytes(b);

  b = good;
  const std::size_t count_at = 16 + meta_len(b);
  for (int i = 0; i < 8; ++i) b[count_at + i] = 0xff;  // 2^64-1 chunks
  expect_corrupt_bytes(b);

  b = good;
  b[count_at] = 4;  // one chunk more than there are records
  expect_corrupt_bytes(b);

  b = good;
  const std::size_t refs_at = chunk_record_at(b, 3);
  for (int i = 0; i < 8; ++i) b[refs_at + i] = 0xff;  // 2^64-1 references
  expect_corrupt_bytes(b);

  b = with_meta(good, [](json& m) { m.erase("files"); });
  expect_corrupt_bytes(b);
  b = with_meta(good, [](json& m) { m["files"][0]["size"] = -300; });
  expect_corrupt_bytes(b);
  b = with_meta(good, [](json& m) { m["chunking"].erase("max"); });
  expect_corrupt_bytes(b);
  b = with_meta(good, [](json& m) { m["deployment"]["name"] = 5; });
  expect_corrupt_bytes(b);
  // Unchanged metadata through the same helper still decodes.
  REQUIRE(decode_payload(with_meta(good, [](json&) {}), 2).has_value());
}

TEST_CASE("payload: every truncation is an error, never a crash", "[format][payload]") {
  Bytes good = encode_payload(sample_payload());
  REQUIRE(decode_payload(good, 2).has_value());
  for (std::size_t n = 0; n < good.size(); ++n) {
    std::vector<std::uint8_t> prefix(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = decode_payload(ByteSpan(prefix.data(), prefix.size()), 2);
    if (r.has_value()) {
      FAIL_CHECK("prefix of " << n << " bytes decoded");
    } else if (r.error().code() != ErrorCode::kCorruption) {
      FAIL_CHECK("prefix of " << n << " bytes: " << r.error().message());
    }
  }
}

}  // namespace airlock::format

namespace airlock::format {
namespace {

TEST_CASE("payload: sources are decoded with the payload, typed", "[format][payload][sources]") {
  Payload p = sample_payload();
  p.sources = json::array({{{"kind", "model"},
                            {"identity", {{"repo", "org/m"}, {"commit", std::string(40, 'c')}, {"revision", "v1"}}},
                            {"files", json::array({{{"path", "model/a.bin"}, {"sha256", std::string(64, 'a')},
                                                    {"extra", {{"lfs", true}}}}})}}});
  auto r = round_trip(p);
  REQUIRE(r.has_value());
  REQUIRE(r->typed_sources.size() == 1);
  CHECK(r->typed_sources[0].identity.revision == "v1");
  CHECK(r->typed_sources[0].files.at(0).blob == std::string(64, 'a'));

  p.sources[0]["identity"]["revision"] = "main/x";
  expect_corrupt(p, "sources[0] (model): identity.revision 'main/x'");
  p.sources[0]["identity"]["revision"] = "v1";
  p.sources[0]["files"][0]["extra"]["lfs"] = "true";
  expect_corrupt(p, "files[0].extra.lfs must be a boolean");
  p.sources = json::array({{{"kind", "model"}, {"files", json::array({{{"path", "model/sub/b.bin"}, {"size", 1}}})}}});
  expect_corrupt(p, "size or sha256 differs");
  p.sources = json{{"kind", "model"}};
  expect_corrupt(p, "sources must be an array");
}

TEST_CASE("payload: file names that cannot be layout entries are refused", "[format][payload]") {
  Payload p = sample_payload();
  p.files[2].path = "config/a\nb";
  expect_corrupt(p, "control character");
  p.files[2].path = "wheels/.tmp-x.whl";
  expect_corrupt(p, "cannot be an entry of ROOT/wheels");
  p.files[2].path = "debs/.hidden.deb";
  expect_corrupt(p, "cannot be an entry of ROOT/apt");
  p.files[2].path = "wheels/sub/.ok";  // not a direct entry of ROOT/wheels
  CHECK(round_trip(p).has_value());
}

// A delta (format version 3) of sample_payload: chunk 0 read back from the
// base, chunk 1 an XOR frame against a base chunk, chunk 2 a plain frame.
Payload delta_payload() {
  Payload p = sample_payload();
  p.base = BaseRef{"demo", "0.9.0", std::string(32, 'e'), std::string(64, 'f'), 42};
  p.chunks[0] = ChunkEntry{digest_filled(0x10), 100, 0, k_no_pack, 0, codec::Codec::kBase};
  p.chunks[1] = ChunkEntry{digest_filled(0x20), 200, 80, 0, 0, codec::Codec::kXor, codec::Codec::kBytePlane,
                           digest_filled(0x70)};
  p.packs[0].size = 80;
  return p;
}

TEST_CASE("payload: delta records are read from format version 3 on, and only well formed", "[format][payload][delta]") {
  const Payload good = delta_payload();
  CHECK(good.needed_format_version() == 3);
  CHECK(sample_payload().needed_format_version() == 1);
  auto v3 = decode_payload(encode_payload(good), 2, 3);
  REQUIRE(v3.has_value());
  REQUIRE(v3->base.has_value());
  CHECK(v3->base->version == "0.9.0");
  CHECK(v3->base->chunk_count == 42);
  CHECK(v3->chunks[0].codec == codec::Codec::kBase);
  CHECK(v3->chunks[1].codec == codec::Codec::kXor);
  CHECK(v3->chunks[1].inner == codec::Codec::kBytePlane);
  CHECK(v3->chunks[1].base_id == digest_filled(0x70));
  CHECK(encode_payload(*v3) == encode_payload(good));
  // Versions 1 and 2 have no base.
  for (std::uint32_t v : {1u, 2u}) {
    auto r = decode_payload(encode_payload(good), 2, v);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message(), Catch::Contains("'base' is malformed or in a bundle of format version below 3"));
  }
  auto expect_v3_corrupt = [](const Payload& p, std::string_view needle) {
    auto r = decode_payload(encode_payload(p), 2, 3);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
    CHECK_THAT(r.error().message(), Catch::Contains(std::string(needle)));
  };
  Payload p = good;
  p.base.reset();  // base records without a base
  expect_v3_corrupt(p, "chunk 0 has an unknown codec");
  p = good;
  p.chunks[0].pack = 0;  // a base chunk in a pack
  expect_v3_corrupt(p, "chunk 0 is read from the base but has a frame or a pack");
  p = good;
  p.chunks[0].stored = 10;
  expect_v3_corrupt(p, "chunk 0 is read from the base but has a frame or a pack");
  p = good;
  p.chunks[1].stored = 0;  // an XOR chunk with no frame
  p.packs[0].size = 0;
  expect_v3_corrupt(p, "XOR chunk 1 has no frame");
  p = good;
  p.base->bundle_id = "not hex";
  expect_v3_corrupt(p, "'base' is malformed");
  p = good;
  p.base->name = "../x";
  expect_v3_corrupt(p, "is not a valid deployment name and version");

  // Byte-level: the inner codec, and the XOR table.
  const Bytes b = encode_payload(good);
  auto corrupt_v3 = [](const Bytes& bytes, std::string_view needle) {
    auto r = decode_payload(bytes, 2, 3);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message(), Catch::Contains(std::string(needle)));
  };
  Bytes c = b;
  c[chunk_record_at(c, 1) + 61] = 3;  // an inner codec that is not a codec of bytes
  corrupt_v3(c, "chunk 1 has an unknown codec or reserved bits set");
  c = b;
  c[chunk_record_at(c, 2) + 61] = 1;  // an inner codec on a plain frame
  corrupt_v3(c, "chunk 2 has an unknown codec or reserved bits set");
  const std::size_t table = b.size() - 8 - 36;  // u64 count, then one entry
  c = b;
  c[table] = 2;  // says two entries
  corrupt_v3(c, "truncated XOR table");
  c = b;
  c[table + 8] = 2;  // names chunk 2, not an XOR chunk
  corrupt_v3(c, "XOR table entry 0 names chunk 2");
  c = b;
  c.resize(c.size() - 1);
  corrupt_v3(c, "truncated XOR table");
  c = b;
  c.push_back(0);
  corrupt_v3(c, "trailing bytes");
}

}  // namespace
}  // namespace airlock::format

// FileChunker: tensors are cut at fixed offsets from their own start, so a
// tensor's chunks depend on its bytes alone: a header edit that moves every
// offset, another tensor changed or added, or a different sharding leaves
// them identical. Everything else is cut by FastCDC.

#include "core/chunk/chunker.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/crypto/sha256.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace airlock::chunk {
namespace {

namespace stdfs = std::filesystem;

struct Tensor {
  std::string name;
  Bytes data;  // BF16 values
};

// A safetensors file: the 8-byte header length, the JSON header (with
// `metadata` as __metadata__ when not empty), then the tensors back to back.
Bytes safetensors(const std::vector<Tensor>& tensors, const std::map<std::string, std::string>& metadata = {}) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    header["__metadata__"] = metadata;
  }
  std::uint64_t at = 0;
  for (const Tensor& t : tensors) {
    header[t.name] = {{"dtype", "BF16"}, {"shape", {t.data.size() / 2}}, {"data_offsets", {at, at + t.data.size()}}};
    at += t.data.size();
  }
  const std::string text = header.dump();
  Bytes out;
  put_u64le(out, text.size());
  append(out, as_bytes(text));
  for (const Tensor& t : tensors) {
    append(out, t.data);
  }
  return out;
}

struct Cut {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  crypto::Digest id{};
};

std::vector<Cut> cut_file(const stdfs::path& path, const ChunkParams& params) {
  auto file = fs::File::open_read(path);
  REQUIRE(file);
  const std::uint64_t size = stdfs::file_size(path);
  auto chunker = FileChunker::open(*file, size, params);
  REQUIRE(chunker);
  std::vector<Cut> cuts;
  std::uint64_t next = 0;
  for (;;) {
    auto c = chunker->next();
    REQUIRE(c);
    if (!*c) {
      break;
    }
    REQUIRE((*c)->offset == next);  // contiguous, nothing skipped
    cuts.push_back(Cut{(*c)->offset, (*c)->data.size(), crypto::sha256((*c)->data)});
    next += (*c)->data.size();
  }
  CHECK(next == size);
  return cuts;
}

// Bytes of `b`'s chunks whose ids `a` does not have (what a bundle that
// deduplicates against `a` would still ship).
std::uint64_t new_bytes(const std::vector<Cut>& a, const std::vector<Cut>& b) {
  std::set<crypto::Digest> have;
  for (const Cut& c : a) {
    have.insert(c.id);
  }
  std::uint64_t out = 0;
  for (const Cut& c : b) {
    if (!have.contains(c.id)) {
      out += c.size;
      have.insert(c.id);
    }
  }
  return out;
}

constexpr std::uint64_t k_mib = 1u << 20;

std::vector<Tensor> model() {
  return {{"embed", test::random_bytes(2 * k_mib + k_mib / 2, 1)},
          {"layer.0.q", test::random_bytes(k_mib + 4096, 2)},
          {"layer.0.norm", test::random_bytes(4096, 3)},
          {"layer.1.q", test::random_bytes(3 * k_mib, 4)}};
}

}  // namespace

TEST_CASE("chunker: a tensor is cut every tensor_size bytes from its own start", "[chunk][chunker]") {
  test::TempDir dir("chunker");
  const Bytes file = safetensors(model());
  test::write_bytes(dir.path() / "m.safetensors", file);
  const std::vector<Cut> cuts = cut_file(dir.path() / "m.safetensors", ChunkParams{});
  const std::uint64_t data_start = 8 + get_u64le(file.data());
  // The header alone, then embed (1M, 1M, 0.5M), q (1M, 4K), norm (4K), q (1M x 3).
  std::vector<std::uint64_t> sizes;
  for (const Cut& c : cuts) {
    sizes.push_back(c.size);
  }
  const std::vector<std::uint64_t> want = {data_start, k_mib, k_mib, k_mib / 2, k_mib, 4096, 4096, k_mib, k_mib, k_mib};
  CHECK(sizes == want);
  CHECK(cuts[1].offset == data_start);
}

TEST_CASE("chunker: unchanged tensors keep their chunks across header edits, changes, additions and reshards",
          "[chunk][chunker]") {
  test::TempDir dir("chunker");
  const auto base = model();
  test::write_bytes(dir.path() / "base.safetensors", safetensors(base));
  const ChunkParams params;
  const std::vector<Cut> a = cut_file(dir.path() / "base.safetensors", params);
  std::uint64_t header_a = a.front().size;

  SECTION("a metadata edit moves every tensor's offset: only the header is new") {
    test::write_bytes(dir.path() / "v2.safetensors", safetensors(base, {{"format", "pt"}, {"note", "edited"}}));
    const auto b = cut_file(dir.path() / "v2.safetensors", params);
    CHECK(b.front().size != header_a);
    CHECK(new_bytes(a, b) == b.front().size);
  }
  SECTION("one tensor changed: only its chunks") {
    auto v2 = base;
    v2[3].data = test::random_bytes(v2[3].data.size(), 99);
    test::write_bytes(dir.path() / "v2.safetensors", safetensors(v2));
    const auto b = cut_file(dir.path() / "v2.safetensors", params);
    CHECK(new_bytes(a, b) == 3 * k_mib);  // the header is the same bytes: same names, shapes, offsets
  }
  SECTION("one tensor added in front: its bytes and the header") {
    auto v2 = base;
    v2.insert(v2.begin(), Tensor{"extra", test::random_bytes(k_mib / 4 + 2, 7)});
    test::write_bytes(dir.path() / "v2.safetensors", safetensors(v2));
    const auto b = cut_file(dir.path() / "v2.safetensors", params);
    CHECK(new_bytes(a, b) == b.front().size + k_mib / 4 + 2);
  }
  SECTION("the same tensors over two shards: only the two headers are new") {
    test::write_bytes(dir.path() / "s1.safetensors", safetensors({base[0], base[2]}));
    test::write_bytes(dir.path() / "s2.safetensors", safetensors({base[1], base[3]}));
    auto b = cut_file(dir.path() / "s1.safetensors", params);
    const auto b2 = cut_file(dir.path() / "s2.safetensors", params);
    const std::uint64_t headers = b.front().size + b2.front().size;
    b.insert(b.end(), b2.begin(), b2.end());
    CHECK(new_bytes(a, b) == headers);
  }
}

TEST_CASE("chunker: tensor_size 0 cuts tensors content-defined, as bundles before fixed tensor cuts did",
          "[chunk][chunker]") {
  test::TempDir dir("chunker");
  test::write_bytes(dir.path() / "m.safetensors", safetensors(model()));
  ChunkParams cdc;
  cdc.tensor_size = 0;
  const auto cuts = cut_file(dir.path() / "m.safetensors", cdc);
  // The 3 MiB tensor alone: FastCDC averages 256 KiB, so more than 3 chunks.
  std::size_t in_last = 0;
  for (const Cut& c : cuts) {
    in_last += c.offset >= cuts.back().offset + cuts.back().size - 3 * k_mib ? 1 : 0;
  }
  CHECK(in_last > 3);
  // A file that is not safetensors is cut by FastCDC whatever tensor_size says.
  test::write_bytes(dir.path() / "plain.bin", test::random_bytes(4 * k_mib, 5));
  const auto plain = cut_file(dir.path() / "plain.bin", ChunkParams{});
  CHECK(plain.size() > 4);
}

}  // namespace airlock::chunk

#include "core/chunk/fastcdc.h"

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

namespace airlock::chunk {
namespace {

// mt19937_64's output sequence is fixed by the standard, and bytes are taken
// by shifting, so this buffer is the same on every platform.
Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes out(n);
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t v = rng();
    for (std::size_t j = 0; j < 8 && i + j < n; ++j) {
      out[i + j] = static_cast<std::uint8_t>(v >> (8 * j));
    }
  }
  return out;
}

// Absolute end offsets of every chunk, cutting the buffer as a caller would.
std::vector<std::size_t> cut_all(ByteSpan data, const ChunkParams& params) {
  std::vector<std::size_t> ends;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t len = fastcdc_cut(data.subspan(pos), params);
    REQUIRE(len > 0);
    pos += len;
    ends.push_back(pos);
  }
  return ends;
}

constexpr ChunkParams k_small{.min_size = 2 * 1024, .avg_size = 8 * 1024, .max_size = 32 * 1024};

}  // namespace

TEST_CASE("fastcdc: short inputs are one chunk", "[chunk]") {
  const ChunkParams params;
  const Bytes data = random_bytes(params.min_size + 1, 1);
  CHECK(fastcdc_cut(ByteSpan(data).first(0), params) == 0);
  CHECK(fastcdc_cut(ByteSpan(data).first(1), params) == 1);
  CHECK(fastcdc_cut(ByteSpan(data).first(params.min_size), params) == params.min_size);
}

TEST_CASE("fastcdc: chunks respect min and max size", "[chunk]") {
  const Bytes data = random_bytes(4 << 20, 2);
  for (const ChunkParams& params : {k_small, ChunkParams{}}) {
    const std::vector<std::size_t> ends = cut_all(data, params);
    REQUIRE(ends.back() == data.size());
    std::size_t prev = 0;
    for (std::size_t i = 0; i < ends.size(); ++i) {
      const std::size_t len = ends[i] - prev;
      CHECK(len <= params.max_size);
      if (i + 1 < ends.size()) {
        CHECK(len > params.min_size);
      }
      prev = ends[i];
    }
  }
}

TEST_CASE("fastcdc: data without cut points is cut at max_size", "[chunk]") {
  // A constant run gives a constant hash that never matches the masks.
  const Bytes zeros(100'000, 0);
  CHECK(fastcdc_cut(zeros, k_small) == k_small.max_size);
}

TEST_CASE("fastcdc: deterministic and blind to bytes past the cut", "[chunk]") {
  const Bytes data = random_bytes(1 << 20, 3);
  CHECK(cut_all(data, k_small) == cut_all(data, k_small));

  Bytes changed = data;
  const std::size_t cut = fastcdc_cut(data, k_small);
  REQUIRE(cut < k_small.max_size);
  for (std::size_t i = cut; i < changed.size(); ++i) {
    changed[i] ^= 0x5a;
  }
  CHECK(fastcdc_cut(changed, k_small) == cut);
  // Handing over only max_size bytes, as a streaming caller does, changes nothing.
  CHECK(fastcdc_cut(ByteSpan(data).first(k_small.max_size), k_small) == cut);
}

TEST_CASE("fastcdc: cut points are part of the format", "[chunk]") {
  // Pins the gear table, the masks and the cut rule: if this changes, every
  // archive already written stops deduplicating against new ones.
  const Bytes data = random_bytes(256 * 1024, 4);
  const std::vector<std::size_t> ends = cut_all(data, k_small);
  const std::vector<std::size_t> expected = {
      12758,  23402,  36843,  46448,  63245,  71754,  81822,  91085,  99313,
      117258, 128068, 138688, 150064, 164039, 174952, 183599, 192048, 201289,
      211974, 217967, 222554, 230815, 242956, 252711, 262144};
  CHECK(ends == expected);
}

TEST_CASE("fastcdc: an insertion only moves nearby cut points", "[chunk]") {
  const Bytes original = random_bytes(8 << 20, 5);
  Bytes edited = original;
  const std::size_t at = 1000;
  const Bytes inserted = random_bytes(100, 6);
  edited.insert(edited.begin() + at, inserted.begin(), inserted.end());

  const std::vector<std::size_t> before = cut_all(original, k_small);
  const std::vector<std::size_t> after_ends = cut_all(edited, k_small);
  const std::set<std::size_t> after(after_ends.begin(), after_ends.end());
  std::size_t kept = 0;
  for (std::size_t end : before) {
    if (after.contains(end + inserted.size())) {
      ++kept;
    }
  }
  // Only the chunks around the insertion should differ; a fixed-size chunker
  // would keep none of its cut points here.
  CHECK(before.size() > 500);
  CHECK(kept + 3 >= before.size());
}

TEST_CASE("fastcdc: average chunk size on random data is near avg_size", "[chunk]") {
  const Bytes data = random_bytes(16 << 20, 7);
  for (const ChunkParams& params : {k_small, ChunkParams{}}) {
    const std::vector<std::size_t> ends = cut_all(data, params);
    const double average = static_cast<double>(data.size()) / static_cast<double>(ends.size());
    CAPTURE(params.avg_size, average);
    CHECK(average > 0.8 * params.avg_size);
    CHECK(average < 1.5 * params.avg_size);
  }
}

TEST_CASE("fastcdc: inconsistent parameters never exceed max_size", "[chunk]") {
  const Bytes data = random_bytes(200'000, 8);
  const ChunkParams upside_down{.min_size = 50'000, .avg_size = 8192, .max_size = 10'000};
  CHECK(fastcdc_cut(data, upside_down) == 10'000);
  const ChunkParams zero_max{.min_size = 0, .avg_size = 0, .max_size = 0};
  CHECK(fastcdc_cut(data, zero_max) == 1);
}

}  // namespace airlock::chunk

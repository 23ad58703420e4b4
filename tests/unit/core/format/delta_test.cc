#include "core/format/delta.h"

#include <catch2/catch.hpp>

#include "core/crypto/sha256.h"

namespace airlock::format {
namespace {

crypto::Digest id_of(std::uint8_t v) {
  crypto::Digest d{};
  d.fill(v);
  return d;
}

TEST_CASE("chunk set digest: order and repeats do not matter, every id does", "[format][delta]") {
  const auto a = chunk_set_digest({id_of(1), id_of(2), id_of(3)});
  CHECK(chunk_set_digest({id_of(3), id_of(1), id_of(2), id_of(1)}) == a);
  CHECK(chunk_set_digest({id_of(1), id_of(2)}) != a);
  CHECK(chunk_set_digest({id_of(1), id_of(2), id_of(4)}) != a);
  CHECK(chunk_set_digest({}) != chunk_set_digest({id_of(0)}));
}

TEST_CASE("chunk map: round trip, places, and malformed maps refused", "[format][delta]") {
  ChunkMap map;
  map.files.push_back({"model/a.safetensors", {{id_of(1), 100}, {id_of(2), 50}, {id_of(1), 100}}});
  map.files.push_back({"serve/run.sh", {{id_of(3), 7}}});
  map.files.push_back({"empty", {}});
  const Bytes bytes = encode_chunk_map(map);
  auto back = decode_chunk_map(bytes);
  REQUIRE(back.has_value());
  REQUIRE(back->files.size() == 3);
  CHECK(back->files[0].chunks == map.files[0].chunks);
  CHECK(back->files[1].path == "serve/run.sh");
  CHECK(back->files[2].chunks.empty());
  const auto index = back->index();
  CHECK(index.size() == 3);
  CHECK(index.at(id_of(2)).offset == 100);
  CHECK(index.at(id_of(1)).offset == 0);  // the first place of a repeated chunk
  CHECK(index.at(id_of(3)).file == 1);
  CHECK(to_hex(chunk_set_digest(back->ids())) == to_hex(chunk_set_digest({id_of(1), id_of(2), id_of(3)})));

  for (std::size_t cut : {std::size_t{0}, std::size_t{8}, std::size_t{20}, bytes.size() - 1}) {
    INFO(cut);
    CHECK_FALSE(decode_chunk_map(ByteSpan(bytes).first(cut)).has_value());
  }
  Bytes extra = bytes;
  extra.push_back(0);
  CHECK_FALSE(decode_chunk_map(extra).has_value());
  Bytes zero_size = bytes;
  // The size of the first chunk of the first file: after magic, count, path
  // length, path, chunk count and the id.
  const std::size_t at = 8 + 8 + 4 + map.files[0].path.size() + 8 + 32;
  zero_size[at] = zero_size[at + 1] = 0;
  CHECK_FALSE(decode_chunk_map(zero_size).has_value());
}

TEST_CASE("chunk map of a payload lists every file's chunks, base chunks included", "[format][delta]") {
  Payload p;
  p.chunks = {ChunkEntry{id_of(1), 10, 0, k_no_pack, 0, codec::Codec::kBase},
              ChunkEntry{id_of(2), 20, 30, 0, 0, codec::Codec::kZstd}};
  p.refs = {1, 0, 0};
  p.files = {FileEntry{"a", 0644, 30, "", 0, 2}, FileEntry{"b", 0644, 10, "", 2, 1}};
  const ChunkMap map = chunk_map_of(p);
  REQUIRE(map.files.size() == 2);
  CHECK(map.files[0].chunks == std::vector<std::pair<crypto::Digest, std::uint32_t>>{{id_of(2), 20}, {id_of(1), 10}});
  CHECK(map.index().at(id_of(1)).offset == 20);
}

}  // namespace
}  // namespace airlock::format

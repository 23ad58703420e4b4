#include "bundler/delta.h"

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/crypto/sha256.h"
#include "core/fs/file.h"
#include "tests/support/temp_dir.h"

namespace airlock::bundler {
namespace {

namespace stdfs = std::filesystem;

void write_all(const stdfs::path& p, ByteSpan data) {
  stdfs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  REQUIRE(out.good());
}

// A safetensors file: "w" BF16 [64, 64] then "b" F32 [16]; `note` goes into
// __metadata__ (moving every data offset), `flip` flips the lowest bit of
// every 8th value of w (a fine-tune that an XOR against the base catches).
Bytes model_file(const std::string& note, bool flip) {
  std::string header = R"({"__metadata__":{"note":")" + note +
                       R"("},"b":{"dtype":"F32","shape":[16],"data_offsets":[8192,8256]},)"
                       R"("w":{"dtype":"BF16","shape":[64,64],"data_offsets":[0,8192]}})";
  Bytes file;
  put_u64le(file, header.size());
  append(file, as_bytes(header));
  std::mt19937_64 rng(3);
  for (int i = 0; i < 64 * 64; ++i) {
    const auto r = rng();
    std::uint16_t v = static_cast<std::uint16_t>(((r >> 63) << 15) | ((0x77 + (r >> 40) % 4) << 7) | (r & 0x7f));
    if (flip && i % 8 == 0) {
      v ^= 1;
    }
    file.push_back(static_cast<std::uint8_t>(v));
    file.push_back(static_cast<std::uint8_t>(v >> 8));
  }
  for (int i = 0; i < 16 * 4; ++i) {
    file.push_back(static_cast<std::uint8_t>(rng()));
  }
  return file;
}

format::WriteResult write(const stdfs::path& dir, const std::vector<format::InputFile>& inputs,
                          const format::DeltaInput* delta) {
  stdfs::create_directories(dir);
  format::WriteOptions wo;
  wo.dir = dir;
  wo.base_name = "t-1";
  wo.volume_size = format::k_min_volume_size;
  wo.bundle_id = Bytes(16, 7);
  wo.chunking.tensor_size = 4096;  // two chunks in w
  wo.threads = 1;
  wo.delta = delta;
  auto w = format::write_volumes(inputs, wo);
  REQUIRE(w.has_value());
  return std::move(*w);
}

format::Header header_of(const std::string& version, const std::string& id) {
  format::Header h;
  h.name = "demo";
  h.version = version;
  h.bundle_id = id;
  h.sequence = 1;
  h.created = 1700000000;
  return h;
}

TEST_CASE("delta: a bundle record round-trips and an edited one is refused", "[bundler][delta]") {
  test::TempDir tmp("delta");
  const Bytes model = model_file("a", false);
  write_all(tmp.path() / "base/model.safetensors", model);
  write_all(tmp.path() / "base/README", as_bytes("read me\n"));
  const std::vector<format::InputFile> inputs = {
      {tmp.path() / "base/model.safetensors", "model/model.safetensors", 0644, model.size()},
      {tmp.path() / "base/README", "serve/README", 0644, 8}};
  format::WriteResult w = write(tmp.path() / "out1", inputs, nullptr);
  const BundleRecord r = make_record(header_of("1.0.0", std::string(32, 'a')), w.payload, inputs);
  CHECK(r.files.size() == 2);
  CHECK(r.files[0].source == (tmp.path() / "base/model.safetensors").string());
  CHECK(r.chunk_count == w.payload.chunks.size());
  const stdfs::path cache = tmp.path() / "cache";
  REQUIRE(write_record(cache, r).has_value());
  const stdfs::path file = records_dir(cache) / (r.bundle_id + ".json");
  auto back = read_record(file);
  REQUIRE(back.has_value());
  CHECK(back->chunk_set == r.chunk_set);
  CHECK(back->files[0].chunks == r.files[0].chunks);
  CHECK(all_records(cache).size() == 1);
  auto found = find_base_record(file, cache);
  REQUIRE(found.has_value());
  CHECK(found->bundle_id == r.bundle_id);

  // One hex digit of one chunk id changed: the list no longer gives the digest.
  auto text = fs::read_text_file(file, 1 << 20);
  REQUIRE(text.has_value());
  const std::string id = to_hex(r.files[0].chunks[0].first);
  std::string edited = *text;
  const auto at = edited.find(id);
  REQUIRE(at != std::string::npos);
  edited[at] = edited[at] == '0' ? '1' : '0';
  write_all(tmp.path() / "edited.json", as_bytes(edited));
  auto refused = read_record(tmp.path() / "edited.json");
  REQUIRE_FALSE(refused.has_value());
  CHECK_THAT(refused.error().message(), Catch::Contains("does not give its chunk set digest"));
  write_all(tmp.path() / "junk.json", as_bytes("{\"x\":1}"));
  CHECK_FALSE(read_record(tmp.path() / "junk.json").has_value());
  // A bundle whose record this cache does not hold.
  auto missing = find_base_record(tmp.path() / "out1", tmp.path() / "other-cache");
  REQUIRE_FALSE(missing.has_value());
}

TEST_CASE("delta: shared chunks are left out and a changed tensor is XORed with the same tensor of the base",
          "[bundler][delta]") {
  test::TempDir tmp("delta");
  const Bytes base_model = model_file("a", false);
  const Bytes new_model = model_file("a longer note that moves every offset", true);
  write_all(tmp.path() / "base/model.safetensors", base_model);
  write_all(tmp.path() / "new/model.safetensors", new_model);
  write_all(tmp.path() / "base/README", as_bytes("read me\n"));
  const std::vector<format::InputFile> base_inputs = {
      {tmp.path() / "base/model.safetensors", "model/model.safetensors", 0644, base_model.size()},
      {tmp.path() / "base/README", "serve/README", 0644, 8}};
  const std::vector<format::InputFile> new_inputs = {
      {tmp.path() / "new/model.safetensors", "model/model.safetensors", 0644, new_model.size()},
      {tmp.path() / "base/README", "serve/README", 0644, 8}};
  format::WriteResult base = write(tmp.path() / "out1", base_inputs, nullptr);
  const BundleRecord record = make_record(header_of("1.0.0", std::string(32, 'a')), base.payload, base_inputs);
  auto plan = DeltaPlan::make(record, new_inputs);
  REQUIRE(plan.has_value());
  CHECK((*plan)->unreadable().empty());
  format::WriteResult delta = write(tmp.path() / "out2", new_inputs, &(*plan)->input());
  // README and the bias are the base's; the header moved, w's two chunks changed.
  CHECK(delta.base_chunks == 2);
  CHECK(delta.xor_chunks == 2);
  CHECK(delta.xor_stored < delta.xor_bytes / 4);
  const auto base_ids = record.files[0].chunks;  // header, w[0], w[1], b
  std::size_t xors = 0;
  for (const format::ChunkEntry& c : delta.payload.chunks) {
    if (c.codec == codec::Codec::kXor) {
      CHECK(c.base_id == base_ids[1 + xors].first);  // offset for offset within the tensor
      ++xors;
    }
    if (c.codec == codec::Codec::kBase) {
      CHECK(c.pack == format::k_no_pack);
      CHECK(c.stored == 0);
    }
  }
  CHECK(xors == 2);
  format::Payload p = delta.payload;
  p.name = "demo";
  p.version = "2.0.0";
  p.base = (*plan)->base_ref();
  CHECK(p.needed_format_version() == 3);
  CHECK(format::decode_payload(format::encode_payload(p), delta.volumes.size(), 3).has_value());

  // --no-xor: the same chunks left out, the changed ones shipped whole.
  auto plain = DeltaPlan::make(record, new_inputs, false);
  REQUIRE(plain.has_value());
  format::WriteResult dedup = write(tmp.path() / "out3", new_inputs, &(*plain)->input());
  CHECK(dedup.base_chunks == 2);
  CHECK(dedup.xor_chunks == 0);

  // A base source changed since it was bundled: its bytes are not XORed against.
  write_all(tmp.path() / "base/model.safetensors", model_file("b", true));  // same size, other bytes
  auto stale = DeltaPlan::make(record, new_inputs);
  REQUIRE(stale.has_value());
  format::WriteResult no_xor = write(tmp.path() / "out4", new_inputs, &(*stale)->input());
  CHECK(no_xor.xor_chunks == 0);
}

}  // namespace
}  // namespace airlock::bundler

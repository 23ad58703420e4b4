// In-process bundle round trips: write_volumes + seal_index on one side,
// open_index + unwrap + open_body + stream_volumes on the other.

#include <bit>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"
#include <fmt/core.h>
#include <zstd.h>

#include "core/crypto/sha256.h"
#include "core/crypto/sodium.h"
#include "core/format/bundle_reader.h"
#include "core/format/bundle_writer.h"
#include "core/format/frame.h"
#include "keys/key_files.h"

namespace airlock::format {
namespace {

namespace stdfs = std::filesystem;

using test::TempDir;

Bytes random_data(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v = rng();
    std::memcpy(b.data() + i, &v, 8);
  }
  for (; i < n; ++i) b[i] = static_cast<std::uint8_t>(rng());
  return b;
}

// float32 -> bf16, round to nearest even.
std::uint16_t to_bf16(float f) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  return static_cast<std::uint16_t>((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

// A safetensors file with one BF16 tensor of `count` normal(0, 0.02) weights.
Bytes make_safetensors(std::size_t count, std::uint64_t seed) {
  std::string header = fmt::format(
      R"({{"__metadata__":{{"format":"pt"}},"layer.weight":{{"dtype":"BF16","shape":[{}],"data_offsets":[0,{}]}}}})",
      count, 2 * count);
  while (header.size() % 8 != 0) header.push_back(' ');
  Bytes file;
  put_u64le(file, header.size());
  append(file, as_bytes(header));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint16_t v = to_bf16(normal(rng));
    file.push_back(static_cast<std::uint8_t>(v));
    file.push_back(static_cast<std::uint8_t>(v >> 8));
  }
  return file;
}

void write_file(const stdfs::path& p, const Bytes& data) {
  stdfs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  REQUIRE(out.good());
}

Bytes read_all(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct InputSet {
  std::vector<InputFile> files;
  std::map<std::string, Bytes> contents;  // by deployment path
};

void add_input(InputSet& set, const stdfs::path& dir, const std::string& path, Bytes data, std::uint32_t mode = 0644) {
  const stdfs::path source = dir / path;
  write_file(source, data);
  set.files.push_back(InputFile{source, path, mode, data.size()});
  set.contents[path] = std::move(data);
}

constexpr const char* k_dup_a = "model/shard-b.bin";
constexpr const char* k_dup_b = "extra/copy-of-shard-b.bin";

InputSet make_inputs(const stdfs::path& dir) {
  InputSet set;
  add_input(set, dir, "model/shard-a.bin", random_data(3u << 20, 11));
  add_input(set, dir, k_dup_a, random_data((2u << 20) + 12345, 12));
  add_input(set, dir, "model/model.safetensors", make_safetensors(400000, 13));
  add_input(set, dir, "model/config.json", random_data(777, 14));
  add_input(set, dir, "model/empty", {});
  add_input(set, dir, "model/shard-c.bin", random_data((1u << 20) - 1, 15));
  add_input(set, dir, "serve/run.sh", random_data(3u << 20, 16), 0755);
  add_input(set, dir, k_dup_b, set.contents[k_dup_a]);
  return set;
}

struct Keys {
  crypto::BoxPublicKey site_pub{};
  crypto::BoxSecretKey site_secret{};
  crypto::SignPublicKey sign_pub{};
  Signer signer;

  Keys() {
    crypto::x25519_keypair(site_pub, site_secret);
    crypto::ed25519_keypair(sign_pub, signer.secret);
    signer.keyid = keys::key_id(sign_pub);
  }
  SiteKey site_key() const { return SiteKey{keys::key_id(site_pub), site_pub, site_secret}; }
};

struct Written {
  WriteResult result;
  Header header;
  stdfs::path index_path;
};

constexpr const char* k_base = "demo-1.0";

Bytes fresh_bundle_id() {
  Bytes id(16);
  crypto::random_bytes(id);
  return id;
}

crypto::AeadKey fresh_key() {
  crypto::AeadKey k{};
  crypto::random_bytes(k);
  return k;
}

// Writes a whole bundle (volumes and index) into `out`.
Written write_bundle(const InputSet& in, const stdfs::path& out, const Bytes& bundle_id,
                     const std::optional<crypto::AeadKey>& data_key, const Keys& keys,
                     const std::optional<chunk::ChunkParams>& chunking = std::nullopt,
                     std::optional<std::uint64_t> solid_file_max = std::nullopt, std::size_t threads = 0) {
  stdfs::create_directories(out);
  WriteOptions opt;
  if (chunking) {
    opt.chunking = *chunking;
  }
  if (solid_file_max) {
    opt.solid_file_max = *solid_file_max;
  }
  opt.threads = threads;
  opt.dir = out;
  opt.base_name = k_base;
  opt.volume_size = k_min_volume_size;
  opt.bundle_id = bundle_id;
  opt.data_key = data_key;
  auto written = write_volumes(in.files, opt);
  REQUIRE(written.has_value());
  Written w;
  w.result = std::move(*written);
  w.result.payload.name = "demo";
  w.result.payload.version = "1.0";

  Header& h = w.header;
  h.bundle_id = to_hex(bundle_id);
  h.name = "demo";
  h.version = "1.0";
  h.sequence = 7;
  h.created = static_cast<std::int64_t>(std::time(nullptr));
  h.suite = data_key ? "aes-256-gcm" : "none";
  if (data_key) {
    Recipient r;
    r.type = "x25519";
    r.keyid = keys::key_id(keys.site_pub);
    r.wrapped_key = crypto::seal_to(*data_key, keys.site_pub);
    h.recipients.push_back(std::move(r));
  }
  h.volumes = w.result.volumes;
  h.tool = "airlock unit test";
  auto index = seal_index(h, w.result.payload, data_key, {keys.signer});
  REQUIRE(index.has_value());
  w.index_path = out / (std::string(k_base) + ".airlock");
  write_file(w.index_path, *index);
  return w;
}

// An encrypted bundle opened as the installer would: index, data key, payload.
struct OpenedBundle {
  std::optional<OpenedIndex> opened;
  std::optional<crypto::AeadKey> key;
  std::optional<Payload> payload;
};
OpenedBundle open_encrypted(const stdfs::path& dir, const Keys& keys) {
  OpenedBundle b;
  auto opened = open_index(dir);
  REQUIRE(opened.has_value());
  auto key = unwrap_with_site_key(*opened, keys.site_key());
  REQUIRE(key.has_value());
  auto payload = open_body(*opened, *key);
  REQUIRE(payload.has_value());
  b.opened = std::move(*opened);
  b.key = *key;
  b.payload = std::move(*payload);
  return b;
}

// Streams every volume and reassembles the files in memory through the refs.
Result<std::map<std::string, Bytes>> read_back(const OpenedIndex& opened, const Payload& payload,
                                               const std::optional<crypto::AeadKey>& key, StreamStats* stats = nullptr,
                                               std::vector<std::uint32_t>* order = nullptr, std::size_t threads = 0) {
  std::map<std::string, Bytes> files;
  // chunk index -> every (file, offset) it fills
  std::vector<std::vector<std::pair<std::string, std::uint64_t>>> where(payload.chunks.size());
  for (const FileEntry& f : payload.files) {
    files[f.path] = Bytes(f.size, 0);
    std::uint64_t offset = 0;
    for (std::uint64_t r = f.first_ref; r < f.first_ref + f.ref_count; ++r) {
      where[payload.refs[r]].emplace_back(f.path, offset);
      offset += payload.chunks[payload.refs[r]].size;
    }
  }
  std::vector<bool> seen(payload.chunks.size(), false);
  ChunkSink sink = [&](std::uint32_t index, ByteSpan plain) -> Status {
    if (index >= payload.chunks.size() || seen[index]) {
      return make_error(ErrorCode::kInvalidArgument, "bad chunk index {}", index);
    }
    seen[index] = true;
    if (order) order->push_back(index);
    if (plain.size() != payload.chunks[index].size) {
      return make_error(ErrorCode::kCorruption, "chunk {} has {} bytes, expected {}", index, plain.size(),
                        payload.chunks[index].size);
    }
    for (const auto& [path, offset] : where[index]) {
      std::memcpy(files[path].data() + offset, plain.data(), plain.size());
    }
    return ok_status();
  };
  auto st = stream_volumes(opened, payload, key, sink, {}, threads);
  if (!st) {
    return std::unexpected(st.error());
  }
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) {
      return make_error(ErrorCode::kCorruption, "chunk {} never delivered", i);
    }
  }
  if (stats) *stats = *st;
  return files;
}

void check_files(const InputSet& in, const Payload& payload, const std::map<std::string, Bytes>& got) {
  REQUIRE(got.size() == in.contents.size());
  for (const FileEntry& f : payload.files) {
    INFO(f.path);
    REQUIRE(in.contents.contains(f.path));
    const Bytes& expected = in.contents.at(f.path);
    const Bytes& actual = got.at(f.path);
    CHECK(actual.size() == expected.size());
    CHECK(actual == expected);
    CHECK(crypto::sha256_hex(actual) == crypto::sha256_hex(expected));
    CHECK(f.sha256 == crypto::sha256_hex(expected));
  }
}

// Offset in a tar volume of the data of the entry named `name`.
std::size_t entry_data_offset(const Bytes& tar, const std::string& name) {
  for (std::size_t block = 0; block + 512 <= tar.size(); block += 512) {
    const std::uint8_t* h = tar.data() + block;
    if (std::memcmp(h + 257, "ustar", 5) == 0 && std::memcmp(h, name.c_str(), name.size() + 1) == 0) {
      return block + 512;
    }
  }
  FAIL("no entry " << name << " in the volume");
  return 0;
}

// Offset in a tar volume of the data of its first "packs/..." entry.
std::size_t first_pack_data_offset(const Bytes& tar) {
  for (std::size_t block = 0; block + 512 <= tar.size(); block += 512) {
    const std::uint8_t* h = tar.data() + block;
    const bool ustar = std::memcmp(h + 257, "ustar", 5) == 0;
    const bool regular = h[156] == '0' || h[156] == 0;
    if (ustar && regular && std::memcmp(h, "packs/", 6) == 0) {
      return block + 512;
    }
  }
  FAIL("no pack entry found in the volume");
  return 0;
}

// Text-like bytes (JSON lines of words from a small vocabulary): what
// configs, tokenizers and scripts look like to zstd.
Bytes text_like(std::size_t n, std::uint64_t seed) {
  static const char* const k_words[] = {"model", "layer", "weight", "bias", "token", "vocab", "hidden", "size",
                                        "attention", "rope", "theta", "norm", "eps", "true", "false", "null"};
  std::mt19937_64 rng(seed);
  std::string out;
  while (out.size() < n) {
    out += fmt::format("{{\"{}_{}\": \"{}\", \"{}\": {}}}\n", k_words[rng() % 16], rng() % 100, k_words[rng() % 16],
                       k_words[rng() % 16], rng() % 100000);
  }
  out.resize(n);
  return Bytes(out.begin(), out.end());
}

// 400 small files (1-12 KiB) in 4 directories, some byte-identical to an
// earlier one (in the same block and in an earlier block), beside one large
// file and an empty one.
InputSet make_small_inputs(const stdfs::path& dir) {
  InputSet set;
  std::mt19937_64 rng(99);
  for (int i = 0; i < 400; ++i) {
    const std::string path = fmt::format("tree/d{}/f{:03}.json", i % 4, i);
    if (i % 50 == 7) {
      add_input(set, dir, path, set.contents[fmt::format("tree/d{}/f{:03}.json", (i - 1) % 4, i - 1)]);
    } else if (i == 390) {
      add_input(set, dir, path, set.contents["tree/d0/f000.json"]);  // a file of the first block, again
    } else {
      add_input(set, dir, path, text_like(1024 + rng() % (11 * 1024), 1000 + i));
    }
  }
  add_input(set, dir, "tree/empty", {});
  add_input(set, dir, "big/shard.bin", random_data(3u << 20, 98));
  return set;
}

}  // namespace

TEST_CASE("bundle: small files share solid blocks in a format-2 bundle that reads back whole", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_small_inputs(tmp.path() / "in");
  const Keys keys;
  const Bytes bundle_id = fresh_bundle_id();
  const crypto::AeadKey data_key = fresh_key();
  const Written w = write_bundle(in, tmp.path() / "out", bundle_id, data_key, keys);
  const Payload& p = w.result.payload;
  REQUIRE(p.has_solid_blocks());

  // Blocks: a head, then members in the same pack with no bytes of their
  // own, all of it within one chunk's maximum.
  std::size_t heads = 0, members = 0;
  for (std::size_t i = 0; i < p.chunks.size(); i = p.group_end(i)) {
    const ChunkEntry& head = p.chunks[i];
    if (head.codec != codec::Codec::kSolid) {
      continue;
    }
    ++heads;
    std::uint64_t bytes = 0;
    for (std::size_t m = i; m < p.group_end(i); ++m) {
      bytes += p.chunks[m].size;
      if (m > i) {
        ++members;
        CHECK(p.chunks[m].codec == codec::Codec::kMember);
        CHECK(p.chunks[m].stored == 0);
        CHECK(p.chunks[m].pack == head.pack);
        CHECK(p.chunks[m].offset == head.offset + head.stored);
      }
    }
    CHECK(bytes <= p.chunking.max_size);
  }
  // 400 files of about 6.5 KiB: a few 1 MiB blocks, not 400 frames.
  CHECK(heads >= 2);
  CHECK(heads <= 6);
  CHECK(heads + members >= 390);
  // Duplicates are stored once, in a block or across blocks.
  std::set<std::string> ids;
  for (const ChunkEntry& c : p.chunks) ids.insert(to_hex(c.id));
  CHECK(ids.size() == p.chunks.size());
  CHECK(p.chunks.size() < p.refs.size());

  // The reader: header says version 2; every file is back, hashes signed.
  auto [opened, key, payload] = open_encrypted(tmp.path() / "out", keys);
  CHECK(opened->header.format_version == 2);
  for (std::size_t threads : {1u, 3u}) {
    INFO("threads " << threads);
    auto files = read_back(*opened, *payload, *key, nullptr, nullptr, threads);
    REQUIRE(files.has_value());
    check_files(in, *payload, *files);
  }

  // Smaller than the same files one frame each (a version-1 bundle), and
  // the writer's output does not depend on its thread count.
  const Written one_each = write_bundle(in, tmp.path() / "v1", bundle_id, data_key, keys, std::nullopt, 0);
  CHECK_FALSE(one_each.result.payload.has_solid_blocks());
  auto v1 = open_index(one_each.index_path);
  REQUIRE(v1.has_value());
  CHECK(v1->header.format_version == 1);
  CHECK(w.result.stored_bytes < one_each.result.stored_bytes);
  const Written serial = write_bundle(in, tmp.path() / "t1", bundle_id, data_key, keys, std::nullopt, std::nullopt, 1);
  for (std::size_t v = 0; v < w.result.volumes.size(); ++v) {
    CHECK(serial.result.volumes.at(v).sha256 == w.result.volumes[v].sha256);
  }
}

TEST_CASE("bundle: incompressible small files are stored one frame each, and a bundle of one small file stays version 1",
          "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const Keys keys;
  InputSet noise;
  for (int i = 0; i < 20; ++i) {
    add_input(noise, tmp.path() / "noise", fmt::format("n/{}.bin", i), random_data(4096, 500 + i));
  }
  const Written w = write_bundle(noise, tmp.path() / "out", fresh_bundle_id(), fresh_key(), keys);
  CHECK_FALSE(w.result.payload.has_solid_blocks());
  CHECK(w.result.payload.chunks.size() == 20);
  for (const ChunkEntry& c : w.result.payload.chunks) {
    CHECK(c.codec == codec::Codec::kStore);
  }
  auto [opened, key, payload] = open_encrypted(tmp.path() / "out", keys);
  CHECK(opened->header.format_version == 1);
  auto files = read_back(*opened, *payload, *key);
  REQUIRE(files.has_value());
  check_files(noise, *payload, *files);

  InputSet one;
  add_input(one, tmp.path() / "one", "config.json", text_like(3000, 7));
  const Written single = write_bundle(one, tmp.path() / "single", fresh_bundle_id(), fresh_key(), keys);
  REQUIRE(single.result.payload.chunks.size() == 1);
  CHECK(single.result.payload.chunks[0].codec == codec::Codec::kZstd);
  auto opened_single = open_index(single.index_path);
  REQUIRE(opened_single.has_value());
  CHECK(opened_single->header.format_version == 1);
}

TEST_CASE("bundle: a flipped byte in a solid block, or its frame opened for other members, is refused",
          "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_small_inputs(tmp.path() / "in");
  const Keys keys;
  const Bytes bundle_id = fresh_bundle_id();
  const crypto::AeadKey data_key = fresh_key();
  const Written w = write_bundle(in, tmp.path() / "out", bundle_id, data_key, keys);
  const Payload& p = w.result.payload;
  std::size_t head = 0;
  while (head < p.chunks.size() && p.chunks[head].codec != codec::Codec::kSolid) ++head;
  REQUIRE(head < p.chunks.size());
  const std::size_t end = p.group_end(head);
  REQUIRE(end - head >= 3);

  // The frame's AAD names every member: the frame opens with the group it
  // was sealed for, and with no other (a member left out, one added from
  // the next block, another id or size).
  const PackEntry& pack = p.packs[p.chunks[head].pack];
  const std::string vol = w.result.volumes[pack.volume].name;
  const Bytes tar = read_all(tmp.path() / "out" / vol);
  const std::size_t pack_at = entry_data_offset(tar, pack.name);
  const ByteSpan frame(tar.data() + pack_at + p.chunks[head].offset, p.chunks[head].stored);
  crypto::Aead aead(data_key);
  Bytes plain(frame.size() - crypto::k_aead_tag_size);
  const std::span<const ChunkEntry> group(p.chunks.data() + head, end - head);
  CHECK(aead.open(frame_nonce(head), frame_aad(bundle_id, head, group), frame, plain).has_value());
  std::vector<std::vector<ChunkEntry>> others;
  others.emplace_back(group.begin(), group.end() - 1);  // the last member dropped
  others.emplace_back(group.begin(), group.end());
  others.back().push_back(p.chunks[end]);  // one more
  others.emplace_back(group.begin(), group.end());
  others.back()[1].id[0] ^= 1;  // another member id
  others.emplace_back(group.begin(), group.end());
  others.back()[2].size += 1;  // another member size
  others.emplace_back(group.begin(), group.end());
  others.back()[0].codec = codec::Codec::kZstd;  // the same frame read as a plain zstd chunk
  for (std::size_t k = 0; k < others.size(); ++k) {
    INFO("variant " << k);
    CHECK_FALSE(aead.open(frame_nonce(head), frame_aad(bundle_id, head, others[k]), frame, plain).has_value());
  }

  // On the volume: a flipped byte in the block's frame is kCorruption
  // naming the volume, and no chunk of that block reaches the sink.
  Bytes bad = tar;
  bad[pack_at + p.chunks[head].offset + 20] ^= 0x10;
  write_file(tmp.path() / "out" / vol, bad);
  auto [opened, key, payload] = open_encrypted(tmp.path() / "out", keys);
  std::vector<std::uint32_t> delivered;
  auto files = read_back(*opened, *payload, *key, nullptr, &delivered, 1);
  REQUIRE_FALSE(files.has_value());
  CHECK(files.error().code() == ErrorCode::kCorruption);
  CHECK(files.error().message().starts_with(vol));
  CHECK_THAT(files.error().message(), Catch::Contains(fmt::format("chunk {}", head)));
  for (std::uint32_t k : delivered) {
    CHECK((k < head || k >= end));
  }
}

TEST_CASE("bundle: encrypted round trip reproduces every file", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_inputs(tmp.path() / "in");
  const Keys keys;
  const Bytes bundle_id = fresh_bundle_id();
  const crypto::AeadKey data_key = fresh_key();
  const Written w = write_bundle(in, tmp.path() / "out", bundle_id, data_key, keys);

  std::uint64_t input_total = 0;
  for (const auto& [path, data] : in.contents) input_total += data.size();
  CHECK(w.result.input_bytes == input_total);

  // Several volumes, none above the volume size, named and hashed as listed.
  REQUIRE(w.result.volumes.size() >= 3);
  for (std::size_t v = 0; v < w.result.volumes.size(); ++v) {
    const VolumeInfo& info = w.result.volumes[v];
    INFO(info.name);
    CHECK(info.name == fmt::format("{}.vol{:03}.tar", k_base, v + 1));
    const stdfs::path p = tmp.path() / "out" / info.name;
    REQUIRE(stdfs::exists(p));
    CHECK(stdfs::file_size(p) == info.size);
    CHECK(info.size <= k_min_volume_size);
    CHECK(info.size % 512 == 0);
    CHECK(crypto::sha256_hex(read_all(p)) == info.sha256);
  }

  auto opened = open_index(tmp.path() / "out");
  REQUIRE(opened.has_value());
  CHECK(opened->index_path == w.index_path);
  CHECK(opened->bundle_id == bundle_id);
  CHECK(opened->header.bundle_id == to_hex(bundle_id));
  CHECK(opened->header.encrypted());
  REQUIRE(opened->index.signatures.size() == 1);
  CHECK(opened->index.signatures[0].keyid == keys.signer.keyid);
  CHECK(crypto::ed25519_verify(signed_message(opened->index.header, opened->index.body),
                               opened->index.signatures[0].sig, keys.sign_pub));
  CHECK(check_volume_hashes(*opened, {}).has_value());

  auto key = unwrap_with_site_key(*opened, keys.site_key());
  REQUIRE(key.has_value());
  CHECK(*key == data_key);
  auto payload = open_body(*opened, *key);
  REQUIRE(payload.has_value());
  CHECK(payload->name == "demo");
  CHECK(payload->version == "1.0");
  REQUIRE(payload->files.size() == in.files.size());
  for (std::size_t i = 0; i < in.files.size(); ++i) {
    CHECK(payload->files[i].path == in.files[i].path);
    CHECK(payload->files[i].mode == in.files[i].mode);
    CHECK(payload->files[i].size == in.files[i].size);
  }
  CHECK(encode_payload(*payload) == encode_payload(w.result.payload));

  StreamStats stats;
  auto files = read_back(*opened, *payload, *key, &stats);
  REQUIRE(files.has_value());
  check_files(in, *payload, *files);
  for (std::size_t threads : {1u, 4u}) {
    INFO("threads " << threads);
    std::vector<std::uint32_t> order;
    auto again = read_back(*opened, *payload, *key, nullptr, &order, threads);
    REQUIRE(again.has_value());
    CHECK(*again == *files);
    // Chunks reach the sink in volume (pack, offset) order whatever the thread count.
    for (std::size_t i = 1; i < order.size(); ++i) {
      const ChunkEntry& prev = payload->chunks[order[i - 1]];
      const ChunkEntry& cur = payload->chunks[order[i]];
      CHECK((prev.pack < cur.pack || (prev.pack == cur.pack && prev.offset < cur.offset)));
    }
  }

  std::uint64_t unique = 0;
  for (const ChunkEntry& c : payload->chunks) unique += c.size;
  CHECK(stats.chunk_bytes == unique);
  std::uint64_t volume_total = 0;
  for (const VolumeInfo& v : opened->header.volumes) volume_total += v.size;
  CHECK(stats.volume_bytes == volume_total);
  // Encrypted frames: each stored size is codec output + tag, never above plaintext + tag.
  for (const ChunkEntry& c : payload->chunks) {
    CHECK(c.stored <= c.size + crypto::k_aead_tag_size);
    CHECK(c.stored >= crypto::k_aead_tag_size);
  }
}

TEST_CASE("bundle: identical files share their chunks", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_inputs(tmp.path() / "in");
  const Keys keys;
  const Written w = write_bundle(in, tmp.path() / "out", fresh_bundle_id(), fresh_key(), keys);
  const Payload& p = w.result.payload;
  CHECK(p.chunks.size() < p.refs.size());
  const FileEntry* a = nullptr;
  const FileEntry* b = nullptr;
  for (const FileEntry& f : p.files) {
    if (f.path == k_dup_a) a = &f;
    if (f.path == k_dup_b) b = &f;
  }
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  REQUIRE(a->ref_count > 0);
  REQUIRE(a->ref_count == b->ref_count);
  CHECK(std::equal(p.refs.begin() + static_cast<std::ptrdiff_t>(a->first_ref),
                   p.refs.begin() + static_cast<std::ptrdiff_t>(a->first_ref + a->ref_count),
                   p.refs.begin() + static_cast<std::ptrdiff_t>(b->first_ref)));
  CHECK(p.refs.size() - p.chunks.size() >= b->ref_count);
  // Chunk ids are unique: every distinct content is stored once.
  std::set<std::string> ids;
  for (const ChunkEntry& c : p.chunks) ids.insert(to_hex(c.id));
  CHECK(ids.size() == p.chunks.size());
  // The BF16 tensor went through the byte-plane codec.
  bool byteplane = false;
  for (const ChunkEntry& c : p.chunks) byteplane = byteplane || c.codec == codec::Codec::kBytePlane;
  CHECK(byteplane);
  // Empty file: no references.
  for (const FileEntry& f : p.files) {
    if (f.path == "model/empty") CHECK(f.ref_count == 0);
  }
}

TEST_CASE("bundle: unencrypted round trip", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_inputs(tmp.path() / "in");
  const Keys keys;
  const Written w = write_bundle(in, tmp.path() / "out", fresh_bundle_id(), std::nullopt, keys);
  CHECK(w.header.suite == "none");
  for (const ChunkEntry& c : w.result.payload.chunks) {
    CHECK(c.stored <= c.size);  // no tag, and a codec never expands
  }
  auto opened = open_index(w.index_path);
  REQUIRE(opened.has_value());
  CHECK_FALSE(opened->header.encrypted());
  CHECK(opened->header.recipients.empty());
  auto unwrap = unwrap_with_site_key(*opened, keys.site_key());
  REQUIRE_FALSE(unwrap.has_value());
  auto payload = open_body(*opened, std::nullopt);
  REQUIRE(payload.has_value());
  auto files = read_back(*opened, *payload, std::nullopt);
  REQUIRE(files.has_value());
  check_files(in, *payload, *files);
}

TEST_CASE("bundle: a flipped byte inside a frame is kCorruption naming the volume", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_inputs(tmp.path() / "in");
  const Keys keys;
  const crypto::AeadKey data_key = fresh_key();
  const Written w = write_bundle(in, tmp.path() / "out", fresh_bundle_id(), data_key, keys);
  REQUIRE(w.result.volumes.size() >= 2);
  const std::string victim = w.result.volumes[1].name;  // the second volume
  const stdfs::path victim_path = tmp.path() / "out" / victim;
  Bytes tar = read_all(victim_path);
  const std::size_t data_at = first_pack_data_offset(tar);
  tar[data_at + 10] ^= 0x04;  // inside the first frame of the volume's first pack
  write_file(victim_path, tar);

  auto [opened, key, payload] = open_encrypted(tmp.path() / "out", keys);
  for (std::size_t threads : {0u, 1u, 4u}) {
    INFO("threads " << threads);
    std::vector<std::uint32_t> delivered;
    auto files = read_back(*opened, *payload, *key, nullptr, &delivered, threads);
    REQUIRE_FALSE(files.has_value());
    INFO(files.error().message());
    CHECK(files.error().code() == ErrorCode::kCorruption);
    CHECK(files.error().message().starts_with(victim));
    CHECK(files.error().message().find("chunk") != std::string::npos);
    CHECK(files.error().message().find("authentication failed") != std::string::npos);
    // Nothing from the altered frame or after it reached the sink: only
    // chunks of the first volume did.
    for (std::uint32_t k : delivered) {
      CHECK(payload->packs[payload->chunks[k].pack].volume == 0);
    }
  }
  // The volume hash check names the same volume, and only it.
  auto hashes = check_volume_hashes(*opened, {});
  REQUIRE_FALSE(hashes.has_value());
  CHECK(hashes.error().message().find(victim) != std::string::npos);
  CHECK(hashes.error().message().find(w.result.volumes[0].name) == std::string::npos);
}

TEST_CASE("bundle: frames swapped within a volume or across volumes are refused, even with fresh volume hashes",
          "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  // Fixed-size chunks of random bytes: every frame has the same stored size,
  // so two frames can trade places without moving any other byte.
  const chunk::ChunkParams fixed{.min_size = 64 * 1024, .avg_size = 64 * 1024, .max_size = 64 * 1024};
  InputSet in;
  add_input(in, tmp.path() / "in", "model/a.bin", random_data(100 * 64 * 1024, 21));  // 6.25 MiB: two volumes
  const Keys keys;
  for (const bool encrypted : {true, false}) {
    INFO((encrypted ? "encrypted" : "unencrypted"));
    const stdfs::path out = tmp.path() / (encrypted ? "enc" : "plain");
    std::optional<crypto::AeadKey> data_key;
    if (encrypted) {
      data_key = fresh_key();
    }
    const Written w = write_bundle(in, out, fresh_bundle_id(), data_key, keys, fixed);
    REQUIRE(w.result.volumes.size() >= 2);
    auto opened = open_index(out);
    REQUIRE(opened.has_value());
    std::optional<crypto::AeadKey> key;
    if (encrypted) {
      auto k = unwrap_with_site_key(*opened, keys.site_key());
      REQUIRE(k.has_value());
      key = *k;
    }
    auto payload = open_body(*opened, key);
    REQUIRE(payload.has_value());
    // The first two chunks of the first pack of volume 1, and the first of volume 2.
    auto first_chunks_of_volume = [&](std::uint32_t volume) {
      std::vector<std::uint32_t> found;
      for (std::uint32_t k = 0; k < payload->chunks.size(); ++k) {
        const ChunkEntry& c = payload->chunks[k];
        const PackEntry& pk = payload->packs[c.pack];
        if (pk.volume == volume && (found.empty() || payload->chunks[found[0]].pack == c.pack)) {
          found.push_back(k);
        }
      }
      return found;
    };
    const auto v0 = first_chunks_of_volume(0);
    const auto v1 = first_chunks_of_volume(1);
    REQUIRE(v0.size() >= 2);
    REQUIRE(!v1.empty());
    const ChunkEntry a = payload->chunks[v0[0]];
    const ChunkEntry b = payload->chunks[v0[1]];
    const ChunkEntry c = payload->chunks[v1[0]];
    REQUIRE(a.stored == b.stored);
    REQUIRE(a.stored == c.stored);

    const stdfs::path vol0 = out / w.result.volumes[0].name;
    const stdfs::path vol1 = out / w.result.volumes[1].name;
    const Bytes orig0 = read_all(vol0);
    const Bytes orig1 = read_all(vol1);
    const std::size_t at0 = first_pack_data_offset(orig0);
    const std::size_t at1 = first_pack_data_offset(orig1);

    // Reads the bundle back under an index whose volume hashes were
    // recomputed for the altered files, as if the attacker could re-sign:
    // only the frame binding is left to catch the swap.
    auto read_forged = [&] {
      OpenedIndex forged = *opened;
      for (VolumeInfo& v : forged.header.volumes) {
        const Bytes now = read_all(out / v.name);
        v.size = now.size();
        v.sha256 = crypto::sha256_hex(now);
      }
      return read_back(forged, *payload, key);
    };
    auto expect_refused = [&](const std::string& volume_name) {
      auto files = read_forged();
      REQUIRE_FALSE(files.has_value());
      INFO(files.error().message());
      CHECK(files.error().code() == ErrorCode::kCorruption);
      CHECK(files.error().message().starts_with(volume_name));
      CHECK(files.error().message().find(encrypted ? "authentication failed" : "does not match its SHA-256") !=
            std::string::npos);
      // And with the real (signed) hashes the volume itself is named.
      auto real = read_back(*opened, *payload, key);
      REQUIRE_FALSE(real.has_value());
      CHECK(real.error().code() == ErrorCode::kCorruption);
    };

    {
      INFO("swapped within a pack");
      Bytes t = orig0;
      std::swap_ranges(t.begin() + static_cast<std::ptrdiff_t>(at0 + a.offset),
                       t.begin() + static_cast<std::ptrdiff_t>(at0 + a.offset + a.stored),
                       t.begin() + static_cast<std::ptrdiff_t>(at0 + b.offset));
      write_file(vol0, t);
      expect_refused(w.result.volumes[0].name);
      write_file(vol0, orig0);
      REQUIRE(read_back(*opened, *payload, key).has_value());
    }
    {
      INFO("swapped across volumes");
      Bytes t0 = orig0;
      Bytes t1 = orig1;
      std::swap_ranges(t0.begin() + static_cast<std::ptrdiff_t>(at0 + a.offset),
                       t0.begin() + static_cast<std::ptrdiff_t>(at0 + a.offset + a.stored),
                       t1.begin() + static_cast<std::ptrdiff_t>(at1 + c.offset));
      write_file(vol0, t0);
      write_file(vol1, t1);
      expect_refused(w.result.volumes[0].name);
    }
  }
}

TEST_CASE("bundle: a volume truncated at any frame boundary is refused naming it", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  InputSet in;
  add_input(in, tmp.path() / "in", "model/a.bin", random_data(40 * 64 * 1024, 31));
  const chunk::ChunkParams fixed{.min_size = 64 * 1024, .avg_size = 64 * 1024, .max_size = 64 * 1024};
  const Keys keys;
  const Written w = write_bundle(in, tmp.path() / "out", fresh_bundle_id(), fresh_key(), keys, fixed);
  auto [opened, key, payload] = open_encrypted(tmp.path() / "out", keys);
  const stdfs::path vol = tmp.path() / "out" / w.result.volumes[0].name;
  const Bytes orig = read_all(vol);
  const std::size_t at = first_pack_data_offset(orig);
  std::size_t cuts = 0;
  for (const ChunkEntry& c : payload->chunks) {
    if (payload->packs[c.pack].volume != 0 || payload->chunks[0].pack != c.pack) {
      continue;  // the frames of the volume's first pack
    }
    for (const std::size_t cut : {at + c.offset, at + c.offset + c.stored}) {
      INFO("cut at " << cut);
      write_file(vol, Bytes(orig.begin(), orig.begin() + static_cast<std::ptrdiff_t>(cut)));
      auto files = read_back(*opened, *payload, *key);
      REQUIRE_FALSE(files.has_value());
      CHECK(files.error().code() == ErrorCode::kCorruption);
      CHECK(files.error().message().starts_with(w.result.volumes[0].name));
      ++cuts;
    }
  }
  CHECK(cuts >= 2 * 40);
  write_file(vol, orig);
  CHECK(read_back(*opened, *payload, *key).has_value());
}

TEST_CASE("bundle: a truncated volume is kCorruption, a missing one kNotFound, both naming it", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_inputs(tmp.path() / "in");
  const Keys keys;
  const Written w = write_bundle(in, tmp.path() / "out", fresh_bundle_id(), fresh_key(), keys);
  const std::string last = w.result.volumes.back().name;
  const stdfs::path last_path = tmp.path() / "out" / last;
  auto [opened, key, payload] = open_encrypted(tmp.path() / "out", keys);

  stdfs::resize_file(last_path, w.result.volumes.back().size - 512);
  auto files = read_back(*opened, *payload, *key);
  REQUIRE_FALSE(files.has_value());
  CHECK(files.error().code() == ErrorCode::kCorruption);
  CHECK(files.error().message().starts_with(last));

  // A forgotten disc is not tampering: exit 1, saying which volume to bring.
  stdfs::remove(last_path);
  files = read_back(*opened, *payload, *key);
  REQUIRE_FALSE(files.has_value());
  CHECK(files.error().code() == ErrorCode::kNotFound);
  CHECK(files.error().message().starts_with(last));
  CHECK(files.error().message().find("copy or insert volume " + last) != std::string::npos);
  auto hashes = check_volume_hashes(*opened, {});
  REQUIRE_FALSE(hashes.has_value());
  CHECK(hashes.error().code() == ErrorCode::kNotFound);
}

TEST_CASE("bundle: a volume that is not a regular file is refused before it is read", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_inputs(tmp.path() / "in");
  const Keys keys;
  const Written w = write_bundle(in, tmp.path() / "out", fresh_bundle_id(), fresh_key(), keys);
  const std::string last = w.result.volumes.back().name;
  const stdfs::path last_path = tmp.path() / "out" / last;
  auto [opened, key, payload] = open_encrypted(tmp.path() / "out", keys);
  const stdfs::path outside = tmp.path() / "outside-secret.tar";
  stdfs::rename(last_path, outside);

  auto refused = [&](const char* what) {
    INFO(what);
    auto files = read_back(*opened, *payload, *key);
    REQUIRE_FALSE(files.has_value());
    CHECK(files.error().code() == ErrorCode::kCorruption);
    CHECK(files.error().message().starts_with(last));
    CHECK(files.error().message().find("outside-secret") == std::string::npos);
    CHECK(files.error().message().find("/dev/zero") == std::string::npos);
    auto hashes = check_volume_hashes(*opened, {});
    REQUIRE_FALSE(hashes.has_value());
    CHECK(hashes.error().code() == ErrorCode::kCorruption);
    CHECK(hashes.error().message().find("outside-secret") == std::string::npos);
    stdfs::remove(last_path);
  };
  stdfs::create_symlink("/dev/zero", last_path);
  refused("symlink to /dev/zero");
  stdfs::create_symlink(outside, last_path);  // the right bytes, but not in the bundle
  refused("symlink to the real volume outside the bundle");
  REQUIRE(::mkfifo(last_path.c_str(), 0600) == 0);
  refused("FIFO");
  stdfs::create_directory(last_path);
  refused("directory");

  stdfs::rename(outside, last_path);
  CHECK(read_back(*opened, *payload, *key).has_value());
}

TEST_CASE("bundle: open_index reads the index once and refuses in before_body without reading the body",
          "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_inputs(tmp.path() / "in");
  const Keys keys;
  const Written w = write_bundle(in, tmp.path() / "out", fresh_bundle_id(), fresh_key(), keys);
  bool called = false;
  auto refused = open_index(w.index_path, [&](const OpenedIndex& o) -> Status {
    called = true;
    CHECK(o.index.body.empty());
    CHECK_FALSE(o.index.signatures.empty());
    CHECK(o.header.name == "demo");
    return make_error(ErrorCode::kUntrusted, "not for us");
  });
  CHECK(called);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code() == ErrorCode::kUntrusted);
  auto header = read_unverified_header(w.index_path);
  REQUIRE(header.has_value());
  CHECK(header->name == "demo");
  auto opened = open_index(w.index_path, [](const OpenedIndex&) { return ok_status(); });
  REQUIRE(opened.has_value());
  CHECK_FALSE(opened->index.body.empty());

  // An index symlinked from the bundle directory is refused; named on the
  // command line, a symlink is followed (the operator chose it).
  const stdfs::path elsewhere = tmp.path() / "elsewhere.airlock";
  stdfs::rename(w.index_path, elsewhere);
  stdfs::create_symlink(elsewhere, w.index_path);
  auto in_dir = open_index(tmp.path() / "out");
  REQUIRE_FALSE(in_dir.has_value());
  CHECK(in_dir.error().code() == ErrorCode::kCorruption);
  CHECK(in_dir.error().message().find("elsewhere") == std::string::npos);
  CHECK(open_index(w.index_path).has_value());

  // A volume named instead of the bundle: kInvalidArgument saying so.
  auto vol = open_index(tmp.path() / "out" / w.result.volumes.front().name);
  REQUIRE_FALSE(vol.has_value());
  CHECK(vol.error().code() == ErrorCode::kInvalidArgument);
  CHECK(vol.error().message().find("is a volume of a bundle, not its index") != std::string::npos);
}

TEST_CASE("bundle: another site key cannot unwrap the data key", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_inputs(tmp.path() / "in");
  const Keys keys;
  const Written w = write_bundle(in, tmp.path() / "out", fresh_bundle_id(), fresh_key(), keys);
  auto opened = open_index(w.index_path);
  REQUIRE(opened.has_value());

  const Keys other;  // a different site
  auto r = unwrap_with_site_key(*opened, other.site_key());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kNotForThisSite);
  CHECK(r.error().message().find(keys::key_id(keys.site_pub)) != std::string::npos);  // names the recipients

  // Same key id, wrong secret: still not for this site.
  SiteKey forged = keys.site_key();
  forged.secret = other.site_secret;
  r = unwrap_with_site_key(*opened, forged);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kNotForThisSite);

  // A passphrase cannot open a site-key bundle.
  r = unwrap_with_passphrase(*opened, "secret");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kNotForThisSite);

  // And the encrypted body needs a key.
  auto body = open_body(*opened, std::nullopt);
  REQUIRE_FALSE(body.has_value());
  CHECK(body.error().code() == ErrorCode::kNotForThisSite);
}

TEST_CASE("bundle: a wrong data key cannot open the body or the frames", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_inputs(tmp.path() / "in");
  const Keys keys;
  const crypto::AeadKey data_key = fresh_key();
  const Written w = write_bundle(in, tmp.path() / "out", fresh_bundle_id(), data_key, keys);
  auto opened = open_index(w.index_path);
  REQUIRE(opened.has_value());
  crypto::AeadKey wrong = data_key;
  wrong[5] ^= 0x10;
  auto body = open_body(*opened, wrong);
  REQUIRE_FALSE(body.has_value());
  CHECK(body.error().code() == ErrorCode::kCorruption);

  auto payload = open_body(*opened, data_key);
  REQUIRE(payload.has_value());
  auto files = read_back(*opened, *payload, wrong);
  REQUIRE_FALSE(files.has_value());
  CHECK(files.error().code() == ErrorCode::kCorruption);
  CHECK(files.error().message().starts_with(w.result.volumes[0].name));
}

TEST_CASE("bundle: an altered index fails to parse or to open", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_inputs(tmp.path() / "in");
  const Keys keys;
  const crypto::AeadKey data_key = fresh_key();
  const Written w = write_bundle(in, tmp.path() / "out", fresh_bundle_id(), data_key, keys);
  Bytes index = read_all(w.index_path);
  auto parsed = parse_index(index);
  REQUIRE(parsed.has_value());
  // Flip a byte in the encrypted body: the signature no longer verifies and
  // the body no longer authenticates.
  const std::size_t body_at = 16 + parsed->header.size() + 8;
  index[body_at + parsed->body.size() / 2] ^= 1;
  write_file(w.index_path, index);
  auto opened = open_index(w.index_path);
  REQUIRE(opened.has_value());
  CHECK_FALSE(crypto::ed25519_verify(signed_message(opened->index.header, opened->index.body),
                                     opened->index.signatures[0].sig, keys.sign_pub));
  auto body = open_body(*opened, data_key);
  REQUIRE_FALSE(body.has_value());
  CHECK(body.error().code() == ErrorCode::kCorruption);
  CHECK(body.error().message().find(std::string(k_base) + ".airlock") != std::string::npos);
}

TEST_CASE("bundle: a volume from another bundle is rejected", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  const InputSet in = make_inputs(tmp.path() / "in");
  const Keys keys;
  const crypto::AeadKey data_key = fresh_key();  // even under the same data key
  const Written a = write_bundle(in, tmp.path() / "a", fresh_bundle_id(), data_key, keys);
  const Written b = write_bundle(in, tmp.path() / "b", fresh_bundle_id(), data_key, keys);
  REQUIRE(a.result.volumes.size() == b.result.volumes.size());
  // Same inputs, same key: the same layout, so sizes match and only the
  // bundle binding can tell the volumes apart.
  CHECK(encode_payload(a.result.payload) == encode_payload(b.result.payload));
  CHECK(a.result.volumes[0].size == b.result.volumes[0].size);
  CHECK(a.result.volumes[0].sha256 != b.result.volumes[0].sha256);

  auto [opened, key, payload] = open_encrypted(tmp.path() / "a", keys);
  REQUIRE(read_back(*opened, *payload, *key).has_value());

  SECTION("copied over a volume of the same name") {
    const std::string name = a.result.volumes[0].name;
    stdfs::copy_file(tmp.path() / "b" / name, tmp.path() / "a" / name, stdfs::copy_options::overwrite_existing);
    auto files = read_back(*opened, *payload, *key);
    REQUIRE_FALSE(files.has_value());
    CHECK(files.error().code() == ErrorCode::kCorruption);
    CHECK(files.error().message().starts_with(name));
  }
  SECTION("even with the volume hashes substituted, the frames do not authenticate") {
    OpenedIndex forged = *opened;
    forged.dir = tmp.path() / "b";
    forged.header.volumes = b.result.volumes;
    std::vector<std::uint32_t> delivered;
    auto files = read_back(forged, *payload, *key, nullptr, &delivered);
    REQUIRE_FALSE(files.has_value());
    CHECK(files.error().code() == ErrorCode::kCorruption);
    CHECK(files.error().message().find("authentication failed") != std::string::npos);
    CHECK(delivered.empty());
  }
}

TEST_CASE("bundle: a passphrase-wrapped data key round trips", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  InputSet in;
  add_input(in, tmp.path() / "in", "model/small.bin", random_data(100000, 21));
  const Keys keys;
  const Bytes bundle_id = fresh_bundle_id();
  const crypto::AeadKey data_key = fresh_key();
  stdfs::create_directories(tmp.path() / "out");
  WriteOptions opt;
  opt.dir = tmp.path() / "out";
  opt.base_name = k_base;
  opt.volume_size = k_min_volume_size;
  opt.bundle_id = bundle_id;
  opt.data_key = data_key;
  auto written = write_volumes(in.files, opt);
  REQUIRE(written.has_value());
  written->payload.name = "demo";
  written->payload.version = "1.0";
  Header h;
  h.bundle_id = to_hex(bundle_id);
  h.name = "demo";
  h.version = "1.0";
  h.sequence = 1;
  h.suite = "aes-256-gcm";
  h.volumes = written->volumes;
  h.tool = "test";
  Recipient r;
  r.type = "argon2id";
  r.argon2.opslimit = 1;
  r.argon2.memlimit = 8ull << 20;
  crypto::random_bytes(r.argon2.salt);
  auto kek = crypto::argon2id("correct horse", r.argon2);
  REQUIRE(kek.has_value());
  r.wrapped_key = crypto::xchacha_seal(data_key, passphrase_aad(bundle_id), *kek);
  h.recipients.push_back(r);
  auto index = seal_index(h, written->payload, data_key, {keys.signer});
  REQUIRE(index.has_value());
  write_file(tmp.path() / "out" / (std::string(k_base) + ".airlock"), *index);

  auto opened = open_index(tmp.path() / "out");
  REQUIRE(opened.has_value());
  auto key = unwrap_with_passphrase(*opened, "correct horse");
  REQUIRE(key.has_value());
  CHECK(*key == data_key);
  auto wrong = unwrap_with_passphrase(*opened, "correct horsE");
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().code() == ErrorCode::kNotForThisSite);
  auto site = unwrap_with_site_key(*opened, keys.site_key());
  REQUIRE_FALSE(site.has_value());
  CHECK(site.error().code() == ErrorCode::kNotForThisSite);
  auto payload = open_body(*opened, *key);
  REQUIRE(payload.has_value());
  auto files = read_back(*opened, *payload, *key);
  REQUIRE(files.has_value());
  check_files(in, *payload, *files);
}

TEST_CASE("bundle: an empty deployment still has one volume", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  InputSet in;
  add_input(in, tmp.path() / "in", "only/empty", {});
  const Keys keys;
  const Written w = write_bundle(in, tmp.path() / "out", fresh_bundle_id(), fresh_key(), keys);
  REQUIRE(w.result.volumes.size() == 1);
  CHECK(w.result.payload.chunks.empty());
  CHECK(w.result.payload.packs.empty());
  auto [opened, key, payload] = open_encrypted(tmp.path() / "out", keys);
  auto files = read_back(*opened, *payload, *key);
  REQUIRE(files.has_value());
  check_files(in, *payload, *files);
}

TEST_CASE("bundle: a payload naming another deployment than the header is refused", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  InputSet in;
  add_input(in, tmp.path() / "in", "model/small.bin", random_data(5000, 31));
  const Keys keys;
  const Bytes bundle_id = fresh_bundle_id();
  const crypto::AeadKey data_key = fresh_key();
  Written w = write_bundle(in, tmp.path() / "out", bundle_id, data_key, keys);
  for (const auto& [name, version] : {std::pair<std::string, std::string>{"other", "1.0"}, {"demo", "2.0"}}) {
    INFO(name << " " << version);
    Payload p = w.result.payload;
    p.name = name;
    p.version = version;
    auto index = seal_index(w.header, p, data_key, {keys.signer});
    REQUIRE(index.has_value());
    write_file(w.index_path, *index);
    auto opened = open_index(w.index_path);
    REQUIRE(opened.has_value());
    auto body = open_body(*opened, data_key);
    REQUIRE_FALSE(body.has_value());
    CHECK(body.error().code() == ErrorCode::kCorruption);
    CHECK(body.error().message().find(name + "/" + version) != std::string::npos);
  }
}

TEST_CASE("bundle: a body whose zstd frame has no content size is refused", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  InputSet in;
  add_input(in, tmp.path() / "in", "model/small.bin", random_data(5000, 32));
  const Keys keys;
  Written w = write_bundle(in, tmp.path() / "out", fresh_bundle_id(), std::nullopt, keys);
  // Same payload, compressed by the streaming API without a content size.
  const Bytes plain = encode_payload(w.result.payload);
  Bytes compressed(ZSTD_compressBound(plain.size()) + 64);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  REQUIRE(cctx != nullptr);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  ZSTD_inBuffer input{plain.data(), plain.size(), 0};
  ZSTD_outBuffer output{compressed.data(), compressed.size(), 0};
  const std::size_t left = ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_end);
  ZSTD_freeCCtx(cctx);
  REQUIRE(left == 0);
  compressed.resize(output.pos);
  REQUIRE(ZSTD_getFrameContentSize(compressed.data(), compressed.size()) == ZSTD_CONTENTSIZE_UNKNOWN);

  IndexFile index;
  const std::string header = serialize_header(w.header);
  index.header.assign(header.begin(), header.end());
  index.body = compressed;
  index.signatures.push_back(
      SignatureEntry{keys.signer.keyid, crypto::ed25519_sign(signed_message(index.header, index.body), keys.signer.secret)});
  write_file(w.index_path, serialize_index(index));
  auto opened = open_index(w.index_path);
  REQUIRE(opened.has_value());
  auto body = open_body(*opened, std::nullopt);
  REQUIRE_FALSE(body.has_value());
  CHECK(body.error().code() == ErrorCode::kCorruption);

  // The same frame with its content size opens: the refusal is for the missing size alone.
  Bytes sized(ZSTD_compressBound(plain.size()));
  sized.resize(ZSTD_compress(sized.data(), sized.size(), plain.data(), plain.size(), 3));
  index.body = sized;
  write_file(w.index_path, serialize_index(index));
  opened = open_index(w.index_path);
  REQUIRE(opened.has_value());
  CHECK(open_body(*opened, std::nullopt).has_value());
}

TEST_CASE("bundle: a volume size below the minimum is refused", "[format][bundle]") {
  REQUIRE(crypto::init_sodium());
  TempDir tmp;
  WriteOptions opt;
  opt.dir = tmp.path();
  opt.base_name = k_base;
  opt.volume_size = k_min_volume_size - 1;
  opt.bundle_id = fresh_bundle_id();
  auto r = write_volumes({}, opt);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  CHECK(stdfs::is_empty(tmp.path()));
}

}  // namespace airlock::format

// The golden bundle (tests/fixtures/golden/, docs/FORMAT.md §11): rebuilt
// here from fixed keys, fixed data and fixed random inputs, and compared byte
// for byte with the committed copy, so an accidental change of the format
// fails; then the committed bytes are read back by hand, at the offsets
// docs/FORMAT.md gives, so the document is checked against real bytes too.
//
// Regenerating the committed copy is deliberate (docs/FORMAT.md §11):
//   build/tests/airlock_unit_tests "[.golden-regenerate]"

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <zstd.h>

#include "core/crypto/aead.h"
#include "core/crypto/sha256.h"
#include "core/crypto/sodium.h"
#include "bundler/delta.h"
#include "core/format/bundle_reader.h"
#include "core/format/bundle_writer.h"
#include "keys/key_files.h"
#include "tests/support/deterministic_random.h"
#include "tests/support/temp_dir.h"

namespace airlock::format {
namespace {

namespace stdfs = std::filesystem;

const stdfs::path k_fixture = stdfs::path(AIRLOCK_SOURCE_DIR) / "tests/fixtures/golden";
// The same deployment with two more small files in serve/: they and the
// README go into one solid block, so this bundle is format version 2.
const stdfs::path k_fixture_solid = stdfs::path(AIRLOCK_SOURCE_DIR) / "tests/fixtures/golden-solid";
// Version 2.0.0 of the deployment as a delta bundle (format version 3)
// against the golden bundle, which it holds in base/: its README is left
// out (the base has it), its model's weights are the base's with the lowest
// bit of every fourth value flipped (an XOR frame against the base's).
const stdfs::path k_fixture_delta = stdfs::path(AIRLOCK_SOURCE_DIR) / "tests/fixtures/golden-delta";

// The fixed inputs. Changing any of them changes the committed bytes.
constexpr std::uint32_t k_random_seed = 1;     // DeterministicRandom: keys, bundle id, data key, sealed box
constexpr std::int64_t k_created = 1700000000;  // 2023-11-14T22:13:20Z
constexpr const char* k_name = "golden";
constexpr const char* k_version = "1.0.0";
constexpr const char* k_golden_base = "golden-1.0.0";
constexpr const char* k_readme = "The golden bundle's one extra file (docs/FORMAT.md, section 11).\n";
constexpr const char* k_license =
    "Fixture text, free to copy: it exists to be compressed with its neighbours.\n"
    "Fixture text, free to copy: it exists to be compressed with its neighbours.\n"
    "Fixture text, free to copy: it exists to be compressed with its neighbours.\n";
constexpr const char* k_start = "#!/bin/sh\n# Fixture text, free to copy: it exists to be compressed.\nexit 0\n";

Bytes read_golden(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_all(const stdfs::path& p, ByteSpan data) {
  stdfs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  REQUIRE(out.good());
}

// A tiny safetensors file: a BF16 [16, 32] and an F32 [32] tensor whose
// values come from mt19937_64's raw output (fixed by the C++ standard;
// distributions are not), small normal numbers as weights are.
Bytes tiny_safetensors() {
  std::string header =
      R"({"__metadata__":{"format":"pt"},"bias":{"dtype":"F32","shape":[32],"data_offsets":[1024,1152]},)"
      R"("weight":{"dtype":"BF16","shape":[16,32],"data_offsets":[0,1024]}})";
  while (header.size() % 8 != 0) header.push_back(' ');
  Bytes file;
  put_u64le(file, header.size());
  append(file, as_bytes(header));
  std::mt19937_64 rng(14);
  auto small_float_bits = [&] {  // sign, exponent 2^-8 .. 2^-5, 23 mantissa bits
    const std::uint64_t r = rng();
    return static_cast<std::uint32_t>(((r >> 63) << 31) | ((0x77 + (r >> 40) % 4) << 23) | (r & 0x7fffff));
  };
  for (int i = 0; i < 16 * 32; ++i) {
    const std::uint32_t bits = small_float_bits() >> 16;  // bf16: the top half, truncated
    file.push_back(static_cast<std::uint8_t>(bits));
    file.push_back(static_cast<std::uint8_t>(bits >> 8));
  }
  for (int i = 0; i < 32; ++i) {
    const std::uint32_t bits = small_float_bits();
    for (int b = 0; b < 4; ++b) file.push_back(static_cast<std::uint8_t>(bits >> (8 * b)));
  }
  return file;
}

nlohmann::json source_file(const std::string& path, ByteSpan data) {
  return {{"path", path}, {"size", data.size()}, {"sha256", crypto::sha256_hex(data)}};
}

// Writes the whole fixture into OUT: input/ (the deployment's files),
// keys/ (publisher and site keys) and bundle/ (index and volume), as
// `airlock-bundler create` would for a local [model] and one [[files]]
// entry with dest "serve", signed by the publisher and encrypted to the site.
// With `solid`, serve/ also holds LICENSE.txt and start.sh (k_fixture_solid).
void build_golden(const stdfs::path& out, bool solid = false) {
  test::DeterministicRandom random(k_random_seed);
  const Bytes model = tiny_safetensors();
  const ByteSpan readme = as_bytes(k_readme);
  write_all(out / "input/model/model.safetensors", model);
  write_all(out / "input/serve/README.txt", readme);
  if (solid) {
    write_all(out / "input/serve/LICENSE.txt", as_bytes(k_license));
    write_all(out / "input/serve/start.sh", as_bytes(k_start));
  }

  stdfs::create_directories(out / "keys");
  auto publisher = keys::generate_signing_key(out / "keys/publisher");
  REQUIRE(publisher.has_value());
  auto site = keys::generate_site_key(out / "keys");
  REQUIRE(site.has_value());
  auto signer = keys::load_signing_key(out / "keys/publisher.key");
  REQUIRE(signer.has_value());

  Bytes bundle_id(16);
  crypto::random_bytes(bundle_id);
  crypto::AeadKey data_key{};
  crypto::random_bytes(data_key);

  const stdfs::path dir = out / "bundle";
  stdfs::create_directories(dir);
  WriteOptions wo;
  wo.dir = dir;
  wo.base_name = k_golden_base;
  wo.volume_size = k_min_volume_size;
  wo.bundle_id = bundle_id;
  wo.data_key = data_key;
  wo.threads = 1;
  std::vector<InputFile> inputs = {
      {out / "input/model/model.safetensors", "model/model.safetensors", 0644, model.size()},
      {out / "input/serve/README.txt", "serve/README.txt", 0644, readme.size()}};
  nlohmann::json serve_files = nlohmann::json::array({source_file("serve/README.txt", readme)});
  if (solid) {
    inputs.push_back({out / "input/serve/LICENSE.txt", "serve/LICENSE.txt", 0644, as_bytes(k_license).size()});
    inputs.push_back({out / "input/serve/start.sh", "serve/start.sh", 0755, as_bytes(k_start).size()});
    serve_files.push_back(source_file("serve/LICENSE.txt", as_bytes(k_license)));
    serve_files.push_back(source_file("serve/start.sh", as_bytes(k_start)));
  }
  auto written = write_volumes(inputs, wo);
  REQUIRE(written.has_value());
  Payload& payload = written->payload;
  payload.name = k_name;
  payload.version = k_version;
  payload.sources = nlohmann::json::array(
      {{{"kind", "model"},
        {"identity", nlohmann::json::object()},
        {"files", {source_file("model/model.safetensors", model)}}},
       {{"kind", "files"}, {"identity", {{"dest", "serve"}}}, {"files", serve_files}}});

  Header h;
  h.name = k_name;
  h.version = k_version;
  h.bundle_id = to_hex(bundle_id);
  h.sequence = 1;
  h.created = k_created;
  h.suite = "aes-256-gcm";
  Recipient r;
  r.type = "x25519";
  r.keyid = site->keyid;
  r.wrapped_key = crypto::seal_to(data_key, site->pub);
  h.recipients.push_back(std::move(r));
  h.volumes = written->volumes;
  h.tool = "airlock golden fixture (tests/unit/core/format/golden_test.cc)";
  auto index = seal_index(h, payload, data_key, {*signer});
  REQUIRE(index.has_value());
  write_all(dir / (std::string(k_golden_base) + ".airlock"), *index);
}

// Writes the delta fixture into OUT: base/ (build_golden), input/ and
// bundle/ of golden 2.0.0, made against base/ as `create --base` makes it
// (bundler/delta.h), signed and encrypted with base/'s keys.
void build_golden_delta(const stdfs::path& out) {
  build_golden(out / "base");
  const stdfs::path keys_dir = out / "base/keys";
  auto site = keys::load_site_key(keys_dir);
  REQUIRE(site.has_value());
  auto signer = keys::load_signing_key(keys_dir / "publisher.key");
  REQUIRE(signer.has_value());
  auto opened = open_index(out / "base/bundle");
  REQUIRE(opened.has_value());
  auto base_key = unwrap_with_site_key(*opened, *site);
  REQUIRE(base_key.has_value());
  auto base_payload = open_body(*opened, *base_key);
  REQUIRE(base_payload.has_value());
  const std::vector<InputFile> base_inputs = {
      {out / "base/input/model/model.safetensors", "model/model.safetensors", 0644, 0},
      {out / "base/input/serve/README.txt", "serve/README.txt", 0644, 0}};
  const bundler::BundleRecord record = bundler::make_record(opened->header, *base_payload, base_inputs);

  Bytes model = tiny_safetensors();
  const std::uint64_t data = 8 + get_u64le(model.data());
  for (std::uint64_t i = 0; i < 16 * 32; i += 4) {
    model[data + 2 * i] ^= 1;  // the weight tensor (BF16, first in the data): the lowest mantissa bit
  }
  const ByteSpan readme = as_bytes(k_readme);
  write_all(out / "input/model/model.safetensors", model);
  write_all(out / "input/serve/README.txt", readme);
  const std::vector<InputFile> inputs = {
      {out / "input/model/model.safetensors", "model/model.safetensors", 0644, model.size()},
      {out / "input/serve/README.txt", "serve/README.txt", 0644, readme.size()}};
  auto plan = bundler::DeltaPlan::make(record, inputs);
  REQUIRE(plan.has_value());

  test::DeterministicRandom random(k_random_seed + 1);
  Bytes bundle_id(16);
  crypto::random_bytes(bundle_id);
  crypto::AeadKey data_key{};
  crypto::random_bytes(data_key);
  const stdfs::path dir = out / "bundle";
  stdfs::create_directories(dir);
  WriteOptions wo;
  wo.dir = dir;
  wo.base_name = "golden-2.0.0";
  wo.volume_size = k_min_volume_size;
  wo.bundle_id = bundle_id;
  wo.data_key = data_key;
  wo.threads = 1;
  wo.delta = &(*plan)->input();
  auto written = write_volumes(inputs, wo);
  REQUIRE(written.has_value());
  CHECK(written->base_chunks == 3);  // the README, the safetensors header and the F32 bias: all unchanged
  CHECK(written->xor_chunks == 1);   // the weight tensor
  Payload& payload = written->payload;
  payload.name = k_name;
  payload.version = "2.0.0";
  payload.base = (*plan)->base_ref();
  payload.sources = nlohmann::json::array(
      {{{"kind", "model"},
        {"identity", nlohmann::json::object()},
        {"files", nlohmann::json::array({source_file("model/model.safetensors", model)})}},
       {{"kind", "files"},
        {"identity", {{"dest", "serve"}}},
        {"files", nlohmann::json::array({source_file("serve/README.txt", readme)})}}});
  Header h;
  h.name = k_name;
  h.version = "2.0.0";
  h.bundle_id = to_hex(bundle_id);
  h.sequence = 2;
  h.created = k_created + 1;
  h.suite = "aes-256-gcm";
  Recipient r;
  r.type = "x25519";
  r.keyid = site->keyid;
  r.wrapped_key = crypto::seal_to(data_key, site->pub);
  h.recipients.push_back(std::move(r));
  h.volumes = written->volumes;
  h.tool = "airlock golden fixture (tests/unit/core/format/golden_test.cc)";
  auto index = seal_index(h, payload, data_key, {*signer});
  REQUIRE(index.has_value());
  write_all(dir / "golden-2.0.0.airlock", *index);
}

// Every regular file below DIR, by relative path.
std::map<std::string, Bytes> files_below(const stdfs::path& dir) {
  std::map<std::string, Bytes> out;
  for (const auto& e : stdfs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      out[stdfs::relative(e.path(), dir).generic_string()] = read_golden(e.path());
    }
  }
  return out;
}

TEST_CASE("the golden bundles are rebuilt byte for byte from their fixed inputs", "[golden]") {
  const int kind = GENERATE(0, 1, 2);  // plain, solid, delta
  const stdfs::path fixture = kind == 0 ? k_fixture : kind == 1 ? k_fixture_solid : k_fixture_delta;
  INFO(fixture.filename().string());
  test::TempDir tmp("golden");
  if (kind == 2) {
    build_golden_delta(tmp.path());
  } else {
    build_golden(tmp.path(), kind == 1);
  }
  const auto rebuilt = files_below(tmp.path());
  const auto committed = files_below(fixture);
  std::vector<std::string> rebuilt_names, committed_names;
  for (const auto& [name, _] : rebuilt) rebuilt_names.push_back(name);
  for (const auto& [name, _] : committed) committed_names.push_back(name);
  REQUIRE(rebuilt_names == committed_names);
  for (const auto& [name, bytes] : rebuilt) {
    const Bytes& want = committed.at(name);
    const auto diff = std::mismatch(bytes.begin(), bytes.end(), want.begin(), want.end());
    INFO(fmt::format("tests/fixtures/{}/{}: {} bytes rebuilt, {} committed, first difference at offset {}; "
                     "if the format was meant to change, see docs/FORMAT.md section 11",
                     fixture.filename().string(), name, bytes.size(), want.size(), diff.first - bytes.begin()));
    CHECK(bytes == want);
  }
}

TEST_CASE("the same seed gives the same random bytes, another seed others", "[golden]") {
  std::array<std::uint8_t, 32> a{}, b{}, c{};
  {
    test::DeterministicRandom r(7);
    crypto::random_bytes(a);
  }
  {
    test::DeterministicRandom r(7);
    crypto::random_bytes(b);
  }
  {
    test::DeterministicRandom r(8);
    crypto::random_bytes(c);
  }
  CHECK(a == b);
  CHECK(a != c);
  // And after the seam is gone the system source is back.
  std::array<std::uint8_t, 32> d{};
  crypto::random_bytes(d);
  CHECK(d != a);
  CHECK(d != c);
}

std::string str(ByteSpan b, std::size_t at, std::size_t n) {
  REQUIRE(at + n <= b.size());
  return std::string(reinterpret_cast<const char*>(b.data() + at), n);
}

// The committed bytes, read with nothing but what docs/FORMAT.md says.
TEST_CASE("docs/FORMAT.md's offsets hold for the committed golden bundle", "[golden]") {
  const Bytes index = read_golden(k_fixture / "bundle/golden-1.0.0.airlock");
  const Bytes volume = read_golden(k_fixture / "bundle/golden-1.0.0.vol001.tar");

  // §2: magic, container version, the three lengths, nothing after the envelope.
  REQUIRE(index.size() > 28);
  CHECK(str(index, 0, 8) == std::string("AIRLOCK\0", 8));
  CHECK(get_u32le(index.data() + 8) == 1);
  const std::uint32_t hlen = get_u32le(index.data() + 12);
  REQUIRE(16 + hlen + 8 <= index.size());
  const std::string header_text = str(index, 16, hlen);
  const std::uint64_t blen = get_u64le(index.data() + 16 + hlen);
  REQUIRE(24 + hlen + blen + 4 <= index.size());
  const std::uint32_t slen = get_u32le(index.data() + 24 + hlen + blen);
  CHECK(28 + hlen + blen + slen == index.size());

  // The header: sorted keys, no spaces.
  const auto header = nlohmann::json::parse(header_text);
  CHECK(header.dump() == header_text);
  CHECK(header["format"] == "airlock-bundle");
  CHECK(header["format_version"] == 1);
  CHECK(header["deployment"] == nlohmann::json({{"name", "golden"}, {"version", "1.0.0"}}));
  CHECK(header["created"] == k_created);
  CHECK(header["suite"] == "aes-256-gcm");
  const std::string bundle_id_hex = header["bundle_id"];
  const Bytes bundle_id = from_hex(bundle_id_hex).value();
  REQUIRE(bundle_id.size() == 16);

  // Key ids: the first 16 hex digits of SHA-256 over the public key.
  auto site = keys::load_site_key(k_fixture / "keys");
  REQUIRE(site.has_value());
  auto publisher = keys::load_public_key(k_fixture / "keys/publisher.pub");
  REQUIRE(publisher.has_value());
  CHECK(header["recipients"][0]["keyid"] == crypto::sha256_hex(site->pub).substr(0, 16));

  // The signature: Ed25519 over "airlock-index-v1" 00 || u64 H || header || u64 L || body.
  const auto envelope = nlohmann::json::parse(str(index, 28 + hlen + blen, slen));
  REQUIRE(envelope["signatures"].size() == 1);
  CHECK(envelope["signatures"][0]["keyid"] == crypto::sha256_hex(publisher->pub).substr(0, 16));
  Bytes signed_bytes(as_bytes("airlock-index-v1").begin(), as_bytes("airlock-index-v1").end());
  signed_bytes.push_back(0);
  put_u64le(signed_bytes, hlen);
  append(signed_bytes, ByteSpan(index.data() + 16, hlen));
  put_u64le(signed_bytes, blen);
  const ByteSpan body(index.data() + 24 + hlen, blen);
  append(signed_bytes, body);
  const Bytes sig = from_base64(envelope["signatures"][0]["sig"].get<std::string>()).value();
  REQUIRE(sig.size() == 64);
  crypto::Signature signature{};
  std::copy(sig.begin(), sig.end(), signature.begin());
  CHECK(crypto::ed25519_verify(signed_bytes, signature, publisher->pub));

  // The x25519 stanza: an 80-byte sealed box of the data key.
  const Bytes wrapped = from_base64(header["recipients"][0]["wrapped_key"].get<std::string>()).value();
  CHECK(wrapped.size() == 80);
  auto opened_key = crypto::open_sealed(wrapped, site->pub, site->secret);
  REQUIRE(opened_key.has_value());
  REQUIRE(opened_key->size() == 32);
  crypto::AeadKey data_key{};
  std::copy(opened_key->begin(), opened_key->end(), data_key.begin());

  // §3: body = AES-256-GCM(nonce ff ff ff ff 0…0, AAD "airlock-body-v1" || bundle id), zstd(P).
  crypto::Aead aead(data_key);
  crypto::AeadNonce body_nonce{0xff, 0xff, 0xff, 0xff};
  Bytes body_aad(as_bytes("airlock-body-v1").begin(), as_bytes("airlock-body-v1").end());
  append(body_aad, bundle_id);
  REQUIRE(blen > 16);
  Bytes compressed(blen - 16);
  REQUIRE(aead.open(body_nonce, body_aad, body, compressed).has_value());
  const unsigned long long plen = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  REQUIRE(plen < (1u << 20));
  Bytes p(plen);
  REQUIRE(ZSTD_decompress(p.data(), p.size(), compressed.data(), compressed.size()) == plen);
  CHECK(str(p, 0, 8) == "ALPAYLD1");
  const std::uint64_t jlen = get_u64le(p.data() + 8);
  const auto meta = nlohmann::json::parse(str(p, 16, jlen));
  CHECK(meta["deployment"] == header["deployment"]);
  CHECK(meta["chunking"]["algorithm"] == "fastcdc-v1+tensor-fixed");
  CHECK(meta["chunking"]["tensor"] == 1048576);
  REQUIRE(meta["files"].size() == 2);
  CHECK(meta["files"][0]["path"] == "model/model.safetensors");
  CHECK(meta["files"][1]["path"] == "serve/README.txt");
  CHECK(meta["files"][1]["sha256"] == crypto::sha256_hex(as_bytes(k_readme)));
  const std::uint64_t chunks = get_u64le(p.data() + 16 + jlen);
  REQUIRE(chunks >= 2);
  const std::uint8_t* records = p.data() + 24 + jlen;
  const std::uint64_t refs = get_u64le(records + 64 * chunks);
  CHECK(24 + jlen + 64 * chunks + 8 + 4 * refs == p.size());

  // §4: the first frame, chunk 0, at offset 0 of pack 0: nonce 00 00 00 00 ||
  // u64 BE index, AAD "airlock-frame-v1" || bundle id || u64 index || chunk id
  // || u8 codec || u64 plaintext size || u64 stored size.
  const std::uint64_t size0 = get_u64le(records + 32), stored0 = get_u64le(records + 40);
  CHECK(get_u64le(records + 48) == 0);
  CHECK(get_u32le(records + 56) == 0);
  CHECK((records[61] | records[62] | records[63]) == 0);
  Bytes frame_aad(as_bytes("airlock-frame-v1").begin(), as_bytes("airlock-frame-v1").end());
  append(frame_aad, bundle_id);
  put_u64le(frame_aad, 0);
  append(frame_aad, ByteSpan(records, 32));
  frame_aad.push_back(records[60]);
  put_u64le(frame_aad, size0);
  put_u64le(frame_aad, stored0);

  // §7: the volume is a ustar file whose first entry is packs/000000.pack.
  CHECK(header["volumes"][0]["size"] == volume.size());
  CHECK(header["volumes"][0]["sha256"] == crypto::sha256_hex(volume));
  REQUIRE(volume.size() % 512 == 0);
  CHECK(str(volume, 0, 18) == std::string("packs/000000.pack\0", 18));
  CHECK(str(volume, 100, 8) == std::string("000644 \0", 8));
  CHECK(str(volume, 136, 12) == "00000000000 ");
  CHECK(volume[156] == '0');
  CHECK(str(volume, 257, 8) == std::string("ustar\0" "00", 8));
  CHECK(std::all_of(volume.end() - 1024, volume.end(), [](std::uint8_t b) { return b == 0; }));
  REQUIRE(512 + stored0 <= volume.size());
  const ByteSpan frame(volume.data() + 512, stored0);
  Bytes plain(stored0 - 16);
  crypto::AeadNonce frame_nonce{};  // chunk index 0
  CHECK(aead.open(frame_nonce, frame_aad, frame, plain).has_value());
}

// The committed format-2 bytes, read with nothing but docs/FORMAT.md: the
// solid block's records, the AAD that names its members, one zstd frame
// holding the three small files back to back.
TEST_CASE("docs/FORMAT.md's solid blocks hold for the committed format-2 golden bundle", "[golden]") {
  const Bytes index = read_golden(k_fixture_solid / "bundle/golden-1.0.0.airlock");
  const Bytes volume = read_golden(k_fixture_solid / "bundle/golden-1.0.0.vol001.tar");
  const std::uint32_t hlen = get_u32le(index.data() + 12);
  CHECK(get_u32le(index.data() + 8) == 1);  // the container is the same
  const auto header = nlohmann::json::parse(str(index, 16, hlen));
  CHECK(header["format_version"] == 2);
  const Bytes bundle_id = from_hex(header["bundle_id"].get<std::string>()).value();
  const std::uint64_t blen = get_u64le(index.data() + 16 + hlen);
  auto site = keys::load_site_key(k_fixture_solid / "keys");
  REQUIRE(site.has_value());
  auto opened_key = crypto::open_sealed(from_base64(header["recipients"][0]["wrapped_key"].get<std::string>()).value(),
                                        site->pub, site->secret);
  REQUIRE(opened_key.has_value());
  crypto::AeadKey data_key{};
  std::copy(opened_key->begin(), opened_key->end(), data_key.begin());
  crypto::Aead aead(data_key);
  Bytes body_aad(as_bytes("airlock-body-v1").begin(), as_bytes("airlock-body-v1").end());
  append(body_aad, bundle_id);
  Bytes compressed(blen - 16);
  REQUIRE(aead.open(crypto::AeadNonce{0xff, 0xff, 0xff, 0xff}, body_aad, ByteSpan(index.data() + 24 + hlen, blen),
                    compressed)
              .has_value());
  Bytes p(ZSTD_getFrameContentSize(compressed.data(), compressed.size()));
  REQUIRE(ZSTD_decompress(p.data(), p.size(), compressed.data(), compressed.size()) == p.size());
  const std::uint64_t jlen = get_u64le(p.data() + 8);
  const std::uint64_t chunks = get_u64le(p.data() + 16 + jlen);
  const std::uint8_t* records = p.data() + 24 + jlen;

  // §3: one head (codec 3) followed by two members (codec 4, stored 0, at
  // the offset where the head's frame ends, in its pack).
  std::uint64_t head = chunks;
  for (std::uint64_t i = 0; i < chunks; ++i) {
    if (records[64 * i + 60] == 3) head = i;
  }
  REQUIRE(head + 2 < chunks);
  const std::uint8_t* h = records + 64 * head;
  const std::uint64_t stored = get_u64le(h + 40), offset = get_u64le(h + 48);
  std::uint64_t total = get_u64le(h + 32);
  for (std::uint64_t m = head + 1; m <= head + 2; ++m) {
    const std::uint8_t* r = records + 64 * m;
    CHECK(r[60] == 4);
    CHECK(get_u64le(r + 40) == 0);
    CHECK(get_u64le(r + 48) == offset + stored);
    CHECK(get_u32le(r + 56) == get_u32le(h + 56));
    total += get_u64le(r + 32);
  }
  CHECK((head + 3 == chunks || records[64 * (head + 3) + 60] != 4));

  // §4: the head's AAD is frame_aad || u64 member count || (id || u64 size) per member.
  Bytes aad(as_bytes("airlock-frame-v1").begin(), as_bytes("airlock-frame-v1").end());
  append(aad, bundle_id);
  put_u64le(aad, head);
  append(aad, ByteSpan(h, 32));
  aad.push_back(3);
  put_u64le(aad, get_u64le(h + 32));
  put_u64le(aad, stored);
  put_u64le(aad, 2);
  for (std::uint64_t m = head + 1; m <= head + 2; ++m) {
    append(aad, ByteSpan(records + 64 * m, 32));
    put_u64le(aad, get_u64le(records + 64 * m + 32));
  }
  crypto::AeadNonce nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(head >> (8 * (7 - i)));
  REQUIRE(get_u32le(h + 56) == 0);  // pack 0, the volume's first entry
  REQUIRE(512 + offset + stored <= volume.size());
  Bytes frame_plain(stored - 16);
  REQUIRE(aead.open(nonce, aad, ByteSpan(volume.data() + 512 + offset, stored), frame_plain).has_value());

  // §5: one zstd frame whose content is the three chunks back to back, each
  // the SHA-256 its record names; here, the three small files.
  REQUIRE(ZSTD_getFrameContentSize(frame_plain.data(), frame_plain.size()) == total);
  Bytes block(total);
  REQUIRE(ZSTD_decompress(block.data(), block.size(), frame_plain.data(), frame_plain.size()) == total);
  std::set<std::string> contents;
  std::uint64_t at = 0;
  for (std::uint64_t m = head; m <= head + 2; ++m) {
    const std::uint64_t n = get_u64le(records + 64 * m + 32);
    const ByteSpan chunk(block.data() + at, n);
    CHECK(crypto::sha256_hex(chunk) == to_hex(ByteSpan(records + 64 * m, 32)));
    contents.insert(str(chunk, 0, n));
    at += n;
  }
  CHECK(contents == std::set<std::string>{k_readme, k_license, k_start});
}

// Not run by default: writes tests/fixtures/golden/ and golden-solid/ anew.
// See docs/FORMAT.md §11.
TEST_CASE("regenerate the golden delta bundle", "[.golden-regenerate][.golden-delta-regenerate]") {
  std::error_code ec;
  stdfs::remove_all(k_fixture_delta, ec);
  build_golden_delta(k_fixture_delta);
  for (const auto& e : stdfs::recursive_directory_iterator(k_fixture_delta)) {
    if (e.is_regular_file()) stdfs::permissions(e.path(), stdfs::perms(0644));
  }
  SUCCEED("wrote " + k_fixture_delta.string());
}

TEST_CASE("regenerate the golden bundle", "[.golden-regenerate]") {
  for (bool solid : {false, true}) {
    const stdfs::path fixture = solid ? k_fixture_solid : k_fixture;
    std::error_code ec;
    stdfs::remove_all(fixture, ec);
    build_golden(fixture, solid);
    // Key files are made 0600 and never overwritten; git keeps 0644 anyway.
    for (const auto& e : stdfs::recursive_directory_iterator(fixture)) {
      if (e.is_regular_file()) stdfs::permissions(e.path(), stdfs::perms(0644));
    }
    SUCCEED("wrote " + fixture.string());
  }
}

}  // namespace
}  // namespace airlock::format

// The pickle, torch.save zip and GGUF readers, on bytes made here: real
// pickles and zips from python3 (the tools that make them), and GGUF files
// written by gguf_file() below after ggml's docs/gguf.md.
#include "core/safetensors/weights.h"

#include <cstdio>
#include <cstring>
#include <string>

#include <catch2/catch.hpp>

namespace airlock::weights {
namespace {

Bytes run_python(const std::string& code) {
  const std::string cmd = "python3 -c '" + code + "'";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  Bytes out;
  std::uint8_t buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
    out.insert(out.end(), buf, buf + n);
  }
  REQUIRE(pclose(p) == 0);
  return out;
}

ReadAt reader(const Bytes& b) {
  return [&b](std::span<std::uint8_t> out, std::uint64_t offset) -> Status {
    if (offset > b.size() || out.size() > b.size() - offset) {
      return make_error(ErrorCode::kCorruption, "short");
    }
    std::memcpy(out.data(), b.data() + offset, out.size());
    return ok_status();
  };
}

void put_u32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}
void put_str(Bytes& b, std::string_view s) {
  put_u64le(b, s.size());
  append(b, as_bytes(s));
}

// A GGUF v3 file: a string KV, a string array KV, general.file_type (u32),
// then one tensor info per ggml type given, and 32 bytes of data.
Bytes gguf_file(std::optional<std::uint32_t> file_type, const std::vector<std::uint32_t>& tensor_types) {
  Bytes b;
  append(b, as_bytes("GGUF"));
  put_u32(b, 3);
  put_u64le(b, tensor_types.size());
  put_u64le(b, file_type ? 3 : 2);
  put_str(b, "general.architecture");
  put_u32(b, 8);
  put_str(b, "llama");
  put_str(b, "tokenizer.ggml.tokens");
  put_u32(b, 9);
  put_u32(b, 8);
  put_u64le(b, 3);
  for (const char* t : {"<s>", "</s>", "a"}) {
    put_str(b, t);
  }
  if (file_type) {
    put_str(b, "general.file_type");
    put_u32(b, 4);
    put_u32(b, *file_type);
  }
  for (std::size_t i = 0; i < tensor_types.size(); ++i) {
    put_str(b, "blk." + std::to_string(i) + ".weight");
    put_u32(b, 2);
    put_u64le(b, 32);
    put_u64le(b, 8);
    put_u32(b, tensor_types[i]);
    put_u64le(b, 0);
  }
  b.resize(b.size() + 32, 0);
  return b;
}

TEST_CASE("pickle_signature: real pickles of protocols 2..5, not text or safetensors", "[weights]") {
  for (int proto : {2, 3, 4, 5}) {
    const Bytes p = run_python("import pickle,sys; sys.stdout.buffer.write(pickle.dumps({\"a\":1}, protocol=" +
                               std::to_string(proto) + "))");
    auto sig = pickle_signature(p);
    REQUIRE(sig);
    CHECK(*sig == "pickle protocol " + std::to_string(proto));
  }
  CHECK_FALSE(pickle_signature(as_bytes("{\"a\": 1}")));
  const std::uint8_t other[] = {0x80, 0x07};
  CHECK_FALSE(pickle_signature(other));
}

TEST_CASE("zip_pickle_entry: a zip like torch.save's is found, a plain zip is not", "[weights]") {
  const Bytes torch = run_python(
      "import io,sys,zipfile; b=io.BytesIO(); z=zipfile.ZipFile(b,\"w\"); "
      "z.writestr(\"archive/data.pkl\", b\"\\x80\\x02}q\\x00.\"); z.writestr(\"archive/data/0\", b\"\\0\"*64); "
      "z.writestr(\"archive/version\", b\"3\\n\"); z.close(); sys.stdout.buffer.write(b.getvalue())");
  REQUIRE(is_zip(torch));
  CHECK(zip_pickle_entry(reader(torch), torch.size()) == std::optional<std::string>("archive/data.pkl"));

  // The pickle not first: found through the central directory.
  const Bytes later = run_python(
      "import io,sys,zipfile; b=io.BytesIO(); z=zipfile.ZipFile(b,\"w\"); z.writestr(\"m/version\", b\"3\"); "
      "z.writestr(\"m/data.pkl\", b\"\\x80\\x02.\"); z.close(); sys.stdout.buffer.write(b.getvalue())");
  CHECK(zip_pickle_entry(reader(later), later.size()) == std::optional<std::string>("m/data.pkl"));

  const Bytes plain = run_python(
      "import io,sys,zipfile; b=io.BytesIO(); z=zipfile.ZipFile(b,\"w\"); z.writestr(\"readme.txt\", b\"hi\"); "
      "z.close(); sys.stdout.buffer.write(b.getvalue())");
  CHECK_FALSE(zip_pickle_entry(reader(plain), plain.size()));
  // Truncated archives are no crash.
  for (std::size_t cut : {std::size_t{3}, std::size_t{29}, plain.size() / 2}) {
    Bytes part(plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(cut));
    CHECK_FALSE(zip_pickle_entry(reader(part), part.size()));
  }
}

TEST_CASE("parse_gguf: a v3 file's quantization from general.file_type or its tensors", "[weights]") {
  const Bytes q4km = gguf_file(15, {12, 12, 14, 0});
  REQUIRE(is_gguf(q4km));
  auto info = parse_gguf(q4km);
  REQUIRE(info);
  CHECK(info->version == 3);
  CHECK(info->tensor_count == 4);
  CHECK(info->kv_count == 3);
  CHECK(info->file_type == std::optional<std::uint32_t>(15));
  CHECK(info->quantization == "Q4_K_M");
  CHECK(info->tensor_types == std::map<std::string, std::uint64_t>{{"F32", 1}, {"Q4_K", 2}, {"Q6_K", 1}});

  auto q8 = parse_gguf(gguf_file(std::nullopt, {8, 8, 0}));
  REQUIRE(q8);
  CHECK(q8->quantization == "Q8_0");
  auto f16 = parse_gguf(gguf_file(1, {1}));
  REQUIRE(f16);
  CHECK(f16->quantization == "F16");
}

TEST_CASE("parse_gguf: every truncation and bad field is an error, never a crash", "[weights]") {
  const Bytes good = gguf_file(15, {12, 0});
  const std::size_t data_start = good.size() - 32;
  for (std::size_t cut = 0; cut < data_start; ++cut) {
    Bytes part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    auto info = parse_gguf(part);
    REQUIRE_FALSE(info);
    CHECK(info.error().code() == ErrorCode::kInvalidArgument);
  }
  Bytes v9 = good;
  v9[4] = 9;
  CHECK_THAT(parse_gguf(v9).error().message(), Catch::Contains("version 9 is not supported"));
  Bytes many = good;
  many[16] = 0xff;  // kv count low byte: far more KVs than the file holds
  many[23] = 0x7f;
  CHECK_THAT(parse_gguf(many).error().message(), Catch::Contains("metadata KVs"));
  Bytes bad_type = gguf_file(15, {99});
  CHECK_THAT(parse_gguf(bad_type).error().message(), Catch::Contains("unknown ggml type 99"));
  // A huge string length in the first key.
  Bytes huge = good;
  for (int i = 0; i < 8; ++i) {
    huge[24 + i] = 0xff;
  }
  CHECK_FALSE(parse_gguf(huge));
  CHECK(ggml_type_name(4) == "type 4");
  CHECK(gguf_file_type_name(15 | 1024) == "Q4_K_M");
}

}  // namespace
}  // namespace airlock::weights

// validate_safetensors: every way a header can be wrong gives an error naming
// the tensor at fault; a good header passes.
#include <string>

#include <catch2/catch.hpp>

#include "core/safetensors/safetensors.h"

namespace airlock::chunk {
namespace {

Bytes st_file(std::string_view header, std::size_t data_size) {
  Bytes file;
  put_u64le(file, header.size());
  append(file, as_bytes(header));
  file.resize(file.size() + data_size, 0x11);
  return file;
}

std::string error_of(const Bytes& file) {
  Status st = validate_safetensors(file, file.size());
  REQUIRE_FALSE(st);
  CHECK(st.error().code() == ErrorCode::kInvalidArgument);
  return st.error().message();
}

constexpr std::string_view k_good =
    R"({"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[4,8],"data_offsets":[0,64]},)"
    R"("b":{"dtype":"F32","shape":[2],"data_offsets":[64,72]},"e":{"dtype":"I8","shape":[0],"data_offsets":[72,72]},)"
    R"("q":{"dtype":"F4","shape":[3,2],"data_offsets":[72,75]}})";

TEST_CASE("validate_safetensors: a good header passes", "[safetensors]") {
  const Bytes file = st_file(k_good, 75);
  CHECK(validate_safetensors(file, file.size()));
  CHECK(safetensors_dtype_bits("BF16") == 16);
  CHECK(safetensors_dtype_bits("F8_E4M3") == 8);
  CHECK(safetensors_dtype_bits("F6_E2M3") == 6);
  CHECK(safetensors_dtype_bits("Q4") == 0);
}

TEST_CASE("validate_safetensors: each bad header names what is wrong", "[safetensors]") {
  SECTION("duplicate tensor name") {
    const std::string msg = error_of(st_file(
        R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})", 8));
    CHECK_THAT(msg, Catch::Contains("tensor \"a\" appears twice"));
  }
  SECTION("unknown dtype") {
    CHECK_THAT(error_of(st_file(R"({"w":{"dtype":"Q4","shape":[4],"data_offsets":[0,2]}})", 2)),
               Catch::Contains("tensor \"w\": unknown dtype \"Q4\""));
  }
  SECTION("shape x dtype differs from the offsets") {
    CHECK_THAT(error_of(st_file(R"({"lm_head.weight":{"dtype":"BF16","shape":[4,8],"data_offsets":[0,60]}})", 60)),
               Catch::Contains("tensor \"lm_head.weight\": shape [4, 8] x BF16 is 64 bytes, data_offsets give 60"));
  }
  SECTION("a shape that overflows 64 bits") {
    CHECK_THAT(error_of(st_file(
                   R"({"w":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", 8)),
               Catch::Contains("more than 2^64"));
  }
  SECTION("gap") {
    CHECK_THAT(error_of(st_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                                R"("b":{"dtype":"U8","shape":[4],"data_offsets":[6,10]}})", 10)),
               Catch::Contains("tensor \"b\": data_offsets [6, 10] leave a gap of 2 bytes after tensor \"a\""));
    CHECK_THAT(error_of(st_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", 6)),
               Catch::Contains("gap of 2 bytes after the header"));
  }
  SECTION("overlap") {
    CHECK_THAT(error_of(st_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                                R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", 6)),
               Catch::Contains("tensor \"b\": data_offsets [2, 6] overlap tensor \"a\""));
  }
  SECTION("outside the file") {
    CHECK_THAT(error_of(st_file(R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})", 4)),
               Catch::Contains("tensor \"a\": data_offsets [0, 8] lie outside the file's 4 data bytes"));
  }
  SECTION("bytes after the last tensor") {
    CHECK_THAT(error_of(st_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", 6)),
               Catch::Contains("2 bytes after the last tensor"));
  }
  SECTION("header over the cap") {
    Bytes file;
    put_u64le(file, 100'000'001);
    file.resize(64, ' ');
    CHECK_THAT(error_of(file), Catch::Contains("header length 100000001 is over the 100000000-byte limit"));
  }
  SECTION("header past the end of the file") {
    Bytes file;
    put_u64le(file, 1000);
    append(file, as_bytes("{}"));
    CHECK_THAT(error_of(file), Catch::Contains("runs past the end"));
  }
  SECTION("bad JSON") {
    CHECK_THAT(error_of(st_file(R"({"a":{"dtype":"U8",)", 0)), Catch::Contains("not valid JSON"));
    CHECK_THAT(error_of(st_file(R"([1,2])", 0)), Catch::Contains("does not start with '{'"));
    CHECK_THAT(error_of(st_file(std::string(100, '{'), 0)), Catch::Contains("nests deeper"));
  }
  SECTION("bad metadata") {
    CHECK_THAT(error_of(st_file(R"({"__metadata__":{"n":1}})", 0)), Catch::Contains("__metadata__ \"n\" is not a string"));
    CHECK_THAT(error_of(st_file(R"({"__metadata__":[]})", 0)), Catch::Contains("__metadata__ is not an object"));
  }
  SECTION("bad offsets and shapes") {
    CHECK_THAT(error_of(st_file(R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}})", 0)),
               Catch::Contains("not an unsigned integer"));
    CHECK_THAT(error_of(st_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}})", 0)),
               Catch::Contains("tensor \"a\": data_offsets must be"));
    CHECK_THAT(error_of(st_file(R"({"a":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}})", 1)),
               Catch::Contains("not a whole number of bytes"));
  }
}

}  // namespace
}  // namespace airlock::chunk

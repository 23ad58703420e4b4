#include "core/safetensors/safetensors.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/core.h>

namespace airlock::chunk {
namespace {

// A safetensors file: u64le header length, the header text, then data_size
// bytes of tensor data.
Bytes make_file(std::string_view header, std::size_t data_size) {
  Bytes file;
  put_u64le(file, header.size());
  append(file, as_bytes(header));
  file.resize(file.size() + data_size, 0xab);
  return file;
}

// The invariant every plan must keep: in order, no gaps, no overlaps, no
// empty segments, covering exactly [0, file_size).
void check_covers(const std::vector<Segment>& segments, std::uint64_t file_size) {
  std::uint64_t pos = 0;
  for (const Segment& s : segments) {
    CHECK(s.offset == pos);
    CHECK(s.length > 0);
    pos = s.offset + s.length;
  }
  CHECK(pos == file_size);
}

bool is_whole_file(const std::vector<Segment>& segments, std::uint64_t file_size) {
  return segments.size() == 1 && segments[0].offset == 0 && segments[0].length == file_size &&
         segments[0].dtype == DType::kOther;
}

std::vector<Segment> plan(const Bytes& file) { return plan_segments(file, file.size()); }

}  // namespace

TEST_CASE("safetensors: dtypes", "[chunk]") {
  CHECK(parse_dtype("BF16") == DType::kBF16);
  CHECK(parse_dtype("F16") == DType::kF16);
  CHECK(parse_dtype("F32") == DType::kF32);
  CHECK(parse_dtype("I8") == DType::kOther);
  CHECK(parse_dtype("F64") == DType::kOther);
  CHECK(parse_dtype("bf16") == DType::kOther);
  CHECK(parse_dtype("") == DType::kOther);
  CHECK(dtype_size(DType::kBF16) == 2);
  CHECK(dtype_size(DType::kF16) == 2);
  CHECK(dtype_size(DType::kF32) == 4);
  CHECK(dtype_size(DType::kOther) == 0);
}

TEST_CASE("safetensors: tensors sorted by offset, gaps and tail are kOther", "[chunk]") {
  const std::string header =
      R"({"b": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]},)"
      R"( "a": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]},)"
      R"( "c": {"dtype": "I64", "shape": [1], "data_offsets": [24, 32]},)"
      R"( "__metadata__": {"format": "pt"}})";
  const Bytes file = make_file(header, 40);
  const std::uint64_t h = 8 + header.size();
  REQUIRE(header_bytes_needed(file, file.size()) == h);

  const std::vector<Segment> segments = plan(file);
  check_covers(segments, file.size());
  REQUIRE(segments.size() == 6);
  CHECK((segments[0].offset == 0 && segments[0].length == h && segments[0].dtype == DType::kOther));
  CHECK((segments[1].offset == h && segments[1].length == 8 && segments[1].dtype == DType::kBF16));
  CHECK((segments[2].offset == h + 8 && segments[2].length == 8));
  CHECK(segments[2].dtype == DType::kOther);
  CHECK((segments[3].offset == h + 16 && segments[3].length == 8));
  CHECK(segments[3].dtype == DType::kF32);
  CHECK((segments[4].offset == h + 24 && segments[4].dtype == DType::kOther));
  CHECK((segments[5].offset == h + 32 && segments[5].length == 8));
  CHECK(segments[5].dtype == DType::kOther);
}

TEST_CASE("safetensors: zero-length tensors, padding and a header-only prefix", "[chunk]") {
  // Writers pad the header with spaces to 8-byte alignment; an empty tensor
  // may sit anywhere, even inside another tensor's range.
  const std::string header =
      R"({"w": {"dtype": "F16", "shape": [8], "data_offsets": [0, 16]},)"
      R"( "empty": {"dtype": "F16", "shape": [0], "data_offsets": [4, 4]}}    )";
  const Bytes file = make_file(header, 16);
  const std::uint64_t h = 8 + header.size();
  // Only the header is handed over; the plan still covers the whole file.
  const std::vector<Segment> segments = plan_segments(ByteSpan(file).first(h), file.size());
  check_covers(segments, file.size());
  REQUIRE(segments.size() == 2);
  CHECK(segments[1].dtype == DType::kF16);
  CHECK(segments[1].length == 16);
}

TEST_CASE("safetensors: a file with no tensors is header plus one gap", "[chunk]") {
  const Bytes file = make_file(R"({"__metadata__": {}})", 10);
  const std::vector<Segment> segments = plan(file);
  check_covers(segments, file.size());
  CHECK(segments.size() == 2);
  const Bytes bare = make_file("{}", 0);
  CHECK(plan(bare).size() == 1);
  check_covers(plan(bare), bare.size());
}

TEST_CASE("safetensors: header_bytes_needed", "[chunk]") {
  const Bytes file = make_file("{}", 100);
  CHECK(header_bytes_needed(file, file.size()) == 10);
  CHECK(header_bytes_needed(ByteSpan(file).first(7), file.size()) == 0);
  CHECK(header_bytes_needed(file, 9) == 0);  // header longer than the file

  Bytes huge;
  put_u64le(huge, 100'000'001);
  CHECK(header_bytes_needed(huge, 1ULL << 40) == 0);
  Bytes limit;
  put_u64le(limit, 100'000'000);
  CHECK(header_bytes_needed(limit, 1ULL << 40) == 100'000'008);
}

TEST_CASE("safetensors: anything invalid is one kOther segment", "[chunk]") {
  auto tensor = [](std::string_view offsets) {
    return fmt::format(R"({{"t": {{"dtype": "BF16", "shape": [4], "data_offsets": {}}}}})",
                       offsets);
  };
  struct Case {
    const char* what;
    std::string header;
  };
  const std::vector<Case> cases = {
      {"not json", "{\"t\": "},
      {"json array", "[1, 2]"},
      {"json string", "\"hello\""},
      {"tensor not an object", R"({"t": 5})"},
      {"missing dtype", R"({"t": {"shape": [4], "data_offsets": [0, 8]}})"},
      {"dtype not a string", R"({"t": {"dtype": 7, "data_offsets": [0, 8]}})"},
      {"missing offsets", R"({"t": {"dtype": "BF16", "shape": [4]}})"},
      {"offsets not an array", tensor("\"0-8\"")},
      {"three offsets", tensor("[0, 8, 16]")},
      {"negative offset", tensor("[-8, 8]")},
      {"float offset", tensor("[0.5, 8]")},
      {"string offset", tensor("[\"0\", 8]")},
      {"begin after end", tensor("[8, 0]")},
      {"past the data", tensor("[0, 65]")},
      {"huge offset", tensor("[0, 18446744073709551615]")},
      {"overlap",
       R"({"a": {"dtype": "F32", "data_offsets": [0, 16]},)"
       R"( "b": {"dtype": "F32", "data_offsets": [8, 24]}})"},
      {"deep nesting", "{\"t\": " + std::string(100, '[') + std::string(100, ']') + "}"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const Bytes file = make_file(c.header, 64);
    CHECK(is_whole_file(plan(file), file.size()));
  }
}

TEST_CASE("safetensors: bad lengths and short prefixes are one kOther segment", "[chunk]") {
  Bytes file = make_file(R"({"t": {"dtype": "BF16", "data_offsets": [0, 8]}})", 8);
  REQUIRE(plan(file).size() == 2);

  SECTION("length past the end of the file") {
    Bytes bad = file;
    bad[0] = 0xff;
    bad[1] = 0xff;
    CHECK(is_whole_file(plan(bad), bad.size()));
  }
  SECTION("length over 100 MB") {
    Bytes bad = file;
    bad[4] = 1;
    CHECK(is_whole_file(plan_segments(bad, 1ULL << 40), 1ULL << 40));
  }
  SECTION("prefix shorter than the header") {
    CHECK(is_whole_file(plan_segments(ByteSpan(file).first(20), file.size()), file.size()));
  }
  SECTION("file shorter than the length field") {
    const Bytes tiny = {1, 2, 3};
    CHECK(is_whole_file(plan(tiny), tiny.size()));
  }
  SECTION("empty file has nothing to chunk") {
    CHECK(plan_segments({}, 0).empty());
  }
}

}  // namespace airlock::chunk

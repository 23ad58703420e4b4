#include "core/safetensors/safetensors.h"

#include <algorithm>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace airlock::chunk {
namespace {

// The safetensors reference implementation refuses headers over 100 MB; so do
// we, which also bounds what a hostile file can make us parse.
constexpr std::uint64_t k_max_header_size = 100'000'000;
constexpr std::uint64_t k_length_prefix = 8;

// Real headers nest three deep (root, tensor, shape). Nesting is checked
// before parsing so that a header of a million '[' cannot make the JSON
// parser build a million nested values.
constexpr int k_max_json_depth = 16;

struct TensorRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  DType dtype = DType::kOther;
  std::string key;
};

std::vector<Segment> whole_file(std::uint64_t file_size) {
  // An empty file has nothing to chunk, and a zero-length segment would only
  // make callers handle an empty chunk.
  if (file_size == 0) {
    return {};
  }
  return {Segment{.offset = 0, .length = file_size, .dtype = DType::kOther}};
}

bool nesting_within(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        return false;
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

// One tensor entry: {"dtype": "BF16", "shape": [...], "data_offsets": [b, e]}.
// Only dtype and data_offsets matter for segmenting; shape is not checked.
std::optional<TensorRange> parse_tensor(const nlohmann::json& entry) {
  if (!entry.is_object()) {
    return std::nullopt;
  }
  auto dtype = entry.find("dtype");
  auto offsets = entry.find("data_offsets");
  if (dtype == entry.end() || !dtype->is_string() || offsets == entry.end() ||
      !offsets->is_array() || offsets->size() != 2) {
    return std::nullopt;
  }
  const auto& begin = (*offsets)[0];
  const auto& end = (*offsets)[1];
  // Non-negative integers parse as unsigned; anything else (negative, float,
  // string) is not a valid offset.
  if (!begin.is_number_unsigned() || !end.is_number_unsigned()) {
    return std::nullopt;
  }
  TensorRange range;
  range.begin = begin.get<std::uint64_t>();
  range.end = end.get<std::uint64_t>();
  range.dtype = parse_dtype(dtype->get_ref<const std::string&>());
  auto shape = entry.find("shape");
  range.key = dtype->get<std::string>() + '\0' + (shape != entry.end() ? shape->dump() : std::string("?"));
  return range;
}

}  // namespace

std::uint32_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kBF16:
    case DType::kF16:
      return 2;
    case DType::kF32:
      return 4;
    case DType::kOther:
      break;
  }
  return 0;
}

DType parse_dtype(std::string_view safetensors_dtype) {
  if (safetensors_dtype == "BF16") {
    return DType::kBF16;
  }
  if (safetensors_dtype == "F16") {
    return DType::kF16;
  }
  if (safetensors_dtype == "F32") {
    return DType::kF32;
  }
  return DType::kOther;
}

std::uint64_t header_bytes_needed(ByteSpan first8, std::uint64_t file_size) {
  if (first8.size() < k_length_prefix || file_size < k_length_prefix) {
    return 0;
  }
  const std::uint64_t n = get_u64le(first8.data());
  if (n > k_max_header_size || n > file_size - k_length_prefix) {
    return 0;
  }
  return k_length_prefix + n;
}

std::vector<Segment> plan_segments(ByteSpan prefix, std::uint64_t file_size) {
  const std::uint64_t header_size =
      header_bytes_needed(prefix.first(std::min<std::size_t>(prefix.size(), k_length_prefix)),
                          file_size);
  if (header_size == 0 || prefix.size() < header_size) {
    return whole_file(file_size);
  }
  const std::string_view text =
      as_chars(prefix.subspan(k_length_prefix, header_size - k_length_prefix));
  if (!nesting_within(text, k_max_json_depth)) {
    return whole_file(file_size);
  }
  const nlohmann::json header = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    return whole_file(file_size);
  }

  const std::uint64_t data_size = file_size - header_size;
  std::vector<TensorRange> tensors;
  tensors.reserve(header.size());
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      continue;
    }
    std::optional<TensorRange> range = parse_tensor(entry);
    if (!range || range->begin > range->end || range->end > data_size) {
      return whole_file(file_size);
    }
    // An empty tensor claims no bytes, so it can neither overlap another nor
    // hold a chunk; it may legally sit at any offset.
    if (range->begin != range->end) {
      range->key = name + '\0' + range->key;
      tensors.push_back(*range);
    }
  }
  std::sort(tensors.begin(), tensors.end(), [](const TensorRange& a, const TensorRange& b) {
    return a.begin < b.begin;
  });

  std::vector<Segment> segments;
  segments.reserve(2 * tensors.size() + 2);
  segments.push_back(Segment{.offset = 0, .length = header_size, .dtype = DType::kOther});
  std::uint64_t covered = 0;  // relative to the start of the data section
  for (const TensorRange& t : tensors) {
    if (t.begin < covered) {
      return whole_file(file_size);  // overlaps the previous tensor
    }
    if (t.begin > covered) {
      segments.push_back(Segment{
          .offset = header_size + covered, .length = t.begin - covered, .dtype = DType::kOther});
    }
    segments.push_back(
        Segment{.offset = header_size + t.begin, .length = t.end - t.begin, .dtype = t.dtype, .tensor = true,
                .key = t.key});
    covered = t.end;
  }
  if (covered < data_size) {
    segments.push_back(Segment{
        .offset = header_size + covered, .length = data_size - covered, .dtype = DType::kOther});
  }
  return segments;
}

}  // namespace airlock::chunk

#include "core/safetensors/safetensors.h"

#include <algorithm>
#include <optional>
#include <set>
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

namespace airlock::chunk {
namespace {

struct DtypeBits {
  std::string_view name;
  std::uint32_t bits;
};

// The dtypes of the safetensors format (the Rust crate's `Dtype`).
constexpr DtypeBits k_safetensors_dtypes[] = {
    {"BOOL", 8},    {"F4", 4},       {"F6_E2M3", 6},  {"F6_E3M2", 6}, {"U8", 8},   {"I8", 8},   {"F8_E5M2", 8},
    {"F8_E4M3", 8}, {"F8_E8M0", 8},  {"I16", 16},     {"U16", 16},    {"F16", 16}, {"BF16", 16}, {"I32", 32},
    {"U32", 32},    {"F32", 32},     {"F64", 64},     {"I64", 64},    {"U64", 64}, {"C64", 64},
};

std::unexpected<Error> st_invalid(std::string message) {
  return std::unexpected(Error(ErrorCode::kInvalidArgument, std::move(message)));
}

std::string st_quoted(const std::string& name) { return nlohmann::json(name).dump(); }

struct CheckedTensor {
  std::string name;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

}  // namespace

std::uint32_t safetensors_dtype_bits(std::string_view dtype) {
  for (const DtypeBits& d : k_safetensors_dtypes) {
    if (d.name == dtype) {
      return d.bits;
    }
  }
  return 0;
}

Status validate_safetensors(ByteSpan prefix, std::uint64_t file_size) {
  if (file_size < k_length_prefix || prefix.size() < k_length_prefix) {
    return st_invalid(fmt::format("{} bytes: too short for a safetensors header (8-byte length first)", file_size));
  }
  const std::uint64_t n = get_u64le(prefix.data());
  if (n > k_max_header_size) {
    return st_invalid(fmt::format("header length {} is over the {}-byte limit", n, k_max_header_size));
  }
  if (n > file_size - k_length_prefix) {
    return st_invalid(fmt::format("header length {} runs past the end of the {}-byte file", n, file_size));
  }
  if (prefix.size() < k_length_prefix + n) {
    return st_invalid("header truncated");
  }
  const std::string_view text = as_chars(prefix.subspan(k_length_prefix, n));
  if (!text.starts_with('{')) {
    return st_invalid("header does not start with '{'");
  }
  if (!nesting_within(text, k_max_json_depth)) {
    return st_invalid(fmt::format("header JSON nests deeper than {}", k_max_json_depth));
  }
  // nlohmann keeps the last of two equal keys; the callback sees each key
  // first, so a duplicate (two tensors of one name) is caught.
  std::vector<std::set<std::string>> keys_at_depth;
  std::string duplicate;
  bool duplicate_tensor = false;
  const nlohmann::json::parser_callback_t on_event = [&](int depth, nlohmann::json::parse_event_t event,
                                                         nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      keys_at_depth.resize(static_cast<std::size_t>(depth) + 1);
      keys_at_depth[static_cast<std::size_t>(depth)].clear();
    } else if (event == E::key && depth >= 1 && static_cast<std::size_t>(depth) <= keys_at_depth.size()) {
      auto& seen = keys_at_depth[static_cast<std::size_t>(depth) - 1];
      if (!seen.insert(parsed.get<std::string>()).second && duplicate.empty()) {
        duplicate = parsed.get<std::string>();
        duplicate_tensor = depth == 1;
      }
    }
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text, on_event);
  } catch (const nlohmann::json::exception& e) {
    return st_invalid(fmt::format("header is not valid JSON: {}", e.what()));
  }
  if (!duplicate.empty()) {
    return st_invalid(duplicate_tensor ? fmt::format("tensor {} appears twice", st_quoted(duplicate))
                                       : fmt::format("key {} appears twice in one object", st_quoted(duplicate)));
  }
  if (!header.is_object()) {
    return st_invalid("header is not a JSON object");
  }
  const std::uint64_t data_size = file_size - k_length_prefix - n;
  std::vector<CheckedTensor> tensors;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) {
        return st_invalid("__metadata__ is not an object of strings");
      }
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) {
          return st_invalid(fmt::format("__metadata__ {} is not a string", st_quoted(key)));
        }
      }
      continue;
    }
    const std::string who = fmt::format("tensor {}", st_quoted(name));
    if (!entry.is_object()) {
      return st_invalid(fmt::format("{}: not an object", who));
    }
    const auto dtype = entry.find("dtype");
    if (dtype == entry.end() || !dtype->is_string()) {
      return st_invalid(fmt::format("{}: no dtype string", who));
    }
    const std::string& dtype_name = dtype->get_ref<const std::string&>();
    const std::uint32_t bits = safetensors_dtype_bits(dtype_name);
    if (bits == 0) {
      return st_invalid(fmt::format("{}: unknown dtype {}", who, st_quoted(dtype_name)));
    }
    const auto shape = entry.find("shape");
    if (shape == entry.end() || !shape->is_array()) {
      return st_invalid(fmt::format("{}: no shape array", who));
    }
    // Elements times bits, checked for overflow: a hostile shape must not
    // wrap around to the byte length it claims.
    unsigned __int128 total_bits = bits;
    std::string dims;
    for (const auto& d : *shape) {
      if (!d.is_number_unsigned()) {
        return st_invalid(fmt::format("{}: shape {} has a dimension that is not an unsigned integer", who, shape->dump()));
      }
      total_bits *= d.get<std::uint64_t>();
      if (total_bits > (static_cast<unsigned __int128>(1) << 70)) {
        total_bits = static_cast<unsigned __int128>(1) << 70;  // saturate: larger than any file
      }
      dims += (dims.empty() ? "" : ", ") + std::to_string(d.get<std::uint64_t>());
    }
    const auto offsets = entry.find("data_offsets");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned()) {
      return st_invalid(fmt::format("{}: data_offsets must be [begin, end], two unsigned integers", who));
    }
    const std::uint64_t begin = (*offsets)[0].get<std::uint64_t>();
    const std::uint64_t end = (*offsets)[1].get<std::uint64_t>();
    if (end < begin) {
      return st_invalid(fmt::format("{}: data_offsets [{}, {}] end before they begin", who, begin, end));
    }
    if (total_bits % 8 != 0) {
      return st_invalid(fmt::format("{}: shape [{}] x {} is not a whole number of bytes", who, dims, dtype_name));
    }
    const unsigned __int128 bytes = total_bits / 8;
    if (bytes != end - begin) {
      return st_invalid(fmt::format("{}: shape [{}] x {} is {} bytes, data_offsets give {}", who, dims, dtype_name,
                                    bytes >= (static_cast<unsigned __int128>(1) << 64)
                                        ? std::string("more than 2^64")
                                        : std::to_string(static_cast<std::uint64_t>(bytes)),
                                    end - begin));
    }
    if (end > data_size) {
      return st_invalid(fmt::format("{}: data_offsets [{}, {}] lie outside the file's {} data bytes", who, begin, end,
                                    data_size));
    }
    tensors.push_back(CheckedTensor{name, begin, end});
  }
  std::sort(tensors.begin(), tensors.end(), [](const CheckedTensor& a, const CheckedTensor& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  const CheckedTensor* previous = nullptr;
  for (const CheckedTensor& t : tensors) {
    if (t.begin > covered) {
      return st_invalid(fmt::format("tensor {}: data_offsets [{}, {}] leave a gap of {} bytes after {}", st_quoted(t.name),
                                    t.begin, t.end, t.begin - covered,
                                    previous ? fmt::format("tensor {}", st_quoted(previous->name))
                                             : std::string("the header")));
    }
    if (t.begin < covered) {
      return st_invalid(fmt::format("tensor {}: data_offsets [{}, {}] overlap tensor {}", st_quoted(t.name), t.begin, t.end,
                                    st_quoted(previous->name)));
    }
    covered = t.end;
    previous = &t;
  }
  if (covered != data_size) {
    return st_invalid(fmt::format("{} bytes after the last tensor's data belong to no tensor", data_size - covered));
  }
  return ok_status();
}

}  // namespace airlock::chunk

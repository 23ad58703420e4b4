#include "core/safetensors/weights.h"

#include <algorithm>
#include <cstring>

#include <fmt/core.h>

namespace airlock::weights {
namespace {

// Caps on what a GGUF header may make us read: real files have a few
// hundred KVs and at most tens of thousands of tensors.
constexpr std::uint64_t k_gguf_max_kvs = 1u << 20;
constexpr std::uint64_t k_gguf_max_tensors = 1u << 22;
constexpr std::uint64_t k_gguf_max_string = 64u << 20;
constexpr std::uint32_t k_gguf_max_dims = 8;  // ggml has 4; leave room
constexpr std::uint64_t k_zip_max_central_dir = 64u << 20;

std::unexpected<Error> gguf_bad(std::string message) {
  return std::unexpected(Error(ErrorCode::kInvalidArgument, "GGUF: " + std::move(message)));
}

// Sequential little-endian reads through a small buffer, every one checked
// against the file's size.
class GgufReader {
 public:
  GgufReader(const ReadAt& read, std::uint64_t size) : m_read(read), m_size(size) {}
  std::uint64_t pos() const { return m_pos; }
  std::uint64_t left() const { return m_size - m_pos; }

  Status bytes(std::span<std::uint8_t> out, std::string_view what) {
    if (out.size() > left()) {
      return gguf_bad(fmt::format("truncated at byte {} (reading {}; the file is {} bytes)", m_pos, what, m_size));
    }
    TRY(m_read(out, m_pos));
    m_pos += out.size();
    return ok_status();
  }
  Status skip(std::uint64_t n, std::string_view what) {
    if (n > left()) {
      return gguf_bad(fmt::format("truncated at byte {} (reading {}; the file is {} bytes)", m_pos, what, m_size));
    }
    m_pos += n;
    return ok_status();
  }
  Result<std::uint32_t> u32(std::string_view what) {
    std::uint8_t b[4];
    TRY(bytes(b, what));
    return get_u32le(b);
  }
  Result<std::uint64_t> u64(std::string_view what) {
    std::uint8_t b[8];
    TRY(bytes(b, what));
    return get_u64le(b);
  }
  Result<std::string> string(std::string_view what) {
    ASSIGN_OR_RETURN(std::uint64_t n, u64(what));
    if (n > k_gguf_max_string || n > left()) {
      return gguf_bad(fmt::format("{}: string of {} bytes at byte {} runs past the file or the {}-byte cap", what, n,
                                  m_pos, k_gguf_max_string));
    }
    std::string s(static_cast<std::size_t>(n), '\0');
    TRY(bytes(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(s.data()), s.size()), what));
    return s;
  }

 private:
  const ReadAt& m_read;
  std::uint64_t m_size;
  std::uint64_t m_pos = 0;
};

// GGUF value types (ggml docs/gguf.md, gguf_metadata_value_type).
enum : std::uint32_t {
  k_u8 = 0, k_i8 = 1, k_u16 = 2, k_i16 = 3, k_u32 = 4, k_i32 = 5, k_f32 = 6, k_bool = 7,
  k_string = 8, k_array = 9, k_u64 = 10, k_i64 = 11, k_f64 = 12,
};

std::uint64_t scalar_size(std::uint32_t type) {
  switch (type) {
    case k_u8: case k_i8: case k_bool: return 1;
    case k_u16: case k_i16: return 2;
    case k_u32: case k_i32: case k_f32: return 4;
    case k_u64: case k_i64: case k_f64: return 8;
    default: return 0;
  }
}

Status skip_value(GgufReader& r, std::uint32_t type, const std::string& key, int depth) {
  if (const std::uint64_t n = scalar_size(type); n != 0) {
    return r.skip(n, key);
  }
  if (type == k_string) {
    ASSIGN_OR_RETURN(std::uint64_t len, r.u64(key));
    if (len > k_gguf_max_string) {
      return gguf_bad(fmt::format("KV \"{}\": string of {} bytes over the cap", key, len));
    }
    return r.skip(len, key);
  }
  if (type == k_array) {
    if (depth > 2) {
      return gguf_bad(fmt::format("KV \"{}\": arrays nested too deep", key));
    }
    ASSIGN_OR_RETURN(std::uint32_t elem, r.u32(key));
    ASSIGN_OR_RETURN(std::uint64_t count, r.u64(key));
    if (const std::uint64_t n = scalar_size(elem); n != 0) {
      if (count > r.left() / n) {
        return gguf_bad(fmt::format("KV \"{}\": array of {} elements runs past the end of the file", key, count));
      }
      return r.skip(count * n, key);
    }
    // Strings and arrays take at least 8 bytes each: a count beyond that
    // is truncated before any loop runs it.
    if (elem != k_string && elem != k_array) {
      return gguf_bad(fmt::format("KV \"{}\": unknown array element type {}", key, elem));
    }
    if (count > r.left() / 8) {
      return gguf_bad(fmt::format("KV \"{}\": array of {} elements runs past the end of the file", key, count));
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      TRY(skip_value(r, elem, key, depth + 1));
    }
    return ok_status();
  }
  return gguf_bad(fmt::format("KV \"{}\": unknown value type {}", key, type));
}

// ggml_type (ggml.h); the removed ones (4, 5, 31-33, 36-38) stay unnamed.
constexpr const char* k_ggml_types[] = {
    "F32",     "F16",    "Q4_0",    "Q4_1",  nullptr, nullptr, "Q5_0",   "Q5_1",   "Q8_0",    "Q8_1",
    "Q2_K",    "Q3_K",   "Q4_K",    "Q5_K",  "Q6_K",  "Q8_K",  "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
    "IQ4_NL",  "IQ3_S",  "IQ2_S",   "IQ4_XS", "I8",   "I16",   "I32",    "I64",    "F64",     "IQ1_M",
    "BF16",    nullptr,  nullptr,   nullptr, "TQ1_0", "TQ2_0", nullptr,  nullptr,  nullptr,   "MXFP4",
};

// llama_ftype (llama.h), LLAMA_FTYPE_MOSTLY_*; the removed ones unnamed.
constexpr const char* k_file_types[] = {
    "F32",     "F16",     "Q4_0",    "Q4_1",   "Q4_1_SOME_F16", nullptr,  nullptr,   "Q8_0",   "Q5_0",   "Q5_1",
    "Q2_K",    "Q3_K_S",  "Q3_K_M",  "Q3_K_L", "Q4_K_S",        "Q4_K_M", "Q5_K_S",  "Q5_K_M", "Q6_K",   "IQ2_XXS",
    "IQ2_XS",  "Q2_K_S",  "IQ3_XS",  "IQ3_XXS", "IQ1_S",        "IQ4_NL", "IQ3_S",   "IQ3_M",  "IQ2_S",  "IQ2_M",
    "IQ4_XS",  "IQ1_M",   "BF16",    nullptr,  nullptr,         nullptr,  "TQ1_0",   "TQ2_0",  "MXFP4_MOE",
};

Result<std::uint32_t> read_file_type(GgufReader& r, std::uint32_t type, const std::string& key) {
  switch (type) {
    case k_u32:
    case k_i32: return r.u32(key);
    case k_u8: case k_i8: {
      std::uint8_t b[1];
      TRY(r.bytes(b, key));
      return b[0];
    }
    case k_u16: case k_i16: {
      std::uint8_t b[2];
      TRY(r.bytes(b, key));
      return static_cast<std::uint32_t>(b[0] | (b[1] << 8));
    }
    case k_u64: case k_i64: {
      ASSIGN_OR_RETURN(std::uint64_t v, r.u64(key));
      return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, UINT32_MAX));
    }
    default:
      return gguf_bad(fmt::format("KV \"{}\" must be an integer (type {})", key, type));
  }
}

}  // namespace

std::string ggml_type_name(std::uint32_t type) {
  if (type < std::size(k_ggml_types) && k_ggml_types[type] != nullptr) {
    return k_ggml_types[type];
  }
  return fmt::format("type {}", type);
}

std::string gguf_file_type_name(std::uint32_t file_type) {
  // Bit 1024 is LLAMA_FTYPE_GUESSED: the type was inferred, not recorded.
  const std::uint32_t base = file_type & ~1024u;
  if (base < std::size(k_file_types) && k_file_types[base] != nullptr) {
    return k_file_types[base];
  }
  return fmt::format("file type {}", file_type);
}

std::optional<std::string> pickle_signature(ByteSpan head) {
  if (head.size() >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5) {
    return fmt::format("pickle protocol {}", head[1]);
  }
  return std::nullopt;
}

bool is_zip(ByteSpan head) {
  return head.size() >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
}

bool is_gguf(ByteSpan head) {
  return head.size() >= 4 && std::memcmp(head.data(), "GGUF", 4) == 0;
}

namespace {

bool is_pickle_entry(std::string_view name) { return name == "data.pkl" || name.ends_with(".pkl"); }

}  // namespace

std::optional<std::string> zip_pickle_entry(const ReadAt& read, std::uint64_t size) {
  // The first local header: torch.save writes ARCHIVE/data.pkl first.
  std::uint8_t local[30];
  if (size >= sizeof local && read(local, 0)) {
    const std::uint32_t name_len = local[26] | (local[27] << 8);
    if (get_u32le(local) == 0x04034b50 && name_len > 0 && 30u + name_len <= size) {
      std::string name(name_len, '\0');
      if (read(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(name.data()), name.size()), 30) &&
          is_pickle_entry(name)) {
        return name;
      }
    }
  }
  // The central directory, through the end record (22 bytes + a comment of
  // at most 65535) in the last bytes of the file.
  const std::uint64_t tail_size = std::min<std::uint64_t>(size, 22 + 65535);
  Bytes tail(static_cast<std::size_t>(tail_size));
  if (tail_size < 22 || !read(tail, size - tail_size)) {
    return std::nullopt;
  }
  for (std::size_t i = tail.size() - 22 + 1; i-- > 0;) {
    if (get_u32le(tail.data() + i) != 0x06054b50) {
      continue;
    }
    const std::uint64_t cd_size = get_u32le(tail.data() + i + 12);
    const std::uint64_t cd_offset = get_u32le(tail.data() + i + 16);
    if (cd_size > k_zip_max_central_dir || cd_offset > size || cd_size > size - cd_offset) {
      return std::nullopt;  // zip64 (0xffffffff) or damaged: the first local header decided
    }
    Bytes cd(static_cast<std::size_t>(cd_size));
    if (!read(cd, cd_offset)) {
      return std::nullopt;
    }
    std::size_t p = 0;
    while (p + 46 <= cd.size() && get_u32le(cd.data() + p) == 0x02014b50) {
      const std::size_t name_len = cd[p + 28] | (cd[p + 29] << 8);
      const std::size_t extra_len = cd[p + 30] | (cd[p + 31] << 8);
      const std::size_t comment_len = cd[p + 32] | (cd[p + 33] << 8);
      if (p + 46 + name_len > cd.size()) {
        break;
      }
      std::string name(reinterpret_cast<const char*>(cd.data() + p + 46), name_len);
      if (is_pickle_entry(name)) {
        return name;
      }
      p += 46 + name_len + extra_len + comment_len;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

Result<GgufInfo> parse_gguf(const ReadAt& read, std::uint64_t size) {
  GgufReader r(read, size);
  GgufInfo info;
  std::uint8_t magic[4];
  TRY(r.bytes(magic, "the magic"));
  if (!is_gguf(magic)) {
    return gguf_bad("no GGUF magic");
  }
  ASSIGN_OR_RETURN(info.version, r.u32("the version"));
  if (info.version != 2 && info.version != 3) {
    return gguf_bad(fmt::format("version {} is not supported (2 or 3)", info.version));
  }
  ASSIGN_OR_RETURN(info.tensor_count, r.u64("the tensor count"));
  ASSIGN_OR_RETURN(info.kv_count, r.u64("the metadata KV count"));
  if (info.kv_count > k_gguf_max_kvs || info.kv_count > r.left() / 12) {
    return gguf_bad(fmt::format("{} metadata KVs: more than the file or the cap of {} can hold", info.kv_count,
                                k_gguf_max_kvs));
  }
  if (info.tensor_count > k_gguf_max_tensors) {
    return gguf_bad(fmt::format("{} tensors: over the cap of {}", info.tensor_count, k_gguf_max_tensors));
  }
  for (std::uint64_t i = 0; i < info.kv_count; ++i) {
    ASSIGN_OR_RETURN(std::string key, r.string(fmt::format("the key of KV #{}", i)));
    ASSIGN_OR_RETURN(std::uint32_t type, r.u32(fmt::format("the type of KV \"{}\"", key)));
    if (key == "general.file_type") {
      ASSIGN_OR_RETURN(std::uint32_t ft, read_file_type(r, type, key));
      info.file_type = ft;
      continue;
    }
    TRY(skip_value(r, type, key, 0));
  }
  if (info.tensor_count > r.left() / 24) {
    return gguf_bad(fmt::format("{} tensor infos: more than the rest of the file can hold", info.tensor_count));
  }
  for (std::uint64_t i = 0; i < info.tensor_count; ++i) {
    ASSIGN_OR_RETURN(std::string name, r.string(fmt::format("the name of tensor #{}", i)));
    const std::string who = fmt::format("tensor \"{}\"", name);
    ASSIGN_OR_RETURN(std::uint32_t dims, r.u32(who));
    if (dims == 0 || dims > k_gguf_max_dims) {
      return gguf_bad(fmt::format("{}: {} dimensions", who, dims));
    }
    TRY(r.skip(8ull * dims, who));
    ASSIGN_OR_RETURN(std::uint32_t type, r.u32(who));
    if (type >= std::size(k_ggml_types) || k_ggml_types[type] == nullptr) {
      return gguf_bad(fmt::format("{}: unknown ggml type {}", who, type));
    }
    TRY(r.skip(8, who));  // offset into the data section
    ++info.tensor_types[ggml_type_name(type)];
  }
  if (info.file_type) {
    info.quantization = gguf_file_type_name(*info.file_type);
  } else if (!info.tensor_types.empty()) {
    auto most = std::max_element(info.tensor_types.begin(), info.tensor_types.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    info.quantization = most->first;
  } else {
    info.quantization = "unknown";
  }
  return info;
}

Result<GgufInfo> parse_gguf(ByteSpan file) {
  const ReadAt read = [file](std::span<std::uint8_t> out, std::uint64_t offset) -> Status {
    if (offset > file.size() || out.size() > file.size() - offset) {
      return make_error(ErrorCode::kCorruption, "read past the end");
    }
    std::memcpy(out.data(), file.data() + offset, out.size());
    return ok_status();
  };
  return parse_gguf(read, file.size());
}

}  // namespace airlock::weights

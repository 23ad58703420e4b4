#pragma once
// Reads a safetensors header (8-byte little-endian length N, then N bytes of
// JSON: {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {...}}; data offsets are relative to the byte after the
// header) and turns the file into segments on which chunking restarts, so no
// chunk ever straddles two tensors.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/error.h"

namespace airlock::chunk {

enum class DType : std::uint8_t { kOther = 0, kBF16, kF16, kF32 };

// Element size in bytes of a dtype the codecs understand (0 for kOther).
std::uint32_t dtype_size(DType dtype);
DType parse_dtype(std::string_view safetensors_dtype);  // "BF16" -> kBF16, "I8" -> kOther

struct Segment {
  std::uint64_t offset = 0;  // absolute offset in the file
  std::uint64_t length = 0;
  DType dtype = DType::kOther;  // dtype of the tensor data; kOther for header and gaps
  bool tensor = false;          // one tensor's data (of any dtype), not the header or a gap
  // A tensor's name, dtype and shape ("NAME\0BF16\0[4096,4096]"): what must
  // match for a delta to XOR it with a base tensor. Empty when not a tensor.
  std::string key;
};

// Segments covering [0, file_size) in order, with no gaps and no overlaps:
// the header (8 + N bytes), then each tensor's data range sorted by offset,
// with any unclaimed bytes between or after them as kOther segments.
// `prefix` must hold at least the first 8 + N bytes of the file (or the whole
// file if shorter). A file that is not valid safetensors (bad length, bad JSON,
// overlapping or out-of-range offsets, header over 100 MB) gives one kOther
// segment covering the whole file; it is never an error.
std::vector<Segment> plan_segments(ByteSpan prefix, std::uint64_t file_size);

// How many bytes of prefix plan_segments needs for this file: 8 + N if the
// first 8 bytes give a plausible N (<= 100 MB and <= file_size - 8), else 0.
std::uint64_t header_bytes_needed(ByteSpan first8, std::uint64_t file_size);

}  // namespace airlock::chunk

namespace airlock::chunk {

// Bits per element of a safetensors dtype ("BF16" -> 16, "F4" -> 4), 0 for a
// dtype the format does not define.
std::uint32_t safetensors_dtype_bits(std::string_view dtype);

// Checks a safetensors header as the reference implementation does before
// loading, and more: `prefix` holds at least the first 8 + N bytes. The
// header length is at most 100 MB and within the file; the JSON is an
// object starting with '{', with no duplicate key; `__metadata__`, if any,
// maps strings to strings; every tensor has a known dtype, a shape of
// unsigned dimensions and data_offsets [begin, end] whose length is
// shape x dtype; sorted by offset the tensors start at 0 and follow each
// other with no gap or overlap up to the file's last byte. kInvalidArgument
// naming the tensor at fault (`tensor "lm_head.weight": shape [4, 8] x BF16
// is 64 bytes, data_offsets give 60`); the caller adds the file's name.
Status validate_safetensors(ByteSpan prefix, std::uint64_t file_size);

}  // namespace airlock::chunk

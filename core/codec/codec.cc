// Stored forms (part of docs/FORMAT.md; they must never change meaning):
//
// kStore (0): the plaintext bytes, unchanged. The stored size equals the
//   plaintext size.
//
// kZstd (1): exactly one zstd frame (RFC 8878) with the content size field
//   present and equal to the plaintext size; nothing before or after it.
//
// kBytePlane (2): for 16- and 32-bit floats, the bytes regrouped by their
//   position within an element so that the sign/exponent bytes, which repeat
//   a lot, are compressed apart from the near-random low mantissa bytes.
//
//     offset 0  u8  E      element size, 2 or 4
//     offset 1  u8  phase  0 .. E-1: position within its element of the
//                          chunk's first byte (the chunk may start mid-element)
//     then E planes, for k = 0 .. E-1 in order:
//               u8  mode   0 = stored, 1 = zstd
//               u32 len    little-endian, number of bytes that follow
//               len bytes  plane k: stored, the plane's bytes themselves;
//                          zstd, one zstd frame as for kZstd whose content
//                          size is the plane's size
//     nothing follows the last plane.
//
//   The byte at chunk position i (0-based) has position (phase + i) mod E
//   within its element; plane k holds, in chunk order, every byte whose
//   position is k. For a chunk of n bytes plane k therefore holds exactly
//   |{ i < n : (phase + i) mod E = k }| bytes. Elements are little-endian, so
//   for BF16 plane 1 holds sign + high exponent bits and plane 0 the low
//   exponent bit + mantissa.
//
// A decoder rejects (kCorruption) any stream that does not decode to exactly
// the expected plaintext size or that carries bytes past its end.

#include "core/codec/codec.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

// For ZSTD_c_literalCompressionMode (see ZstdParams). Only enum values are
// used from the experimental part of the header; the functions called are
// all in zstd's stable API.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "core/codec/planes.h"

namespace airlock::codec {
namespace {

constexpr std::size_t k_byteplane_header = 2;
constexpr std::size_t k_plane_header = 5;  // mode + u32 length
constexpr std::uint8_t k_plane_stored = 0;
constexpr std::uint8_t k_plane_zstd = 1;

// zstd settings for a byte plane. The exponent plane of float weights is a
// stream of a few dozen distinct byte values with few long repeats: nearly
// all of zstd's gain there is its Huffman coding of literals, and the match
// finder mostly burns time. So planes run zstd's fast strategy with a huge
// acceleration (a negative level), a tiny hash table and long minimum
// matches, with Huffman-coded literals forced back on (negative levels turn
// them off by default). On the exponent plane of bf16 normal(0, 0.02)
// weights, in 150 KB planes on the 2-vCPU Xeon of bench/RESULTS.md, this gave
// 0.339 of the input at ~830 MB/s (decoding ~1.5 GB/s), against 0.348 at
// ~370 MB/s (decoding ~1.1 GB/s) for level 1 with a 2^8 hash table. Repeats
// the match finder skips are still caught by chunk deduplication.
//
// ZSTD_c_literalCompressionMode belongs to zstd's experimental API: should
// the installed library refuse it, planes fall back to level 1 with a 2^8
// hash table. Either way the output is an ordinary zstd frame; decoding does
// not depend on how it was made.
struct ZstdParams {
  int level = 3;
  int hash_log = 0;   // 0: zstd's default for the level
  int min_match = 0;  // 0: zstd's default
  bool force_literals = false;
};
constexpr ZstdParams k_plane_params{
    .level = -1000, .hash_log = 6, .min_match = 7, .force_literals = true};
constexpr ZstdParams k_plane_fallback{.level = 1, .hash_log = 8};

bool set_params(ZSTD_CCtx* cctx, const ZstdParams& params) {
  // Parameters stick to the context across frames; reset them so a plane's
  // settings never leak into a whole-chunk frame or the other way round.
  if (ZSTD_isError(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, params.level)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_hashLog, params.hash_log)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_minMatch, params.min_match)) ||
      // The decoder insists on the content size; zstd's default is to write
      // it, but the format must not depend on a default.
      ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1))) {
    return false;
  }
  return !params.force_literals ||
         !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_literalCompressionMode,
                                              ZSTD_ps_enable));
}

// Compresses src as one zstd frame (content size recorded) into dst from
// offset `at`. dst first grows to at + the worst-case bound, and zstd is told
// exactly that much room, so the scratch use it makes of spare output space
// stays inside memory we own. On success dst ends at the frame's end and the
// frame's size is returned; on failure dst is cut back to `at` and 0 is
// returned (a zstd frame is never empty).
std::size_t zstd_compress_at(ZSTD_CCtx* cctx, ByteSpan src, Bytes& dst, std::size_t at) {
  const std::size_t bound = ZSTD_compressBound(src.size());
  dst.resize(at + bound);
  const std::size_t written = ZSTD_compress2(cctx, dst.data() + at, bound, src.data(), src.size());
  if (ZSTD_isError(written)) {
    dst.resize(at);
    return 0;
  }
  dst.resize(at + written);
  return written;
}

// Decompresses `frame`, which must be exactly one zstd frame declaring
// exactly dst.size() bytes of content, into dst. `what` names the frame in
// errors ("zstd chunk", "plane 1").
Status zstd_decompress(ZSTD_DCtx* dctx, ByteSpan frame, std::span<std::uint8_t> dst,
                       std::string_view what) {
  // The magic check rejects skippable frames, which would otherwise pass as
  // frames of zero content.
  if (frame.size() < 4 || get_u32le(frame.data()) != ZSTD_MAGICNUMBER) {
    return make_error(ErrorCode::kCorruption, "{}: not a zstd frame", what);
  }
  const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content == ZSTD_CONTENTSIZE_ERROR) {
    return make_error(ErrorCode::kCorruption, "{}: malformed zstd frame header", what);
  }
  if (content == ZSTD_CONTENTSIZE_UNKNOWN) {
    return make_error(ErrorCode::kCorruption, "{}: zstd frame does not declare its size", what);
  }
  if (content != dst.size()) {
    return make_error(ErrorCode::kCorruption, "{}: zstd frame declares {} bytes, expected {}",
                      what, content, dst.size());
  }
  const std::size_t frame_size = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frame_size)) {
    return make_error(ErrorCode::kCorruption, "{}: truncated or malformed zstd frame: {}", what,
                      ZSTD_getErrorName(frame_size));
  }
  if (frame_size != frame.size()) {
    return make_error(ErrorCode::kCorruption, "{}: {} trailing bytes after the zstd frame", what,
                      frame.size() - frame_size);
  }
  const std::size_t got =
      ZSTD_decompressDCtx(dctx, dst.data(), dst.size(), frame.data(), frame.size());
  if (ZSTD_isError(got)) {
    return make_error(ErrorCode::kCorruption, "{}: zstd: {}", what, ZSTD_getErrorName(got));
  }
  if (got != dst.size()) {
    return make_error(ErrorCode::kCorruption, "{}: zstd frame decoded to {} bytes, expected {}",
                      what, got, dst.size());
  }
  return ok_status();
}

// True when a plane is so close to uniformly random that no entropy coder
// could save even 1.5% of it: the Shannon entropy of a sample of its bytes
// (about 8192 of them, evenly spaced) is above 7.88 bits per byte. With 8192
// samples the estimate of a uniform source comes out about 0.02 bits low, so
// random planes still clear the threshold. Deterministic in the data, so
// codec choices stay reproducible.
bool looks_incompressible(ByteSpan plane) {
  constexpr std::size_t k_samples = 8192;
  if (plane.size() < k_samples) {
    return false;  // small planes: just try zstd
  }
  const std::size_t stride = plane.size() / k_samples;
  std::array<std::uint32_t, 256> counts{};
  std::size_t samples = 0;
  for (std::size_t i = 0; i < plane.size(); i += stride) {
    ++counts[plane[i]];
    ++samples;
  }
  double entropy = 0;
  const double total = static_cast<double>(samples);
  for (std::uint32_t c : counts) {
    if (c != 0) {
      const double p = c / total;
      entropy -= p * std::log2(p);
    }
  }
  return entropy > 7.88;
}

}  // namespace

const char* codec_name(Codec codec) {
  switch (codec) {
    case Codec::kStore:
      return "store";
    case Codec::kZstd:
      return "zstd";
    case Codec::kBytePlane:
      return "byteplane";
    case Codec::kSolid:
      return "solid";
    case Codec::kMember:
      return "member";
    case Codec::kXor:
      return "xor";
    case Codec::kBase:
      return "base";
  }
  return "unknown";
}

// ---------------------------------------------------------------- Encoder

struct Encoder::State {
  ZSTD_CCtx* cctx = nullptr;
  int level = 3;
  std::array<Bytes, 4> planes;  // the chunk split into planes, reused

  ~State() { ZSTD_freeCCtx(cctx); }

  // Fills out with the kBytePlane form of `in`. False if that is impossible
  // (a plane too large for its u32 length, or zstd failing).
  bool byteplane(ByteSpan in, std::uint32_t elem, std::uint32_t phase, Bytes& out) {
    const std::size_t n = in.size();
    if (n / elem >= std::numeric_limits<std::uint32_t>::max()) {
      return false;
    }
    std::uint8_t* dst[4] = {};
    for (std::uint32_t k = 0; k < elem; ++k) {
      planes[k].resize(plane_size(n, elem, phase, k));
      dst[k] = planes[k].data();
    }
    split_planes(in.data(), n, elem, phase, dst);

    // Reserving the worst case up front keeps the appends below from
    // reallocating; the bound is only address space until it is touched.
    out.clear();
    out.reserve(k_byteplane_header + elem * k_plane_header + ZSTD_compressBound(n));
    out.push_back(static_cast<std::uint8_t>(elem));
    out.push_back(static_cast<std::uint8_t>(phase));
    bool params_set = false;
    for (std::uint32_t k = 0; k < elem; ++k) {
      const Bytes& plane = planes[k];
      const std::size_t header_at = out.size();
      out.resize(header_at + k_plane_header);
      std::size_t packed = 0;
      // Near-random mantissa planes do not shrink; storing them keeps the
      // decoder from running zstd over bytes it cannot win on. A sampled
      // byte histogram says so for a fraction of the cost of trying zstd.
      if (!plane.empty() && !looks_incompressible(plane)) {
        if (!params_set) {
          if (!set_params(cctx, k_plane_params) && !set_params(cctx, k_plane_fallback)) {
            return false;
          }
          params_set = true;
        }
        packed = zstd_compress_at(cctx, plane, out, header_at + k_plane_header);
        if (packed == 0) {
          return false;
        }
        if (packed >= plane.size()) {
          out.resize(header_at + k_plane_header);  // no gain: store it instead
          packed = 0;
        }
      }
      if (packed == 0) {
        append(out, plane);
      }
      out[header_at] = packed != 0 ? k_plane_zstd : k_plane_stored;
      const std::uint32_t len = static_cast<std::uint32_t>(packed != 0 ? packed : plane.size());
      for (int b = 0; b < 4; ++b) {
        out[header_at + 1 + b] = static_cast<std::uint8_t>(len >> (8 * b));
      }
    }
    return true;
  }
};

Encoder::Encoder(int zstd_level) : m_state(std::make_unique<State>()) {
  m_state->cctx = ZSTD_createCCtx();
  m_state->level = zstd_level;
}

Encoder::~Encoder() = default;

Codec Encoder::encode(ByteSpan in, const ChunkHint& hint, Bytes& out) {
  State& s = *m_state;
  const std::uint32_t elem = chunk::dtype_size(hint.dtype);
  bool encoded = false;
  Codec codec = Codec::kStore;
  if (s.cctx != nullptr && !in.empty()) {
    if (elem == 2 || elem == 4) {
      encoded = s.byteplane(in, elem, hint.element_phase % elem, out);
      codec = Codec::kBytePlane;
    } else {
      out.clear();
      encoded = set_params(s.cctx, ZstdParams{.level = s.level}) &&
                zstd_compress_at(s.cctx, in, out, 0) != 0;
      codec = Codec::kZstd;
    }
  }
  if (!encoded || out.size() >= in.size()) {
    out.assign(in.begin(), in.end());
    return Codec::kStore;
  }
  return codec;
}

// ---------------------------------------------------------------- Decoder

struct Decoder::State {
  ZSTD_DCtx* dctx = nullptr;
  std::array<Bytes, 4> planes;  // decompressed planes, exactly their expected size

  ~State() { ZSTD_freeDCtx(dctx); }

  Status byteplane(ByteSpan stored, std::span<std::uint8_t> out) {
    if (stored.size() < k_byteplane_header) {
      return make_error(ErrorCode::kCorruption, "byteplane: truncated header");
    }
    const std::uint32_t elem = stored[0];
    const std::uint32_t phase = stored[1];
    if (elem != 2 && elem != 4) {
      return make_error(ErrorCode::kCorruption, "byteplane: element size {} is not 2 or 4", elem);
    }
    if (phase >= elem) {
      return make_error(ErrorCode::kCorruption, "byteplane: phase {} with element size {}",
                        phase, elem);
    }
    const std::size_t n = out.size();
    std::size_t pos = k_byteplane_header;
    const std::uint8_t* src[4] = {};
    for (std::uint32_t k = 0; k < elem; ++k) {
      if (stored.size() - pos < k_plane_header) {
        return make_error(ErrorCode::kCorruption, "byteplane: plane {} header truncated", k);
      }
      const std::uint8_t mode = stored[pos];
      const std::size_t len = get_u32le(stored.data() + pos + 1);
      pos += k_plane_header;
      if (len > stored.size() - pos) {
        return make_error(ErrorCode::kCorruption,
                          "byteplane: plane {} claims {} bytes, only {} remain", k, len,
                          stored.size() - pos);
      }
      const ByteSpan body = stored.subspan(pos, len);
      pos += len;
      const std::size_t expected = plane_size(n, elem, phase, k);
      if (mode == k_plane_stored) {
        if (len != expected) {
          return make_error(ErrorCode::kCorruption,
                            "byteplane: stored plane {} holds {} bytes, expected {}", k, len,
                            expected);
        }
        src[k] = body.data();
      } else if (mode == k_plane_zstd) {
        planes[k].resize(expected);
        TRY(zstd_decompress(dctx, body, planes[k], fmt::format("byteplane: plane {}", k)));
        src[k] = planes[k].data();
      } else {
        return make_error(ErrorCode::kCorruption, "byteplane: plane {} has unknown mode {}", k,
                          mode);
      }
    }
    if (pos != stored.size()) {
      return make_error(ErrorCode::kCorruption, "byteplane: {} trailing bytes",
                        stored.size() - pos);
    }
    // Every plane checked out: interleave them into the output in one pass.
    join_planes(src, n, elem, phase, out.data());
    return ok_status();
  }
};

Decoder::Decoder() : m_state(std::make_unique<State>()) { m_state->dctx = ZSTD_createDCtx(); }

Decoder::~Decoder() = default;

Status Decoder::decode(Codec codec, ByteSpan stored, std::span<std::uint8_t> out) {
  State& s = *m_state;
  switch (codec) {
    case Codec::kStore:
      if (stored.size() != out.size()) {
        return make_error(ErrorCode::kCorruption, "store: {} bytes stored, expected {}",
                          stored.size(), out.size());
      }
      if (!out.empty()) {
        std::memcpy(out.data(), stored.data(), out.size());
      }
      return ok_status();
    case Codec::kZstd:
    case Codec::kBytePlane:
      if (s.dctx == nullptr) {
        return make_error(ErrorCode::kIOError, "cannot allocate a zstd decompression context");
      }
      if (codec == Codec::kZstd) {
        return zstd_decompress(s.dctx, stored, out, "zstd chunk");
      }
      return s.byteplane(stored, out);
    case Codec::kSolid:
    case Codec::kMember:
      break;  // a solid block is one zstd frame, decoded as kZstd by whoever knows its size
    case Codec::kXor:
    case Codec::kBase:
      break;  // decoded by the bundle reader, which holds the base bytes

  }
  return make_error(ErrorCode::kCorruption, "unknown codec {}", static_cast<int>(codec));
}

}  // namespace airlock::codec

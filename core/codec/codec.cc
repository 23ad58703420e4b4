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

#include <zstd.h>

namespace airlock::codec {
namespace {

constexpr std::size_t k_byteplane_header = 2;
constexpr std::size_t k_plane_header = 5;  // mode + u32 length
constexpr std::uint8_t k_plane_stored = 0;
constexpr std::uint8_t k_plane_zstd = 1;

// zstd settings. Byte planes of float weights are mostly short, scattered
// repeats: with zstd's default hash table (2^14+ entries at level 1) the fast
// strategy spends its time on matches that barely pay. A 2^8-entry table makes
// it lean on entropy coding instead: on the exponent plane of bf16
// normal(0, 0.02) weights level 1 + hashLog 8 gave 0.341 of the input at
// ~650 MB/s against 0.368 at ~270 MB/s with defaults (levels 2 and 3 were
// worse and slower still). 2^6 was faster again but lost long repeats (a
// 70 KB block repeated stopped compressing at all); 2^8 kept them.
struct ZstdParams {
  int level = 3;
  int hash_log = 0;  // 0: zstd's default for the level
};
constexpr ZstdParams k_plane_params{.level = 1, .hash_log = 8};

// Byte i of a chunk belongs to plane (phase + i) % elem. plane_first is the
// chunk index of plane k's first byte, plane_size the number of its bytes in
// an n-byte chunk.
std::size_t plane_first(std::uint32_t elem, std::uint32_t phase, std::uint32_t k) {
  return (k + elem - phase) % elem;
}
std::size_t plane_size(std::size_t n, std::uint32_t elem, std::uint32_t phase, std::uint32_t k) {
  const std::size_t first = plane_first(elem, phase, k);
  return first < n ? (n - first + elem - 1) / elem : 0;
}

// Gathers every elem-th byte starting at `first`. Templated on the stride so
// the compiler sees a constant step.
template <std::size_t Elem>
void gather(const std::uint8_t* in, std::size_t n, std::size_t first, std::uint8_t* plane) {
  for (std::size_t i = first; i < n; i += Elem) {
    *plane++ = in[i];
  }
}
template <std::size_t Elem>
void scatter(const std::uint8_t* plane, std::size_t n, std::size_t first, std::uint8_t* out) {
  for (std::size_t i = first; i < n; i += Elem) {
    out[i] = *plane++;
  }
}

// Compresses src into dst as one zstd frame with its content size recorded.
// dst is sized to the worst-case bound first, so zstd never writes past
// memory we own; on return dst holds exactly the frame. False on failure.
bool zstd_compress(ZSTD_CCtx* cctx, const ZstdParams& params, ByteSpan src, Bytes& dst) {
  // Parameters stick to the context across frames; reset them so a plane's
  // settings never leak into a whole-chunk frame or the other way round.
  if (ZSTD_isError(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, params.level)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_hashLog, params.hash_log)) ||
      // The decoder insists on the content size; zstd's default is to write
      // it, but the format must not depend on a default.
      ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1))) {
    return false;
  }
  dst.resize(ZSTD_compressBound(src.size()));
  const std::size_t written = ZSTD_compress2(cctx, dst.data(), dst.size(), src.data(), src.size());
  if (ZSTD_isError(written)) {
    return false;
  }
  dst.resize(written);
  return true;
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
  return ok();
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
  }
  return "unknown";
}

// ---------------------------------------------------------------- Encoder

// True when a plane is so close to uniformly random that no entropy coder
// could save even 1.5% of it: the Shannon entropy of a sample of its bytes
// (every 4th byte, at least 4 KiB of samples) is above 7.88 bits per byte.
// Deterministic in the data, so codec choices stay reproducible.
static bool looks_incompressible(ByteSpan plane) {
  constexpr std::size_t k_stride = 4;
  if (plane.size() < 4096 * k_stride) {
    return false;  // small planes: just try zstd
  }
  std::array<std::uint32_t, 256> counts{};
  std::size_t samples = 0;
  for (std::size_t i = 0; i < plane.size(); i += k_stride) {
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

struct Encoder::State {
  ZSTD_CCtx* cctx = nullptr;
  int level = 3;
  Bytes plane;   // one gathered plane
  Bytes packed;  // that plane's zstd frame

  ~State() { ZSTD_freeCCtx(cctx); }

  // Fills out with the kBytePlane form of `in`. False if that is impossible
  // (a plane too large for its u32 length, or zstd failing).
  bool byteplane(ByteSpan in, std::uint32_t elem, std::uint32_t phase, Bytes& out) {
    const std::size_t n = in.size();
    if (n / elem >= std::numeric_limits<std::uint32_t>::max()) {
      return false;
    }
    out.clear();
    out.reserve(k_byteplane_header + elem * k_plane_header + n);
    out.push_back(static_cast<std::uint8_t>(elem));
    out.push_back(static_cast<std::uint8_t>(phase));
    for (std::uint32_t k = 0; k < elem; ++k) {
      const std::size_t first = plane_first(elem, phase, k);
      plane.resize(plane_size(n, elem, phase, k));
      if (elem == 2) {
        gather<2>(in.data(), n, first, plane.data());
      } else {
        gather<4>(in.data(), n, first, plane.data());
      }
      // Near-random mantissa planes do not shrink; storing them keeps the
      // decoder from running zstd over bytes it cannot win on. A sampled
      // byte histogram says so for a fraction of the cost of trying zstd.
      bool use_zstd = false;
      if (!looks_incompressible(plane)) {
        if (!zstd_compress(cctx, k_plane_params, plane, packed)) {
          return false;
        }
        use_zstd = packed.size() < plane.size();
      }
      const Bytes& body = use_zstd ? packed : plane;
      out.push_back(use_zstd ? k_plane_zstd : k_plane_stored);
      put_u32le(out, static_cast<std::uint32_t>(body.size()));
      append(out, body);
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
      encoded = zstd_compress(s.cctx, ZstdParams{.level = s.level}, in, out);
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
  Bytes plane;  // one decompressed plane, exactly its expected size

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
      ByteSpan bytes;
      if (mode == k_plane_stored) {
        if (len != expected) {
          return make_error(ErrorCode::kCorruption,
                            "byteplane: stored plane {} holds {} bytes, expected {}", k, len,
                            expected);
        }
        bytes = body;
      } else if (mode == k_plane_zstd) {
        plane.resize(expected);
        TRY(zstd_decompress(dctx, body, plane, fmt::format("byteplane: plane {}", k)));
        bytes = plane;
      } else {
        return make_error(ErrorCode::kCorruption, "byteplane: plane {} has unknown mode {}", k,
                          mode);
      }
      const std::size_t first = plane_first(elem, phase, k);
      if (elem == 2) {
        scatter<2>(bytes.data(), n, first, out.data());
      } else {
        scatter<4>(bytes.data(), n, first, out.data());
      }
    }
    if (pos != stored.size()) {
      return make_error(ErrorCode::kCorruption, "byteplane: {} trailing bytes",
                        stored.size() - pos);
    }
    return ok();
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
      return ok();
    case Codec::kZstd:
    case Codec::kBytePlane:
      if (s.dctx == nullptr) {
        return make_error(ErrorCode::kIOError, "cannot allocate a zstd decompression context");
      }
      if (codec == Codec::kZstd) {
        return zstd_decompress(s.dctx, stored, out, "zstd chunk");
      }
      return s.byteplane(stored, out);
  }
  return make_error(ErrorCode::kCorruption, "unknown codec {}", static_cast<int>(codec));
}

}  // namespace airlock::codec

#include "core/codec/planes.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace airlock::codec {
namespace {

// Layout of an n-byte chunk starting at `phase`: `lead` bytes finish a
// partial element (positions phase .. E-1), then `whole` complete elements,
// then `tail` bytes (positions 0 .. tail-1) of one more. Plane k's bytes for
// the whole elements start at index skip[k]: 1 if plane k got a byte from
// the leading partial element, else 0.
struct Layout {
  std::size_t lead = 0;
  std::size_t whole = 0;
  std::size_t tail = 0;
};

Layout layout_of(std::size_t n, std::uint32_t elem, std::uint32_t phase) {
  Layout l;
  l.lead = phase == 0 ? 0 : elem - phase;
  if (l.lead >= n) {
    l.lead = n;
    return l;
  }
  l.whole = (n - l.lead) / elem;
  l.tail = (n - l.lead) % elem;
  return l;
}

std::size_t skip_of(std::uint32_t phase, std::uint32_t k) { return phase != 0 && k >= phase ? 1 : 0; }

#if defined(__SSE2__)
// 16 elements per step: 32 or 64 input bytes, 16 bytes to each plane.
void split_whole_sse2(const std::uint8_t* in, std::size_t count, std::uint32_t elem,
                      std::uint8_t* const* p) {
  const __m128i low8 = _mm_set1_epi16(0x00ff);
  const __m128i low8_32 = _mm_set1_epi32(0x000000ff);
  std::size_t e = 0;
  if (elem == 2) {
    for (; e + 16 <= count; e += 16) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 2 * e));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 2 * e + 16));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p[0] + e),
                       _mm_packus_epi16(_mm_and_si128(a, low8), _mm_and_si128(b, low8)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p[1] + e),
                       _mm_packus_epi16(_mm_srli_epi16(a, 8), _mm_srli_epi16(b, 8)));
    }
  } else {
    for (; e + 16 <= count; e += 16) {
      const __m128i v[4] = {
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 4 * e)),
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 4 * e + 16)),
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 4 * e + 32)),
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 4 * e + 48)),
      };
      // Byte k of each 32-bit lane, narrowed 32 -> 16 -> 8 bits. The values
      // are at most 255, so the saturating packs never saturate.
      auto byte_k = [&](const __m128i x, int k) {
        switch (k) {
          case 0: return _mm_and_si128(x, low8_32);
          case 1: return _mm_and_si128(_mm_srli_epi32(x, 8), low8_32);
          case 2: return _mm_and_si128(_mm_srli_epi32(x, 16), low8_32);
          default: return _mm_srli_epi32(x, 24);
        }
      };
      for (int k = 0; k < 4; ++k) {
        const __m128i lo = _mm_packs_epi32(byte_k(v[0], k), byte_k(v[1], k));
        const __m128i hi = _mm_packs_epi32(byte_k(v[2], k), byte_k(v[3], k));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(p[k] + e), _mm_packus_epi16(lo, hi));
      }
    }
  }
  for (; e < count; ++e) {
    for (std::uint32_t k = 0; k < elem; ++k) {
      p[k][e] = in[elem * e + k];
    }
  }
}

void join_whole_sse2(const std::uint8_t* const* p, std::size_t count, std::uint32_t elem,
                     std::uint8_t* out) {
  std::size_t e = 0;
  if (elem == 2) {
    for (; e + 16 <= count; e += 16) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[0] + e));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[1] + e));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * e), _mm_unpacklo_epi8(a, b));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * e + 16), _mm_unpackhi_epi8(a, b));
    }
  } else {
    for (; e + 16 <= count; e += 16) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[0] + e));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[1] + e));
      const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[2] + e));
      const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[3] + e));
      const __m128i ab_lo = _mm_unpacklo_epi8(a, b);
      const __m128i ab_hi = _mm_unpackhi_epi8(a, b);
      const __m128i cd_lo = _mm_unpacklo_epi8(c, d);
      const __m128i cd_hi = _mm_unpackhi_epi8(c, d);
      std::uint8_t* o = out + 4 * e;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm_unpacklo_epi16(ab_lo, cd_lo));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 16), _mm_unpackhi_epi16(ab_lo, cd_lo));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 32), _mm_unpacklo_epi16(ab_hi, cd_hi));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 48), _mm_unpackhi_epi16(ab_hi, cd_hi));
    }
  }
  for (; e < count; ++e) {
    for (std::uint32_t k = 0; k < elem; ++k) {
      out[elem * e + k] = p[k][e];
    }
  }
}
#endif

}  // namespace

std::size_t plane_size(std::size_t n, std::uint32_t elem, std::uint32_t phase, std::uint32_t k) {
  const std::size_t first = (k + elem - phase) % elem;
  return first < n ? (n - first + elem - 1) / elem : 0;
}

void split_planes_scalar(const std::uint8_t* in, std::size_t n, std::uint32_t elem,
                         std::uint32_t phase, std::uint8_t* const* planes) {
  std::size_t fill[4] = {0, 0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t k = static_cast<std::uint32_t>((phase + i) % elem);
    planes[k][fill[k]++] = in[i];
  }
}

void join_planes_scalar(const std::uint8_t* const* planes, std::size_t n, std::uint32_t elem,
                        std::uint32_t phase, std::uint8_t* out) {
  std::size_t used[4] = {0, 0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t k = static_cast<std::uint32_t>((phase + i) % elem);
    out[i] = planes[k][used[k]++];
  }
}

void split_planes(const std::uint8_t* in, std::size_t n, std::uint32_t elem, std::uint32_t phase,
                  std::uint8_t* const* planes) {
#if defined(__SSE2__)
  const Layout l = layout_of(n, elem, phase);
  for (std::size_t i = 0; i < l.lead; ++i) {
    planes[phase + i][0] = in[i];
  }
  // An empty plane may be a null pointer (an empty vector's data()); it is
  // never indexed below, and offsetting null would be undefined.
  std::uint8_t* mid[4] = {};
  for (std::uint32_t k = 0; k < elem; ++k) {
    mid[k] = planes[k] == nullptr ? nullptr : planes[k] + skip_of(phase, k);
  }
  split_whole_sse2(in + l.lead, l.whole, elem, mid);
  const std::uint8_t* last = in + l.lead + elem * l.whole;
  for (std::size_t k = 0; k < l.tail; ++k) {
    mid[k][l.whole] = last[k];
  }
#else
  split_planes_scalar(in, n, elem, phase, planes);
#endif
}

void join_planes(const std::uint8_t* const* planes, std::size_t n, std::uint32_t elem,
                 std::uint32_t phase, std::uint8_t* out) {
#if defined(__SSE2__)
  const Layout l = layout_of(n, elem, phase);
  for (std::size_t i = 0; i < l.lead; ++i) {
    out[i] = planes[phase + i][0];
  }
  const std::uint8_t* mid[4] = {};
  for (std::uint32_t k = 0; k < elem; ++k) {
    mid[k] = planes[k] == nullptr ? nullptr : planes[k] + skip_of(phase, k);
  }
  join_whole_sse2(mid, l.whole, elem, out + l.lead);
  std::uint8_t* last = out + l.lead + elem * l.whole;
  for (std::size_t k = 0; k < l.tail; ++k) {
    last[k] = mid[k][l.whole];
  }
#else
  join_planes_scalar(planes, n, elem, phase, out);
#endif
}

}  // namespace airlock::codec

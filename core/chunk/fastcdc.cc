#include "core/chunk/fastcdc.h"

#include <algorithm>
#include <array>
#include <bit>

namespace airlock::chunk {
namespace {

// The gear table and the masks define where chunks are cut, and so which
// chunks two releases share: changing either silently breaks deduplication
// against every archive already written. Both are part of the format and must
// never change.
//
// Gear table: 256 successive outputs of splitmix64 (Steele, Lea, Flood 2014)
// started from the state 0x4169726c6f636b21 (the ASCII bytes of "Airlock!").
constexpr std::uint64_t k_gear_seed = 0x4169726c6f636b21ULL;

constexpr std::uint64_t splitmix64_next(std::uint64_t& state) {
  state += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::array<std::uint64_t, 256> make_gear_table() {
  std::array<std::uint64_t, 256> table{};
  std::uint64_t state = k_gear_seed;
  for (auto& entry : table) {
    entry = splitmix64_next(state);
  }
  return table;
}

constexpr std::array<std::uint64_t, 256> k_gear = make_gear_table();

// Spot checks so that a change to the generator fails to compile rather than
// silently moving every cut point.
static_assert(k_gear[0] == 0x0a68eb65a63ddfbbULL);
static_assert(k_gear[255] == 0xc9b86463d25c7dd2ULL);

// Mask one-bits live in the top 48 bits of the hash. With `hash << 1` bit b of
// the hash depends on the last b + 1 bytes only, so low bits would make the cut
// decision look at a tiny window; spreading the bits over bits 16..63 (as the
// paper does) makes it depend on the last 64 bytes, and spacing them apart
// keeps the mask from testing a run of correlated neighbouring bits.
constexpr int k_mask_span = 48;

// A mask with `ones` one-bits (clamped to 1..48) at bit positions
// 63 - floor(i * 48 / ones) for i = 0 .. ones-1: bit 63 always set, the rest
// evenly spaced downwards, all distinct because ones <= 48.
constexpr std::uint64_t spread_mask(int ones) {
  ones = std::clamp(ones, 1, k_mask_span);
  std::uint64_t mask = 0;
  for (int i = 0; i < ones; ++i) {
    mask |= std::uint64_t{1} << (63 - (i * k_mask_span) / ones);
  }
  return mask;
}

static_assert(std::popcount(spread_mask(20)) == 20);
static_assert(std::popcount(spread_mask(48)) == 48);

// Scans [begin, end) and returns the index of the first byte after which
// (hash & mask) == 0, or `end` if there is none; the cut then lies just past
// that byte. The hash is carried in and out so the two mask regions form one
// continuous rolling hash.
inline std::size_t scan(const std::uint8_t* p, std::size_t begin, std::size_t end,
                        std::uint64_t mask, std::uint64_t& hash) {
  std::uint64_t h = hash;
  // The loop is bound by the latency of the hash chain (unrolling it by four
  // measured no faster). h + h instead of h << 1 lets the compiler fold shift
  // and add into one lea.
  for (std::size_t i = begin; i < end; ++i) {
    h = h + h + k_gear[p[i]];
    if ((h & mask) == 0) {
      hash = h;
      return i;
    }
  }
  hash = h;
  return end;
}

}  // namespace

std::size_t fastcdc_cut(ByteSpan data, const ChunkParams& params) {
  // Inconsistent parameters are clamped rather than rejected: max wins over
  // min (a cut never lies past max_size), and a zero max would make callers
  // loop forever on empty chunks.
  const std::size_t max_size = std::max<std::uint32_t>(params.max_size, 1);
  const std::size_t min_size = std::min<std::size_t>(params.min_size, max_size);
  const std::size_t size = data.size();
  if (size <= min_size) {
    return size;
  }
  const std::size_t limit = std::min(size, max_size);
  // Normalized chunking (level 2): the strict mask up to the average size
  // makes early cuts rare, the loose one after it makes late cuts likely, so
  // chunk sizes bunch around avg_size.
  const std::size_t normal = std::clamp<std::size_t>(params.avg_size, min_size, limit);
  const int bits = std::bit_width(std::max<std::uint32_t>(params.avg_size, 1)) - 1;
  const std::uint64_t mask_s = spread_mask(bits + 2);
  const std::uint64_t mask_l = spread_mask(bits - 2);

  // The first min_size bytes can never hold a cut, so FastCDC does not hash
  // them at all: the hash starts from zero at min_size.
  const std::uint8_t* p = data.data();
  std::uint64_t hash = 0;
  std::size_t at = scan(p, min_size, normal, mask_s, hash);
  if (at < normal) {
    return at + 1;
  }
  at = scan(p, normal, limit, mask_l, hash);
  return at < limit ? at + 1 : limit;
}

}  // namespace airlock::chunk

#pragma once
// The test seam for randomness. Every random byte Airlock uses comes from
// libsodium's randombytes (core/crypto/sodium.h: random_bytes, the ephemeral
// X25519 key of seal_to, the nonce of xchacha_seal, key pairs), so a test
// that swaps libsodium's source for a seeded stream makes a whole bundle
// reproducible without a single branch in production code.
//
// Only tests include this file; the programs never do, so no command line,
// environment variable or build option can turn it on in them.
//
// While a DeterministicRandom is alive, the n-th request for bytes (counting
// from 0) gets randombytes_buf_deterministic(size, seed = "airlock-test" ||
// u32 SEED || u64 n || zeros): a fixed function of the seed and of the order
// of the requests. The destructor puts the system source back. Not for use
// from several threads at once.

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include <sodium.h>

namespace airlock::test {

class DeterministicRandom {
 public:
  explicit DeterministicRandom(std::uint32_t seed) {
    [[maybe_unused]] const int ready = sodium_init();  // before the swap: init stirs the system source
    m_previous = randombytes_implementation_name();
    s_seed = seed;
    s_count = 0;
    randombytes_set_implementation(&s_impl);
  }
  ~DeterministicRandom() {
    randombytes_set_implementation(m_previous == "internal" ? &randombytes_internal_implementation
                                                            : &randombytes_sysrandom_implementation);
    randombytes_stir();
  }
  DeterministicRandom(const DeterministicRandom&) = delete;
  DeterministicRandom& operator=(const DeterministicRandom&) = delete;

  // How many requests for random bytes were answered so far.
  static std::uint64_t requests() { return s_count; }

 private:
  static void buf(void* out, std::size_t size) {
    std::array<unsigned char, randombytes_SEEDBYTES> seed{};
    static constexpr char k_tag[] = "airlock-test";
    std::memcpy(seed.data(), k_tag, sizeof k_tag - 1);
    for (int i = 0; i < 4; ++i) seed[12 + i] = static_cast<unsigned char>(s_seed >> (8 * i));
    for (int i = 0; i < 8; ++i) seed[16 + i] = static_cast<unsigned char>(s_count >> (8 * i));
    ++s_count;
    randombytes_buf_deterministic(out, size, seed.data());
  }
  static std::uint32_t random() {
    std::uint32_t v = 0;
    buf(&v, sizeof v);
    return v;
  }
  static const char* name() { return "airlock-test-deterministic"; }

  static inline std::uint32_t s_seed = 0;
  static inline std::uint64_t s_count = 0;
  static inline randombytes_implementation s_impl = {name, random, nullptr, nullptr, buf, nullptr};
  std::string m_previous;
};

}  // namespace airlock::test

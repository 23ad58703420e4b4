#pragma once
// AES-256-GCM frames through OpenSSL EVP. The caller supplies the nonce
// (12 bytes, unique per key: see docs/FORMAT.md for how the bundle derives
// it) and the associated data that binds a frame to its place.
// Not thread-safe per object; use one per thread.

#include <array>
#include <cstdint>
#include <span>

#include "core/base/bytes.h"
#include "core/base/error.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace airlock::crypto {

inline constexpr std::size_t k_aead_key_size = 32;
inline constexpr std::size_t k_aead_nonce_size = 12;
inline constexpr std::size_t k_aead_tag_size = 16;

using AeadKey = std::array<std::uint8_t, k_aead_key_size>;
using AeadNonce = std::array<std::uint8_t, k_aead_nonce_size>;

class Aead {
 public:
  explicit Aead(const AeadKey& key);
  ~Aead();
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;

  // out = ciphertext || tag; out.size() == plain.size() + k_aead_tag_size.
  void seal(const AeadNonce& nonce, ByteSpan aad, ByteSpan plain, Bytes& out);
  // Writes plain.size() == sealed.size() - tag bytes into `plain` (which must
  // be exactly that size). kCorruption if authentication fails.
  Status open(const AeadNonce& nonce, ByteSpan aad, ByteSpan sealed, std::span<std::uint8_t> plain);

 private:
  AeadKey m_key;
  EVP_CIPHER_CTX* m_ctx;
};

}  // namespace airlock::crypto

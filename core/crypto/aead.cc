#include "core/crypto/aead.h"

#include <cstdlib>
#include <limits>

#include <openssl/evp.h>
#include <sodium.h>

namespace airlock::crypto {

namespace {
const EVP_CIPHER* aes_gcm() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}
}  // namespace

Aead::Aead(const AeadKey& key) : m_key(key), m_ctx(EVP_CIPHER_CTX_new()) {
  if (m_ctx == nullptr || aes_gcm() == nullptr) {
    std::abort();
  }
}

Aead::~Aead() {
  EVP_CIPHER_CTX_free(m_ctx);
  sodium_memzero(m_key.data(), m_key.size());
}

void Aead::seal(const AeadNonce& nonce, ByteSpan aad, ByteSpan plain, Bytes& out) {
  out.resize(plain.size() + k_aead_tag_size);
  int len = 0;
  bool ok = EVP_EncryptInit_ex2(m_ctx, aes_gcm(), m_key.data(), nonce.data(), nullptr) == 1 &&
            EVP_EncryptUpdate(m_ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(m_ctx, out.data(), &len, plain.data(), static_cast<int>(plain.size())) == 1 &&
            EVP_EncryptFinal_ex(m_ctx, out.data() + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(m_ctx, EVP_CTRL_GCM_GET_TAG, k_aead_tag_size,
                                out.data() + plain.size()) == 1;
  if (!ok) {
    std::abort();  // encryption with a valid key cannot fail short of a broken library
  }
}

Status Aead::open(const AeadNonce& nonce, ByteSpan aad, ByteSpan sealed,
                  std::span<std::uint8_t> plain) {
  if (sealed.size() < k_aead_tag_size || plain.size() != sealed.size() - k_aead_tag_size ||
      sealed.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return make_error(ErrorCode::kCorruption, "encrypted frame has the wrong size ({} bytes)",
                      sealed.size());
  }
  std::size_t body = sealed.size() - k_aead_tag_size;
  Bytes tag(sealed.begin() + static_cast<std::ptrdiff_t>(body), sealed.end());
  int len = 0;
  bool ok = EVP_DecryptInit_ex2(m_ctx, aes_gcm(), m_key.data(), nonce.data(), nullptr) == 1 &&
            EVP_DecryptUpdate(m_ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(m_ctx, plain.data(), &len, sealed.data(), static_cast<int>(body)) == 1 &&
            EVP_CIPHER_CTX_ctrl(m_ctx, EVP_CTRL_GCM_SET_TAG, k_aead_tag_size, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(m_ctx, plain.data() + len, &len) == 1;
  if (!ok) {
    sodium_memzero(plain.data(), plain.size());
    return make_error(ErrorCode::kCorruption, "authentication failed (AES-256-GCM tag mismatch)");
  }
  return ok_status();
}

}  // namespace airlock::crypto

#include "core/crypto/sha1.h"

#include <cstdlib>

#include <openssl/evp.h>

namespace airlock::crypto {

Sha1::Sha1() : m_ctx(EVP_MD_CTX_new()) {
  if (m_ctx == nullptr || EVP_DigestInit_ex(m_ctx, EVP_sha1(), nullptr) != 1) {
    std::abort();  // out of memory or a broken OpenSSL: nothing sensible to do
  }
}

Sha1::~Sha1() { EVP_MD_CTX_free(m_ctx); }

void Sha1::update(ByteSpan data) { EVP_DigestUpdate(m_ctx, data.data(), data.size()); }

Sha1Digest Sha1::finish() {
  Sha1Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(m_ctx, out.data(), &len);
  EVP_DigestInit_ex(m_ctx, EVP_sha1(), nullptr);
  return out;
}

}  // namespace airlock::crypto

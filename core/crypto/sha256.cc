#include "core/crypto/sha256.h"

#include <cstdlib>

#include <openssl/evp.h>

namespace airlock::crypto {

namespace {
const EVP_MD* sha256_md() {
  // Fetch once: EVP_sha256() goes through the default provider on each call.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}
}  // namespace

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
  if (m_ctx == nullptr || EVP_DigestInit_ex2(m_ctx, sha256_md(), nullptr) != 1) {
    std::abort();  // out of memory or a broken OpenSSL: nothing sensible to do
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(m_ctx); }

void Sha256::update(ByteSpan data) { EVP_DigestUpdate(m_ctx, data.data(), data.size()); }

Digest Sha256::finish() {
  Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(m_ctx, out.data(), &len);
  EVP_DigestInit_ex2(m_ctx, sha256_md(), nullptr);
  return out;
}

Digest sha256(ByteSpan data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

std::string sha256_hex(ByteSpan data) {
  Digest d = sha256(data);
  return to_hex(d);
}

}  // namespace airlock::crypto

#include "core/crypto/pem.h"

#include <memory>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace airlock::crypto {

Result<std::string> ed25519_public_key_pem(const SignPublicKey& key) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()), &EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!pkey || !bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) {
    return make_error(ErrorCode::kIOError, "OpenSSL could not encode an Ed25519 public key as PEM");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  if (n <= 0 || data == nullptr) {
    return make_error(ErrorCode::kIOError, "OpenSSL could not encode an Ed25519 public key as PEM");
  }
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace airlock::crypto

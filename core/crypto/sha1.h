#pragma once
// SHA-1 through OpenSSL's EVP, for names others chose, never for security:
// the git blob id huggingface_hub gives a non-LFS file (installer/targets/).
// Not thread-safe per object.

#include <array>
#include <cstdint>

#include "core/base/bytes.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace airlock::crypto {

using Sha1Digest = std::array<std::uint8_t, 20>;

class Sha1 {
 public:
  Sha1();
  ~Sha1();
  Sha1(const Sha1&) = delete;
  Sha1& operator=(const Sha1&) = delete;

  void update(ByteSpan data);
  Sha1Digest finish();  // resets the object for reuse

 private:
  EVP_MD_CTX* m_ctx;
};

}  // namespace airlock::crypto

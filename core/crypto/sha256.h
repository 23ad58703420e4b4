#pragma once
// SHA-256 through OpenSSL's EVP (SHA-NI where the CPU has it).
// Not thread-safe per object; cheap to create one per thread.

#include <array>
#include <cstdint>
#include <string>

#include "core/base/bytes.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace airlock::crypto {

using Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(ByteSpan data);
  Digest finish();  // resets the object for reuse

 private:
  EVP_MD_CTX* m_ctx;
};

Digest sha256(ByteSpan data);
std::string sha256_hex(ByteSpan data);

}  // namespace airlock::crypto

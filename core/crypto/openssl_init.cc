#include "core/crypto/openssl_init.h"

#include <openssl/crypto.h>

namespace airlock::crypto {

Status init_openssl() {
  // NO_LOAD_CONFIG runs OpenSSL's one-time configuration step as "nothing to
  // load", so no later (implicit or explicit) LOAD_CONFIG request reads a file.
  if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr) != 1) {
    return make_error(ErrorCode::kIOError, "OpenSSL (libcrypto) failed to initialise");
  }
  return ok_status();
}

}  // namespace airlock::crypto

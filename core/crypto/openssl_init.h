#pragma once
// OpenSSL's initialisation, done once, early, by both programs (cli::run_app)
// before anything else touches libcrypto.
//
// Left to itself, libcrypto initialises on first use and then reads
// openssl.cnf (OPENSSL_CONF, else the OPENSSLDIR compiled into the library),
// which may load provider and engine modules with dlopen. The static
// installer must never dlopen anything (the modules would belong to another
// OpenSSL, or not exist), and neither program wants a host's configuration to
// change how SHA-256 or AES-GCM behave. So the configuration is never read:
// only the built-in default provider serves us. In the bundler this holds for
// libcurl's TLS too (its later OPENSSL_init_ssl finds the configuration step
// already done).

#include "core/base/error.h"

namespace airlock::crypto {

// Idempotent and thread-safe; kIOError if libcrypto fails to initialise.
Status init_openssl();

}  // namespace airlock::crypto

#pragma once
// Ed25519 public keys in the form stock tools read: PEM-armoured
// SubjectPublicKeyInfo (RFC 8410), as `openssl pkey -pubin` and
// `openssl pkeyutl -verify -pubin -inkey` take them. Encoding only: nothing
// here parses a PEM file, so no ASN.1 parser sees media bytes.

#include <string>

#include "core/base/error.h"
#include "core/crypto/sodium.h"

namespace airlock::crypto {

// "-----BEGIN PUBLIC KEY-----\n" ... "-----END PUBLIC KEY-----\n", written
// by OpenSSL (EVP_PKEY_new_raw_public_key + PEM_write_bio_PUBKEY). The same
// key always gives the same text. kIOError if OpenSSL fails.
Result<std::string> ed25519_public_key_pem(const SignPublicKey& key);

}  // namespace airlock::crypto

#include "core/crypto/sodium.h"

#include <sodium.h>

namespace airlock::crypto {

Status init_sodium() {
  if (sodium_init() < 0) {
    return make_error(ErrorCode::kIOError, "libsodium failed to initialise");
  }
  return ok_status();
}

void random_bytes(std::span<std::uint8_t> out) {
  if (!out.empty()) {
    randombytes_buf(out.data(), out.size());
  }
}

void ed25519_keypair(SignPublicKey& pk, SignSecretKey& sk) {
  crypto_sign_keypair(pk.data(), sk.data());
}

Signature ed25519_sign(ByteSpan message, const SignSecretKey& sk) {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), sk.data());
  return sig;
}

bool ed25519_verify(ByteSpan message, const Signature& sig, const SignPublicKey& pk) {
  return crypto_sign_verify_detached(sig.data(), message.data(), message.size(), pk.data()) == 0;
}

void x25519_keypair(BoxPublicKey& pk, BoxSecretKey& sk) { crypto_box_keypair(pk.data(), sk.data()); }

Bytes seal_to(ByteSpan plain, const BoxPublicKey& recipient) {
  Bytes out(plain.size() + crypto_box_SEALBYTES);
  crypto_box_seal(out.data(), plain.data(), plain.size(), recipient.data());
  return out;
}

Result<Bytes> open_sealed(ByteSpan sealed, const BoxPublicKey& pk, const BoxSecretKey& sk) {
  if (sealed.size() < crypto_box_SEALBYTES) {
    return make_error(ErrorCode::kCorruption, "sealed key is too short ({} bytes)", sealed.size());
  }
  Bytes out(sealed.size() - crypto_box_SEALBYTES);
  // libsodium refuses an all-zero shared secret (low-order ephemeral keys).
  if (crypto_box_seal_open(out.data(), sealed.data(), sealed.size(), pk.data(), sk.data()) != 0) {
    return make_error(ErrorCode::kNotForThisSite, "sealed key does not open with this site key");
  }
  return out;
}

Result<std::array<std::uint8_t, 32>> argon2id(std::string_view passphrase, const Argon2Params& params) {
  if (params.opslimit < crypto_pwhash_OPSLIMIT_MIN || params.opslimit > k_argon2_max_opslimit ||
      params.memlimit < crypto_pwhash_MEMLIMIT_MIN || params.memlimit > k_argon2_max_memlimit) {
    return make_error(ErrorCode::kCorruption,
                      "Argon2id parameters out of bounds (opslimit {}, memlimit {} bytes)",
                      params.opslimit, params.memlimit);
  }
  std::array<std::uint8_t, 32> key{};
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), params.salt.data(),
                    params.opslimit, params.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error(ErrorCode::kIOError, "Argon2id ran out of memory ({} bytes)", params.memlimit);
  }
  return key;
}

Bytes xchacha_seal(ByteSpan plain, ByteSpan aad, const std::array<std::uint8_t, 32>& key) {
  constexpr std::size_t n = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  Bytes out(n + plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  randombytes_buf(out.data(), n);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + n, &len, plain.data(), plain.size(),
                                             aad.data(), aad.size(), nullptr, out.data(), key.data());
  out.resize(n + len);
  return out;
}

Result<Bytes> xchacha_open(ByteSpan sealed, ByteSpan aad, const std::array<std::uint8_t, 32>& key) {
  constexpr std::size_t n = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  constexpr std::size_t a = crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < n + a) {
    return make_error(ErrorCode::kCorruption, "wrapped key is too short ({} bytes)", sealed.size());
  }
  Bytes out(sealed.size() - n - a);
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &len, nullptr, sealed.data() + n,
                                                 sealed.size() - n, aad.data(), aad.size(),
                                                 sealed.data(), key.data()) != 0) {
    return make_error(ErrorCode::kNotForThisSite, "wrong passphrase (the wrapped key does not open)");
  }
  out.resize(len);
  return out;
}

}  // namespace airlock::crypto

#pragma once
// Thin wrappers over libsodium for the primitives the format names:
// Ed25519 signatures, X25519 sealed boxes (key wrapping), Argon2id
// (passphrase key derivation), XChaCha20-Poly1305 (wrapping under a
// passphrase-derived key) and random bytes. No primitive of our own.

#include <array>
#include <cstdint>

#include "core/base/bytes.h"
#include "core/base/error.h"

namespace airlock::crypto {

// Must be called once before any other function here (idempotent, thread-safe).
Status init_sodium();

void random_bytes(std::span<std::uint8_t> out);

using SignPublicKey = std::array<std::uint8_t, 32>;
using SignSecretKey = std::array<std::uint8_t, 64>;
using Signature = std::array<std::uint8_t, 64>;
using BoxPublicKey = std::array<std::uint8_t, 32>;
using BoxSecretKey = std::array<std::uint8_t, 32>;

void ed25519_keypair(SignPublicKey& pk, SignSecretKey& sk);
Signature ed25519_sign(ByteSpan message, const SignSecretKey& sk);
bool ed25519_verify(ByteSpan message, const Signature& sig, const SignPublicKey& pk);

void x25519_keypair(BoxPublicKey& pk, BoxSecretKey& sk);
// Sealed box (ephemeral X25519 + XSalsa20-Poly1305): 48 bytes of overhead.
Bytes seal_to(ByteSpan plain, const BoxPublicKey& recipient);
// kNotForThisSite if the box was not sealed to this key pair (or was altered).
Result<Bytes> open_sealed(ByteSpan sealed, const BoxPublicKey& pk, const BoxSecretKey& sk);

struct Argon2Params {
  std::uint64_t opslimit = 3;
  std::uint64_t memlimit = 64ull << 20;  // bytes
  std::array<std::uint8_t, 16> salt{};
};
// Upper caps enforced when reading a bundle, so a hostile header cannot make
// the installer spend unbounded time or memory.
inline constexpr std::uint64_t k_argon2_max_opslimit = 10;
inline constexpr std::uint64_t k_argon2_max_memlimit = 1ull << 30;

Result<std::array<std::uint8_t, 32>> argon2id(std::string_view passphrase, const Argon2Params& params);

// XChaCha20-Poly1305 with a random 24-byte nonce prepended: nonce || ct || tag.
Bytes xchacha_seal(ByteSpan plain, ByteSpan aad, const std::array<std::uint8_t, 32>& key);
Result<Bytes> xchacha_open(ByteSpan sealed, ByteSpan aad, const std::array<std::uint8_t, 32>& key);

}  // namespace airlock::crypto

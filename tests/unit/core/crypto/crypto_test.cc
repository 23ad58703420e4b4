#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/crypto/aead.h"
#include "core/crypto/sha256.h"
#include "core/crypto/sodium.h"

namespace airlock::crypto {
namespace {

AeadKey random_key() {
  AeadKey k{};
  random_bytes(k);
  return k;
}

AeadNonce nonce_of(std::uint8_t v) {
  AeadNonce n{};
  n.fill(v);
  return n;
}

Bytes random_buffer(std::size_t n) {
  Bytes b(n);
  if (n > 0) {
    random_bytes(b);  // an empty vector's data() may be null, which libsodium declares nonnull
  }
  return b;
}

// Opens `sealed` into a fresh buffer of the right size; returns the status.
Status open_into(Aead& aead, const AeadNonce& nonce, ByteSpan aad, ByteSpan sealed, Bytes& plain) {
  plain.assign(sealed.size() >= k_aead_tag_size ? sealed.size() - k_aead_tag_size : 0, 0);
  return aead.open(nonce, aad, sealed, plain);
}

}  // namespace

// ------------------------------------------------------------- AES-GCM ----

TEST_CASE("aead: seal then open returns the plaintext", "[crypto]") {
  REQUIRE(init_sodium());
  const AeadKey key = random_key();
  Aead aead(key);
  const Bytes aad = {'h', 'e', 'a', 'd'};
  for (std::size_t n : {0u, 1u, 15u, 16u, 17u, 4096u, 1000003u}) {
    INFO(n);
    const Bytes plain = random_buffer(n);
    Bytes sealed;
    aead.seal(nonce_of(7), aad, plain, sealed);
    REQUIRE(sealed.size() == n + k_aead_tag_size);
    if (n >= 16) {
      CHECK(!std::equal(plain.begin(), plain.begin() + 16, sealed.begin()));  // actually encrypted
    }
    Bytes back;
    REQUIRE(open_into(aead, nonce_of(7), aad, sealed, back));
    CHECK(back == plain);
    // A second object with the same key opens it too (no hidden state).
    Aead other(key);
    REQUIRE(open_into(other, nonce_of(7), aad, sealed, back));
    CHECK(back == plain);
  }
}

TEST_CASE("aead: same key and nonce is deterministic, another nonce differs", "[crypto]") {
  REQUIRE(init_sodium());
  Aead aead(random_key());
  const Bytes plain = random_buffer(100);
  Bytes a;
  Bytes b;
  Bytes c;
  aead.seal(nonce_of(1), {}, plain, a);
  aead.seal(nonce_of(1), {}, plain, b);
  aead.seal(nonce_of(2), {}, plain, c);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("aead: open fails on any alteration", "[crypto]") {
  REQUIRE(init_sodium());
  const AeadKey key = random_key();
  Aead aead(key);
  const Bytes aad = {'a', 'a', 'd', 1, 2, 3};
  const Bytes plain = random_buffer(257);
  Bytes sealed;
  aead.seal(nonce_of(9), aad, plain, sealed);
  Bytes out;
  REQUIRE(open_into(aead, nonce_of(9), aad, sealed, out));

  SECTION("flipped ciphertext byte") {
    for (std::size_t i : {std::size_t{0}, std::size_t{128}, plain.size() - 1}) {
      INFO(i);
      Bytes bad = sealed;
      bad[i] ^= 0x01;
      auto st = open_into(aead, nonce_of(9), aad, bad, out);
      REQUIRE_FALSE(st.has_value());
      CHECK(st.error().code() == ErrorCode::kCorruption);
      CHECK(out != plain);  // nothing usable handed out
    }
  }
  SECTION("flipped tag byte") {
    for (std::size_t i = plain.size(); i < sealed.size(); ++i) {
      INFO(i);
      Bytes bad = sealed;
      bad[i] ^= 0x80;
      auto st = open_into(aead, nonce_of(9), aad, bad, out);
      REQUIRE_FALSE(st.has_value());
      CHECK(st.error().code() == ErrorCode::kCorruption);
    }
  }
  SECTION("wrong AAD") {
    Bytes bad_aad = aad;
    bad_aad.back() ^= 1;
    CHECK_FALSE(open_into(aead, nonce_of(9), bad_aad, sealed, out).has_value());
    CHECK_FALSE(open_into(aead, nonce_of(9), {}, sealed, out).has_value());
    Bytes longer = aad;
    longer.push_back(0);
    CHECK_FALSE(open_into(aead, nonce_of(9), longer, sealed, out).has_value());
  }
  SECTION("wrong nonce") {
    AeadNonce n = nonce_of(9);
    n[11] ^= 1;
    auto st = open_into(aead, n, aad, sealed, out);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code() == ErrorCode::kCorruption);
  }
  SECTION("wrong key") {
    AeadKey other_key = key;
    other_key[0] ^= 1;
    Aead other(other_key);
    auto st = open_into(other, nonce_of(9), aad, sealed, out);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code() == ErrorCode::kCorruption);
  }
  SECTION("truncated or extended") {
    Bytes shorter(sealed.begin(), sealed.end() - 1);
    CHECK_FALSE(open_into(aead, nonce_of(9), aad, shorter, out).has_value());
    Bytes longer = sealed;
    longer.push_back(0);
    CHECK_FALSE(open_into(aead, nonce_of(9), aad, longer, out).has_value());
    Bytes tiny(k_aead_tag_size - 1, 0);
    Bytes none;
    auto st = aead.open(nonce_of(9), aad, tiny, none);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code() == ErrorCode::kCorruption);
  }
  SECTION("wrong output size") {
    Bytes small(plain.size() - 1);
    auto st = aead.open(nonce_of(9), aad, sealed, small);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code() == ErrorCode::kCorruption);
    Bytes big(plain.size() + 1);
    st = aead.open(nonce_of(9), aad, sealed, big);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code() == ErrorCode::kCorruption);
  }
  // After every failure the object still works.
  REQUIRE(open_into(aead, nonce_of(9), aad, sealed, out));
  CHECK(out == plain);
}

// --------------------------------------------------------- sealed boxes ---

TEST_CASE("sealed box: round trip, and another key pair cannot open it", "[crypto]") {
  REQUIRE(init_sodium());
  BoxPublicKey pk{};
  BoxSecretKey sk{};
  x25519_keypair(pk, sk);
  const Bytes secret = random_buffer(32);
  Bytes box = seal_to(secret, pk);
  CHECK(box.size() == 32 + 48);
  auto opened = open_sealed(box, pk, sk);
  REQUIRE(opened.has_value());
  CHECK(*opened == secret);
  CHECK(seal_to(secret, pk) != box);  // ephemeral key each time

  BoxPublicKey pk2{};
  BoxSecretKey sk2{};
  x25519_keypair(pk2, sk2);
  REQUIRE(pk2 != pk);
  auto other = open_sealed(box, pk2, sk2);
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error().code() == ErrorCode::kNotForThisSite);

  // Right public key, wrong secret key.
  auto mixed = open_sealed(box, pk, sk2);
  REQUIRE_FALSE(mixed.has_value());
  CHECK(mixed.error().code() == ErrorCode::kNotForThisSite);

  Bytes altered = box;
  altered[40] ^= 1;
  auto bad = open_sealed(altered, pk, sk);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code() == ErrorCode::kNotForThisSite);

  auto too_short = open_sealed(Bytes(47, 0), pk, sk);
  REQUIRE_FALSE(too_short.has_value());
  CHECK(too_short.error().code() == ErrorCode::kCorruption);
}

// ------------------------------------------------------------- Ed25519 ----

TEST_CASE("ed25519: sign/verify, and any change fails", "[crypto]") {
  REQUIRE(init_sodium());
  SignPublicKey pk{};
  SignSecretKey sk{};
  ed25519_keypair(pk, sk);
  const Bytes msg = random_buffer(200);
  Signature sig = ed25519_sign(msg, sk);
  CHECK(ed25519_verify(msg, sig, pk));
  Bytes changed = msg;
  changed[100] ^= 1;
  CHECK_FALSE(ed25519_verify(changed, sig, pk));
  Signature bad = sig;
  bad[0] ^= 1;
  CHECK_FALSE(ed25519_verify(msg, bad, pk));
  SignPublicKey pk2{};
  SignSecretKey sk2{};
  ed25519_keypair(pk2, sk2);
  CHECK_FALSE(ed25519_verify(msg, sig, pk2));
}

// ------------------------------------------------------------- Argon2id ---

TEST_CASE("argon2id: parameters over the caps are refused without running", "[crypto]") {
  REQUIRE(init_sodium());
  const auto start = std::chrono::steady_clock::now();
  Argon2Params p;
  p.opslimit = k_argon2_max_opslimit + 1;
  auto r = argon2id("pass", p);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);

  p = Argon2Params{};
  p.memlimit = k_argon2_max_memlimit + 1;
  r = argon2id("pass", p);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);

  p = Argon2Params{};
  p.memlimit = 4ull << 30;
  p.opslimit = 1ull << 40;
  r = argon2id("pass", p);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);

  p = Argon2Params{};
  p.opslimit = 0;  // below libsodium's minimum
  r = argon2id("pass", p);
  REQUIRE_FALSE(r.has_value());

  p = Argon2Params{};
  p.memlimit = 1024;  // below libsodium's minimum
  r = argon2id("pass", p);
  REQUIRE_FALSE(r.has_value());
  // Refusals are immediate: none of them ran the KDF (1 GiB would take seconds).
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(k_argon2_max_opslimit == 10);
  CHECK(k_argon2_max_memlimit == (1ull << 30));
}

TEST_CASE("argon2id: deterministic for the same inputs, different for another salt or passphrase", "[crypto]") {
  REQUIRE(init_sodium());
  Argon2Params p;
  p.opslimit = 1;
  p.memlimit = 8ull << 20;
  p.salt.fill(7);
  auto a = argon2id("correct horse", p);
  auto b = argon2id("correct horse", p);
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(*a == *b);
  auto c = argon2id("correct horsf", p);
  REQUIRE(c.has_value());
  CHECK(*c != *a);
  p.salt[0] = 8;
  auto d = argon2id("correct horse", p);
  REQUIRE(d.has_value());
  CHECK(*d != *a);
}

// ----------------------------------------------------- XChaCha20-Poly1305 --

TEST_CASE("xchacha: round trip, wrong AAD, key or altered bytes fail", "[crypto]") {
  REQUIRE(init_sodium());
  std::array<std::uint8_t, 32> key{};
  random_bytes(key);
  const Bytes plain = random_buffer(32);
  const Bytes aad = {'a', 'i', 'r', 'l', 'o', 'c', 'k'};
  Bytes sealed = xchacha_seal(plain, aad, key);
  CHECK(sealed.size() == 24 + 32 + 16);
  auto opened = xchacha_open(sealed, aad, key);
  REQUIRE(opened.has_value());
  CHECK(*opened == plain);
  CHECK(xchacha_seal(plain, aad, key) != sealed);  // random nonce

  Bytes wrong_aad = aad;
  wrong_aad[0] = 'A';
  auto r = xchacha_open(sealed, wrong_aad, key);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kNotForThisSite);
  CHECK_FALSE(xchacha_open(sealed, {}, key).has_value());

  auto other_key = key;
  other_key[31] ^= 1;
  CHECK_FALSE(xchacha_open(sealed, aad, other_key).has_value());

  for (std::size_t i : {std::size_t{0}, std::size_t{23}, std::size_t{24}, sealed.size() - 1}) {
    INFO(i);
    Bytes bad = sealed;
    bad[i] ^= 1;
    CHECK_FALSE(xchacha_open(bad, aad, key).has_value());
  }
  auto too_short = xchacha_open(Bytes(39, 0), aad, key);
  REQUIRE_FALSE(too_short.has_value());
  CHECK(too_short.error().code() == ErrorCode::kCorruption);
}

// -------------------------------------------------------------- SHA-256 ---

TEST_CASE("sha256: known vectors", "[crypto]") {
  CHECK(sha256_hex(as_bytes("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex(as_bytes("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex(as_bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(to_hex(sha256(as_bytes("abc"))) == sha256_hex(as_bytes("abc")));
}

TEST_CASE("sha256: incremental equals one-shot, and finish resets", "[crypto]") {
  REQUIRE(init_sodium());
  const Bytes data = random_buffer(1 << 20);
  const Digest one_shot = sha256(data);
  Sha256 h;
  std::size_t pos = 0;
  std::size_t step = 1;
  while (pos < data.size()) {
    std::size_t n = std::min(step, data.size() - pos);
    h.update(ByteSpan(data.data() + pos, n));
    pos += n;
    step = step * 3 + 1;  // 1, 4, 13, 40, ... uneven pieces
  }
  CHECK(h.finish() == one_shot);
  // The object was reset: hashing "abc" now gives the plain vector.
  h.update(as_bytes("ab"));
  h.update({});
  h.update(as_bytes("c"));
  CHECK(to_hex(h.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(h.finish()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace airlock::crypto

// The have-list (the file a courier hands the bundler, core/format/have_list.h):
// the reader on the raw input, which stops at the signature; and, so the
// checks behind the signature are reached, the input as the signed part of a
// list signed with this harness's own key (the domain "airlock-have-v1", a
// NUL, the bytes: docs/FORMAT.md §12). The key is the same in every run
// (seeded randomness), so a seed naming its key id, 4414f17b8d36e14d (see
// scripts/fuzz.sh), gets past the signing_key check.
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/base/bytes.h"
#include "core/crypto/sha256.h"
#include "core/crypto/sodium.h"
#include "core/format/have_list.h"
#include "tests/support/deterministic_random.h"

using namespace airlock;

namespace {
struct FuzzKey {
  crypto::SignPublicKey pub{};
  crypto::SignSecretKey secret{};
  std::string keyid;
  FuzzKey() {
    (void)crypto::init_sodium();
    test::DeterministicRandom seeded(1);
    crypto::ed25519_keypair(pub, secret);
    keyid = crypto::sha256_hex(pub).substr(0, 16);
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const FuzzKey key;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)format::read_have_list(input, key.pub);

  Bytes message;
  append(message, as_bytes(std::string_view("airlock-have-v1")));
  message.push_back(0);
  append(message, ByteSpan(data, size));
  const crypto::Signature sig = crypto::ed25519_sign(message, key.secret);
  const std::string signed_list = fmt::format("{}signature ed25519 {} {}\n", input, key.keyid, to_base64(sig));
  auto list = format::read_have_list(signed_list, key.pub);
  if (list) {
    // What the reader accepts, the writer writes again byte for byte.
    format::Signer signer{key.keyid, key.secret};
    if (format::write_have_list(*list, signer) != signed_list) {
      __builtin_trap();
    }
  }
  return 0;
}

#pragma once
// Installers shipped next to a bundle (`create --with-installer DIR`): the
// static airlock-installer binaries, a detached Ed25519 signature of each by
// every signing key, the signers' public keys as PEM, SHA256SUMS and
// README.txt, so the isolated side can check the binary with stock tools
// (sha256sum, openssl pkeyutl) before running it. The signed header's
// optional "installers" key lists every one of those files with its size and
// SHA-256 (docs/FORMAT.md §2, "Shipped installers"), so a file removed,
// swapped or edited is found by `verify`.
//
// File names (k counts the signers from 1, in the order of "signers"):
//   airlock-installer-linux-ARCH     a binary (ARCH: [a-z0-9_]+, 1..32 chars)
//   BINARY.sig / BINARY.K.sig        signer 1 / signer K (K >= 2): 64 raw bytes,
//                                    Ed25519 (pure, not prehashed) over the binary
//   publisher.pem / publisher.K.pem  signer 1 / signer K: the public key, PEM/SPKI
//   SHA256SUMS                       `sha256sum -c` lines for every other file
//   README.txt                       what the operator on the isolated side does

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/crypto/sodium.h"

namespace airlock::format {

inline constexpr std::string_view k_installer_prefix = "airlock-installer-linux-";
inline constexpr std::string_view k_sha256sums_name = "SHA256SUMS";
inline constexpr std::string_view k_readme_name = "README.txt";
inline constexpr std::size_t k_max_shipped_binaries = 8;
inline constexpr std::size_t k_max_shipped_signers = 32;
inline constexpr std::uint64_t k_max_shipped_binary_size = 256ull << 20;  // 256 MiB
inline constexpr std::uint64_t k_max_shipped_text_size = 1 << 20;          // SHA256SUMS, README.txt
inline constexpr std::uint64_t k_max_shipped_pem_size = 4096;

struct ShippedFile {
  std::string name;
  std::uint64_t size = 0;
  std::string sha256;  // lowercase hex
};

struct ShippedInstallers {
  std::vector<std::string> signers;  // key ids, in --sign order
  std::vector<ShippedFile> files;    // every file written, binaries first

  // The files that are binaries, in listed order.
  std::vector<const ShippedFile*> binaries() const;
};

// What a shipped file is, by its name alone.
enum class ShippedKind { kBinary, kSignature, kPublicKey, kSums, kReadme, kOther };
ShippedKind shipped_kind(std::string_view name);
// "airlock-installer-linux-ARCH" with ARCH of [a-z0-9_]+ (1..32 characters).
bool is_installer_binary_name(std::string_view name);
// Signer k (1-based) of `binary`: BINARY.sig for k = 1, BINARY.K.sig after.
std::string signature_name(std::string_view binary, std::size_t k);
// Signer k's public key: publisher.pem for k = 1, publisher.K.pem after.
std::string public_key_name(std::size_t k);
// A name any shipped-installer file could have (binary, .sig or .pem): what
// verify refuses when the signed header does not list it.
bool looks_like_shipped_installer_file(std::string_view name);

nlohmann::json shipped_to_json(const ShippedInstallers& shipped);
// The header's "installers" value, checked strictly (kCorruption naming the
// field): an object with exactly "signers" (1..32 distinct key ids) and
// "files" ({"name", "size", "sha256"} objects, nothing else in them); names
// unique and of the shapes above; 1..8 binaries, each with one signature per
// signer and nothing else signed; one .pem per signer; SHA256SUMS and
// README.txt; sizes within the caps (a signature is exactly 64 bytes).
Result<ShippedInstallers> parse_shipped(const nlohmann::json& value);

struct ShippedCheck {
  std::size_t files = 0;                // listed files whose size and SHA-256 matched
  std::size_t signatures_verified = 0;  // detached signatures checked by a known key
  std::size_t signatures_unchecked = 0; // by a signer not among `keys`
};

// Checks the shipped files in the bundle directory against the signed list:
// each must be a regular file there (not a symlink, FIFO or device), of the
// listed size and SHA-256; each binary's detached signature by every signer
// whose public key is in `keys` must verify over the binary, and that
// signer's .pem must be exactly the PEM of that key. With no list (a bundle
// made without --with-installer), a file in `dir` shaped like a shipped
// binary, signature or publisher .pem is refused: the signed index does not
// vouch for it. Reports every problem at once, each naming its file:
// kCorruption (exit 3), or kBadSignature when the only trouble is a
// signature. Reads stop at the listed size and honour SIGINT/SIGTERM.
Result<ShippedCheck> check_shipped_installers(const std::filesystem::path& dir,
                                              const std::optional<ShippedInstallers>& shipped,
                                              const std::vector<crypto::SignPublicKey>& keys);

}  // namespace airlock::format

#pragma once
// Key files. One line each: "<kind> <base64>\n", where kind names the
// algorithm and whether the key is secret, so a key is never used for the
// wrong purpose. Secret key files are created 0600 and never overwritten.
//   airlock-ed25519-secret-v1   publisher signing key (64 bytes, libsodium form)
//   airlock-ed25519-public-v1   publisher verification key (32 bytes)
//   airlock-x25519-secret-v1    site decryption key (32 bytes)
//   airlock-x25519-public-v1    site public key, given to the bundler's --to (32 bytes)
// A key id is the first 16 hex digits of SHA-256 over the public key bytes.

#include <filesystem>
#include <string>

#include "core/base/error.h"
#include "core/crypto/sodium.h"
#include "core/format/bundle_reader.h"
#include "core/format/bundle_writer.h"

namespace airlock::keys {

namespace stdfs = std::filesystem;

std::string key_id(ByteSpan public_key);

struct PublicKey {
  std::string keyid;
  crypto::SignPublicKey pub{};
};

// Writes PREFIX.key (0600), PREFIX.pub and PREFIX.pem (the public key as
// PEM/SPKI, for stock OpenSSL: crypto/pem.h); refuses to overwrite any of
// them, and leaves none behind when one cannot be written.
Result<PublicKey> generate_signing_key(const stdfs::path& prefix);
// The same key files without the .pem, at the paths given: an installer
// site's own signing key (ROOT/keys/site-signing.key, .pub; it signs
// have-lists). Refuses to overwrite either; leaves neither behind when one
// cannot be written; syncs their folder.
Result<PublicKey> generate_signing_key_pair(const stdfs::path& key_path, const stdfs::path& pub_path);
Result<format::Signer> load_signing_key(const stdfs::path& path);
Result<PublicKey> load_public_key(const stdfs::path& path);
Result<PublicKey> parse_public_key(std::string_view text, const std::string& where);
std::string format_public_key(const crypto::SignPublicKey& pub);

// Site key pair in DIR/site.key (0600) and DIR/site.pub.
Result<format::SiteKey> generate_site_key(const stdfs::path& dir);
Result<format::SiteKey> load_site_key(const stdfs::path& dir);
struct SitePublicKey {
  std::string keyid;
  crypto::BoxPublicKey pub{};
};
Result<SitePublicKey> load_site_public_key(const stdfs::path& path);

// A passphrase file: its first line, without the line ending; never empty.
Result<std::string> read_passphrase_file(const stdfs::path& path);

}  // namespace airlock::keys

#include "keys/key_files.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

#include "core/crypto/pem.h"
#include "core/crypto/sha256.h"
#include "core/fs/file.h"

namespace airlock::keys {

namespace {

constexpr std::string_view k_sign_secret = "airlock-ed25519-secret-v1";
constexpr std::string_view k_sign_public = "airlock-ed25519-public-v1";
constexpr std::string_view k_box_secret = "airlock-x25519-secret-v1";
constexpr std::string_view k_box_public = "airlock-x25519-public-v1";

std::string key_line(std::string_view kind, ByteSpan bytes) { return fmt::format("{} {}\n", kind, to_base64(bytes)); }

// Parses "<kind> <base64>" and checks kind and length.
Result<Bytes> parse_key_line(std::string_view text, std::string_view kind, std::size_t size, const std::string& where) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  auto space = text.find(' ');
  std::string_view found = text.substr(0, space);
  if (space == std::string_view::npos || found != kind) {
    return make_error(ErrorCode::kInvalidArgument, "{}: not an {} key (found '{}')", where, kind,
                      found.substr(0, 40));
  }
  auto bytes = from_base64(text.substr(space + 1));
  if (!bytes || bytes->size() != size) {
    return make_error(ErrorCode::kInvalidArgument, "{}: damaged {} key", where, kind);
  }
  return *bytes;
}

Result<Bytes> read_key(const stdfs::path& path, std::string_view kind, std::size_t size) {
  auto text = fs::read_text_file(path, 4096);
  if (!text) {
    return std::unexpected(text.error());
  }
  return parse_key_line(*text, kind, size, path.string());
}

// Exactly `mode` whatever the umask: secrets 0600 even under a loose one,
// public keys 0644 even under the 077 that init makes keys/ with.
Status write_new(const stdfs::path& path, const std::string& text, std::uint32_t mode) {
  ASSIGN_OR_RETURN(fs::File f, fs::File::create_new(path, mode));
  if (::fchmod(f.fd(), static_cast<mode_t>(mode)) != 0) {
    return make_error(ErrorCode::kIOError, "{}: cannot set mode {:o}: {}", path.string(), mode,
                      fs::errno_text(errno));
  }
  TRY(f.write_all(as_bytes(text)));
  TRY(f.sync());
  return f.close();
}

}  // namespace

std::string key_id(ByteSpan public_key) { return to_hex(crypto::sha256(public_key)).substr(0, 16); }

std::string format_public_key(const crypto::SignPublicKey& pub) { return key_line(k_sign_public, pub); }

Result<PublicKey> generate_signing_key(const stdfs::path& prefix) {
  crypto::SignPublicKey pub{};
  crypto::SignSecretKey secret{};
  crypto::ed25519_keypair(pub, secret);
  stdfs::path key_path = prefix;
  key_path += ".key";
  stdfs::path pub_path = prefix;
  pub_path += ".pub";
  stdfs::path pem_path = prefix;
  pem_path += ".pem";
  std::error_code ec;
  if (stdfs::exists(stdfs::symlink_status(key_path, ec)) || stdfs::exists(stdfs::symlink_status(pub_path, ec)) ||
      stdfs::exists(stdfs::symlink_status(pem_path, ec))) {
    return make_error(ErrorCode::kInvalidArgument, "{}: key files already exist; refusing to overwrite",
                      prefix.string());
  }
  // `--out keys/publisher` in a fresh checkout: the folders are made, owner-only
  // (they will hold a secret key).
  const stdfs::path parent = key_path.parent_path();
  if (!parent.empty() && !stdfs::is_directory(parent, ec)) {
    stdfs::create_directories(parent, ec);
    if (ec) {
      return make_error(ErrorCode::kIOError, "{}: cannot create the folder for the key files: {}", parent.string(),
                        ec.message());
    }
    stdfs::permissions(parent, stdfs::perms::owner_all, ec);
  }
  ASSIGN_OR_RETURN(std::string pem, crypto::ed25519_public_key_pem(pub));
  TRY(write_new(key_path, key_line(k_sign_secret, secret), 0600));
  Status st = write_new(pub_path, key_line(k_sign_public, pub), 0644);
  if (st) {
    st = write_new(pem_path, pem, 0644);
    if (!st) {
      stdfs::remove(pub_path, ec);
    }
  }
  if (!st) {
    stdfs::remove(key_path, ec);  // no half set left behind
    return std::unexpected(st.error());
  }
  return PublicKey{key_id(pub), pub};
}

Result<PublicKey> generate_signing_key_pair(const stdfs::path& key_path, const stdfs::path& pub_path) {
  crypto::SignPublicKey pub{};
  crypto::SignSecretKey secret{};
  crypto::ed25519_keypair(pub, secret);
  std::error_code ec;
  if (stdfs::exists(stdfs::symlink_status(key_path, ec)) || stdfs::exists(stdfs::symlink_status(pub_path, ec))) {
    return make_error(ErrorCode::kInvalidArgument, "{}: key files already exist; refusing to overwrite",
                      key_path.string());
  }
  TRY(write_new(key_path, key_line(k_sign_secret, secret), 0600));  // O_EXCL|O_NOFOLLOW: never a planted file
  if (Status st = write_new(pub_path, key_line(k_sign_public, pub), 0644); !st) {
    stdfs::remove(key_path, ec);  // no half pair left behind
    return std::unexpected(st.error());
  }
  if (Status st = fs::fsync_dir(key_path.parent_path().empty() ? stdfs::path(".") : key_path.parent_path()); !st) {
    stdfs::remove(key_path, ec);
    stdfs::remove(pub_path, ec);
    return std::unexpected(st.error());
  }
  return PublicKey{key_id(pub), pub};
}

Result<format::Signer> load_signing_key(const stdfs::path& path) {
  ASSIGN_OR_RETURN(Bytes bytes, read_key(path, k_sign_secret, 64));
  format::Signer s;
  std::memcpy(s.secret.data(), bytes.data(), 64);
  // libsodium's secret key is seed || public key.
  s.keyid = key_id(ByteSpan(bytes.data() + 32, 32));
  return s;
}

Result<PublicKey> parse_public_key(std::string_view text, const std::string& where) {
  ASSIGN_OR_RETURN(Bytes bytes, parse_key_line(text, k_sign_public, 32, where));
  PublicKey k;
  std::memcpy(k.pub.data(), bytes.data(), 32);
  k.keyid = key_id(k.pub);
  return k;
}

Result<PublicKey> load_public_key(const stdfs::path& path) {
  ASSIGN_OR_RETURN(std::string text, fs::read_text_file(path, 4096));
  return parse_public_key(text, path.string());
}

Result<format::SiteKey> generate_site_key(const stdfs::path& dir) {
  format::SiteKey k;
  crypto::x25519_keypair(k.pub, k.secret);
  k.keyid = key_id(k.pub);
  TRY(write_new(dir / "site.key", key_line(k_box_secret, k.secret), 0600));
  TRY(write_new(dir / "site.pub", key_line(k_box_public, k.pub), 0644));
  TRY(fs::fsync_dir(dir));
  return k;
}

Result<format::SiteKey> load_site_key(const stdfs::path& dir) {
  format::SiteKey k;
  ASSIGN_OR_RETURN(Bytes secret, read_key(dir / "site.key", k_box_secret, 32));
  ASSIGN_OR_RETURN(Bytes pub, read_key(dir / "site.pub", k_box_public, 32));
  std::memcpy(k.secret.data(), secret.data(), 32);
  std::memcpy(k.pub.data(), pub.data(), 32);
  k.keyid = key_id(k.pub);
  return k;
}

Result<SitePublicKey> load_site_public_key(const stdfs::path& path) {
  ASSIGN_OR_RETURN(Bytes pub, read_key(path, k_box_public, 32));
  SitePublicKey k;
  std::memcpy(k.pub.data(), pub.data(), 32);
  k.keyid = key_id(k.pub);
  return k;
}

Result<std::string> read_passphrase_file(const stdfs::path& path) {
  ASSIGN_OR_RETURN(std::string pass, fs::read_text_file(path, 4096));
  while (!pass.empty() && (pass.back() == '\n' || pass.back() == '\r')) {
    pass.pop_back();
  }
  if (pass.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: passphrase file is empty", path.string());
  }
  return pass;
}

}  // namespace airlock::keys

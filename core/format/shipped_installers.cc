#include "core/format/shipped_installers.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/base/interrupt.h"
#include "core/base/text.h"
#include "core/crypto/pem.h"
#include "core/crypto/sha256.h"
#include "core/fs/file.h"

namespace airlock::format {

using nlohmann::json;

namespace {

constexpr std::string_view k_public_key_stem = "publisher";

std::unexpected<Error> installers_corrupt(std::string_view what) {
  return std::unexpected(Error(ErrorCode::kCorruption, fmt::format("index: header.installers: {}", what)));
}

bool is_arch(std::string_view s) {
  if (s.empty() || s.size() > 32) {
    return false;
  }
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// "" or ".K" with K a decimal 2..32 without leading zeros: which signer.
std::optional<std::size_t> signer_suffix(std::string_view s) {
  if (s.empty()) {
    return 1;
  }
  if (s.size() < 2 || s.size() > 3 || s[0] != '.' || s[1] == '0') {
    return std::nullopt;
  }
  std::size_t k = 0;
  for (char c : s.substr(1)) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    k = k * 10 + static_cast<std::size_t>(c - '0');
  }
  if (k < 2 || k > k_max_shipped_signers) {
    return std::nullopt;
  }
  return k;
}

std::string suffix_for(std::size_t k) { return k == 1 ? std::string() : fmt::format(".{}", k); }

}  // namespace

bool is_installer_binary_name(std::string_view name) {
  return name.starts_with(k_installer_prefix) && is_arch(name.substr(k_installer_prefix.size()));
}

std::string signature_name(std::string_view binary, std::size_t k) {
  return fmt::format("{}{}.sig", binary, suffix_for(k));
}

std::string public_key_name(std::size_t k) { return fmt::format("{}{}.pem", k_public_key_stem, suffix_for(k)); }

ShippedKind shipped_kind(std::string_view name) {
  if (name == k_sha256sums_name) {
    return ShippedKind::kSums;
  }
  if (name == k_readme_name) {
    return ShippedKind::kReadme;
  }
  if (is_installer_binary_name(name)) {
    return ShippedKind::kBinary;
  }
  if (name.starts_with(k_public_key_stem) && name.ends_with(".pem")) {
    std::string_view mid = name.substr(k_public_key_stem.size(), name.size() - k_public_key_stem.size() - 4);
    return signer_suffix(mid) ? ShippedKind::kPublicKey : ShippedKind::kOther;
  }
  if (name.starts_with(k_installer_prefix) && name.ends_with(".sig")) {
    std::string_view stem = name.substr(0, name.size() - 4);
    // BINARY.sig, or BINARY.K.sig: an arch has no '.', so the last '.' in
    // the stem (if any) starts the signer number.
    const std::size_t dot = stem.rfind('.');
    std::string_view binary = dot == std::string_view::npos ? stem : stem.substr(0, dot);
    std::string_view suffix = dot == std::string_view::npos ? std::string_view() : stem.substr(dot);
    return is_installer_binary_name(binary) && signer_suffix(suffix) ? ShippedKind::kSignature : ShippedKind::kOther;
  }
  return ShippedKind::kOther;
}

bool looks_like_shipped_installer_file(std::string_view name) {
  return name.starts_with(k_installer_prefix) ||
         (name.starts_with(k_public_key_stem) && name.ends_with(".pem"));
}

std::vector<const ShippedFile*> ShippedInstallers::binaries() const {
  std::vector<const ShippedFile*> out;
  for (const ShippedFile& f : files) {
    if (shipped_kind(f.name) == ShippedKind::kBinary) {
      out.push_back(&f);
    }
  }
  return out;
}

json shipped_to_json(const ShippedInstallers& shipped) {
  json files = json::array();
  for (const ShippedFile& f : shipped.files) {
    files.push_back({{"name", f.name}, {"size", f.size}, {"sha256", f.sha256}});
  }
  return json{{"signers", shipped.signers}, {"files", std::move(files)}};
}

Result<ShippedInstallers> parse_shipped(const json& value) {
  if (!value.is_object() || value.size() != 2 || !value.contains("signers") || !value.contains("files")) {
    return installers_corrupt("must be an object with exactly 'signers' and 'files'");
  }
  const json& signers = value["signers"];
  const json& files = value["files"];
  if (!signers.is_array() || signers.empty() || signers.size() > k_max_shipped_signers) {
    return installers_corrupt("'signers' must be an array of 1 to 32 key ids");
  }
  ShippedInstallers out;
  for (const json& s : signers) {
    if (!s.is_string() || !text::is_lower_hex(s.get<std::string>(), 16)) {
      return installers_corrupt("'signers' entries must be key ids (16 lowercase hex digits)");
    }
    if (std::find(out.signers.begin(), out.signers.end(), s.get<std::string>()) != out.signers.end()) {
      return installers_corrupt(fmt::format("signer {} is listed twice", s.get<std::string>()));
    }
    out.signers.push_back(s.get<std::string>());
  }
  const std::size_t max_files = k_max_shipped_binaries * (1 + k_max_shipped_signers) + k_max_shipped_signers + 2;
  if (!files.is_array() || files.empty() || files.size() > max_files) {
    return installers_corrupt("'files' must be a non-empty array");
  }
  std::set<std::string> names;
  std::size_t binaries = 0;
  for (const json& f : files) {
    if (!f.is_object() || f.size() != 3 || !f.contains("name") || !f.contains("size") || !f.contains("sha256")) {
      return installers_corrupt("each 'files' entry must be an object with exactly 'name', 'size' and 'sha256'");
    }
    if (!f["name"].is_string() || !f["size"].is_number_unsigned() || !f["sha256"].is_string()) {
      return installers_corrupt("a 'files' entry has a mistyped name, size or sha256");
    }
    ShippedFile file{f["name"].get<std::string>(), f["size"].get<std::uint64_t>(), f["sha256"].get<std::string>()};
    const std::string shown = text::escape_untrusted(file.name.substr(0, 80));
    const ShippedKind kind = shipped_kind(file.name);
    if (kind == ShippedKind::kOther) {
      return installers_corrupt(fmt::format("'{}' is not a shipped-installer file name", shown));
    }
    if (!text::is_lower_hex(file.sha256, 64)) {
      return installers_corrupt(fmt::format("{}: sha256 must be 64 lowercase hex digits", shown));
    }
    const std::uint64_t cap = kind == ShippedKind::kBinary      ? k_max_shipped_binary_size
                              : kind == ShippedKind::kPublicKey ? k_max_shipped_pem_size
                              : kind == ShippedKind::kSignature ? crypto::Signature().size()
                                                                : k_max_shipped_text_size;
    if (kind == ShippedKind::kSignature ? file.size != cap : (file.size == 0 || file.size > cap)) {
      return installers_corrupt(fmt::format("{}: size {} is out of range", shown, file.size));
    }
    if (!names.insert(file.name).second) {
      return installers_corrupt(fmt::format("{} is listed twice", shown));
    }
    binaries += kind == ShippedKind::kBinary ? 1 : 0;
    out.files.push_back(std::move(file));
  }
  if (binaries == 0 || binaries > k_max_shipped_binaries) {
    return installers_corrupt(fmt::format("lists {} binaries (1 to {} allowed)", binaries, k_max_shipped_binaries));
  }
  // Exactly these files: each binary signed by each signer, a key per signer,
  // the sums and the README; nothing missing, nothing else.
  std::set<std::string> expected{std::string(k_sha256sums_name), std::string(k_readme_name)};
  for (std::size_t k = 1; k <= out.signers.size(); ++k) {
    expected.insert(public_key_name(k));
  }
  for (const ShippedFile* b : out.binaries()) {
    expected.insert(b->name);
    for (std::size_t k = 1; k <= out.signers.size(); ++k) {
      expected.insert(signature_name(b->name, k));
    }
  }
  for (const std::string& e : expected) {
    if (!names.contains(e)) {
      return installers_corrupt(fmt::format("{} is missing from the list", e));
    }
  }
  for (const std::string& n : names) {
    if (!expected.contains(n)) {
      return installers_corrupt(fmt::format("{} does not belong to the listed binaries and signers", n));
    }
  }
  return out;
}

namespace {

// The file `name` in `dir`, read whole if it is a regular file of exactly
// `size` bytes; otherwise the problem, naming it.
Result<Bytes> read_listed(const std::filesystem::path& dir, const ShippedFile& f) {
  auto file = fs::File::open_regular(dir / f.name, fs::File::Symlinks::kRefuse);
  if (!file) {
    if (file.error().code() == ErrorCode::kNotFound) {
      return make_error(ErrorCode::kCorruption, "{}: listed in the signed index but missing; re-copy the bundle",
                        f.name);
    }
    if (file.error().code() == ErrorCode::kInvalidArgument) {
      return make_error(ErrorCode::kCorruption, "{}: refused: {}", f.name, file.error().message());
    }
    return std::unexpected(Error(file.error()).with_context(f.name));
  }
  ASSIGN_OR_RETURN(std::uint64_t size, file->size());
  if (size != f.size) {
    return make_error(ErrorCode::kCorruption, "{}: {} bytes, the signed index says {} (truncated or altered)", f.name,
                      size, f.size);
  }
  Bytes bytes(f.size);
  std::size_t got = 0;
  while (got < bytes.size()) {
    TRY(check_interrupt());
    const std::size_t want = std::min<std::size_t>(bytes.size() - got, 1 << 20);
    ASSIGN_OR_RETURN(std::size_t n, file->read_some(std::span<std::uint8_t>(bytes.data() + got, want)));
    if (n == 0) {
      return make_error(ErrorCode::kCorruption, "{}: shorter than the signed {} bytes", f.name, f.size);
    }
    got += n;
  }
  std::uint8_t extra = 0;
  ASSIGN_OR_RETURN(std::size_t more, file->read_some(std::span<std::uint8_t>(&extra, 1)));
  if (more != 0) {
    return make_error(ErrorCode::kCorruption, "{}: longer than the signed {} bytes", f.name, f.size);
  }
  return bytes;
}

std::string key_id_of(const crypto::SignPublicKey& key) { return crypto::sha256_hex(key).substr(0, 16); }

}  // namespace

Result<ShippedCheck> check_shipped_installers(const std::filesystem::path& dir,
                                              const std::optional<ShippedInstallers>& shipped,
                                              const std::vector<crypto::SignPublicKey>& keys) {
  ShippedCheck out;
  std::vector<std::string> problems;
  bool only_signatures = true;
  std::set<std::string> listed;
  if (shipped) {
    for (const ShippedFile& f : shipped->files) {
      listed.insert(f.name);
    }
  }
  // Unlisted files of ours: an index without the list vouches for none.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (looks_like_shipped_installer_file(name) && !listed.contains(name)) {
      only_signatures = false;
      problems.push_back(fmt::format("{}: not listed in the signed index; remove it or re-copy the bundle",
                                     text::escape_untrusted(name)));
    }
  }
  if (!shipped) {
    if (!problems.empty()) {
      return make_error(ErrorCode::kCorruption, "{}", fmt::join(problems, "; "));
    }
    return out;
  }
  std::map<std::string, crypto::SignPublicKey> by_id;
  for (const crypto::SignPublicKey& k : keys) {
    by_id.emplace(key_id_of(k), k);
  }
  // Read whole (a signature covers the whole binary) and checked against
  // its listed SHA-256; nullopt after naming the problem.
  auto load = [&](const ShippedFile& f) -> Result<std::optional<Bytes>> {
    auto bytes = read_listed(dir, f);
    if (!bytes) {
      if (bytes.error().code() == ErrorCode::kInterrupted) {
        return std::unexpected(bytes.error());
      }
      only_signatures = false;
      problems.push_back(bytes.error().message());
      return std::optional<Bytes>();
    }
    const std::string got = crypto::sha256_hex(*bytes);
    if (got != f.sha256) {
      only_signatures = false;
      problems.push_back(fmt::format("{}: SHA-256 mismatch (expected {}, got {}); re-copy the bundle", f.name,
                                     f.sha256, got));
      return std::optional<Bytes>();
    }
    ++out.files;
    return std::optional<Bytes>(std::move(*bytes));
  };
  // The small files first (signatures, keys, sums, README), kept; then one
  // binary at a time, so at most one binary is in memory.
  std::map<std::string, Bytes> small;
  for (const ShippedFile& f : shipped->files) {
    if (shipped_kind(f.name) != ShippedKind::kBinary) {
      ASSIGN_OR_RETURN(std::optional<Bytes> bytes, load(f));
      if (bytes) {
        small.emplace(f.name, std::move(*bytes));
      }
    }
  }
  for (std::size_t k = 1; k <= shipped->signers.size(); ++k) {
    const std::string& keyid = shipped->signers[k - 1];
    auto key = by_id.find(keyid);
    const std::string pem_name = public_key_name(k);
    auto pem = small.find(pem_name);
    if (key == by_id.end() || pem == small.end()) {
      continue;
    }
    ASSIGN_OR_RETURN(std::string expected, crypto::ed25519_public_key_pem(key->second));
    if (std::string_view(reinterpret_cast<const char*>(pem->second.data()), pem->second.size()) != expected) {
      only_signatures = false;
      problems.push_back(fmt::format("{}: is not the public key of signer {}", pem_name, keyid));
    }
  }
  for (const ShippedFile* b : shipped->binaries()) {
    ASSIGN_OR_RETURN(std::optional<Bytes> binary, load(*b));
    for (std::size_t k = 1; k <= shipped->signers.size(); ++k) {
      const std::string& keyid = shipped->signers[k - 1];
      auto key = by_id.find(keyid);
      if (key == by_id.end()) {
        ++out.signatures_unchecked;
        continue;
      }
      const std::string sig_name = signature_name(b->name, k);
      auto sig = small.find(sig_name);
      if (!binary || sig == small.end()) {
        continue;  // already reported
      }
      crypto::Signature signature{};
      std::copy(sig->second.begin(), sig->second.end(), signature.begin());  // 64 bytes: parse_shipped
      if (!crypto::ed25519_verify(*binary, signature, key->second)) {
        problems.push_back(
            fmt::format("{}: signature by key {} does not verify over {}", sig_name, keyid, b->name));
        continue;
      }
      ++out.signatures_verified;
    }
  }
  if (!problems.empty()) {
    return make_error(only_signatures ? ErrorCode::kBadSignature : ErrorCode::kCorruption, "{}",
                      fmt::join(problems, "; "));
  }
  return out;
}

}  // namespace airlock::format

#pragma once
// Small real bundles for in-process installer tests: write_volumes +
// seal_index, encrypted to a site, signed by one publisher key.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "core/crypto/sodium.h"
#include "core/format/bundle_writer.h"
#include "keys/key_files.h"

namespace airlock::test {

struct Publisher {
  crypto::SignPublicKey pub{};
  format::Signer signer;
  Publisher() {
    crypto::ed25519_keypair(pub, signer.secret);
    signer.keyid = keys::key_id(pub);
  }
  keys::PublicKey public_key() const { return keys::PublicKey{signer.keyid, pub}; }
};

struct BundleSpec {
  std::string name = "demo";
  std::string version;
  std::uint64_t sequence = 1;
  std::int64_t created = 0;
  std::optional<std::int64_t> expires;
  std::map<std::string, std::string> files;  // deployment path -> content
};

// Writes the bundle into `dir` (created) and returns `dir`, the path the
// installer takes. Result errors are the writer's.
inline Result<std::filesystem::path> write_test_bundle(const BundleSpec& spec, const std::filesystem::path& dir,
                                                      const crypto::BoxPublicKey& site_pub, const Publisher& publisher) {
  namespace stdfs = std::filesystem;
  stdfs::create_directories(dir / "in");
  std::vector<format::InputFile> inputs;
  for (const auto& [path, content] : spec.files) {
    const stdfs::path source = dir / "in" / path;
    stdfs::create_directories(source.parent_path());
    std::ofstream(source, std::ios::binary) << content;
    inputs.push_back(format::InputFile{source, path, 0644, content.size()});
  }
  Bytes bundle_id(16);
  crypto::random_bytes(bundle_id);
  crypto::AeadKey key{};
  crypto::random_bytes(key);
  const stdfs::path out = dir / "bundle";
  stdfs::create_directories(out);
  format::WriteOptions opt;
  opt.dir = out;
  opt.base_name = spec.name + "-" + spec.version;
  opt.volume_size = format::k_min_volume_size;
  opt.bundle_id = bundle_id;
  opt.data_key = key;
  ASSIGN_OR_RETURN(format::WriteResult written, format::write_volumes(inputs, opt));
  written.payload.name = spec.name;
  written.payload.version = spec.version;
  format::Header h;
  h.bundle_id = to_hex(bundle_id);
  h.name = spec.name;
  h.version = spec.version;
  h.sequence = spec.sequence;
  h.created = spec.created;
  h.expires = spec.expires;
  h.suite = "aes-256-gcm";
  format::Recipient r;
  r.type = "x25519";
  r.keyid = keys::key_id(site_pub);
  r.wrapped_key = crypto::seal_to(key, site_pub);
  h.recipients.push_back(std::move(r));
  h.volumes = written.volumes;
  h.tool = "airlock unit test";
  ASSIGN_OR_RETURN(Bytes index, format::seal_index(h, written.payload, key, {publisher.signer}));
  std::ofstream(out / (opt.base_name + ".airlock"), std::ios::binary)
      .write(reinterpret_cast<const char*>(index.data()), static_cast<std::streamsize>(index.size()));
  stdfs::remove_all(dir / "in");
  return out;
}

}  // namespace airlock::test

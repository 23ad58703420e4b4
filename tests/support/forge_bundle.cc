// airlock-test-forge: re-signs an existing bundle after a hostile edit, for
// the e2e tests of what a validly signed but malicious (or buggy) bundle may
// not do. It needs what a publisher has (the signing key) plus the site key
// to open the payload, so it is no attack tool; it exists so the installer's
// checks behind the signature are tested end to end.
//
//   airlock-test-forge BUNDLE --site-key ROOT/keys --sign PUB.key EDIT
//
// EDIT (exactly one):
//   --path I=NEW        file I's path becomes NEW (e.g. ../../etc/cron.d/x)
//   --mode I=OCTAL      file I's mode becomes OCTAL (e.g. 4755)
//   --shrink-chunk K    chunk K claims one byte less than it decodes to (and
//                       the files using it one byte less per use): a frame
//                       that inflates past its signed size. In an encrypted
//                       bundle the frame's AAD (which binds the chunk record)
//                       catches it first; in an unencrypted one the decoder.
//   --wrapped-key-bytes N  the first recipient stanza's wrapped key is N bytes
//   --tool-bytes N      the header's "tool" string is N bytes (header size cap)
//   --sources JSON      the payload's `sources` becomes JSON
//   --version V         the deployment version (header and payload) becomes V
//   --restat-volume I   volume I's signed size and SHA-256 become those of the
//                       file as it is now (after the test rewrote it, e.g. with
//                       a symlink entry), so that the tar reader must refuse it
// The index is rewritten in place; the volumes are left as they are.
#include <algorithm>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "core/crypto/sha256.h"
#include "core/format/bundle_reader.h"
#include "core/format/bundle_writer.h"
#include "core/fs/file.h"
#include "keys/key_files.h"

using namespace airlock;

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: airlock-test-forge BUNDLE --site-key DIR --sign KEY (--path I=NEW | --mode I=OCTAL | "
               "--shrink-chunk K | --wrapped-key-bytes N | --tool-bytes N | --sources JSON | --version V | --restat-volume I | --xor-base K=HEX | --base-set HEX)\n");
  return 2;
}

Status run(int argc, char** argv) {
  if (argc != 8) {
    return make_error(ErrorCode::kUsage, "wrong arguments");
  }
  const std::string bundle = argv[1];
  std::string site_dir, sign, edit, value;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--site-key") {
      site_dir = argv[i + 1];
    } else if (flag == "--sign") {
      sign = argv[i + 1];
    } else {
      edit = flag;
      value = argv[i + 1];
    }
  }
  ASSIGN_OR_RETURN(format::OpenedIndex opened, format::open_index(bundle));
  std::optional<crypto::AeadKey> key;  // none for an unencrypted bundle
  if (opened.header.encrypted()) {
    ASSIGN_OR_RETURN(format::SiteKey site, keys::load_site_key(site_dir));
    ASSIGN_OR_RETURN(key, format::unwrap_with_site_key(opened, site));
  }
  ASSIGN_OR_RETURN(format::Payload payload, format::open_body(opened, key));
  ASSIGN_OR_RETURN(format::Signer signer, keys::load_signing_key(sign));
  format::Header header = opened.header;

  const std::size_t eq = value.find('=');
  if (edit == "--path" || edit == "--mode") {
    if (eq == std::string::npos) {
      return make_error(ErrorCode::kUsage, "{} wants I=VALUE", edit);
    }
    const std::size_t i = std::stoul(value.substr(0, eq));
    if (i >= payload.files.size()) {
      return make_error(ErrorCode::kUsage, "no file {}", i);
    }
    if (edit == "--path") {
      payload.files[i].path = value.substr(eq + 1);
    } else {
      payload.files[i].mode = static_cast<std::uint32_t>(std::stoul(value.substr(eq + 1), nullptr, 8));
    }
  } else if (edit == "--shrink-chunk") {
    const std::size_t k = std::stoul(value);
    if (k >= payload.chunks.size() || payload.chunks[k].size < 2) {
      return make_error(ErrorCode::kUsage, "no chunk {} to shrink", k);
    }
    payload.chunks[k].size -= 1;
    for (format::FileEntry& f : payload.files) {
      for (std::uint64_t r = f.first_ref; r < f.first_ref + f.ref_count; ++r) {
        if (payload.refs[r] == k) {
          f.size -= 1;
        }
      }
    }
    // `sources` lists sizes too: kept consistent, so that the frame is what fails.
    if (payload.sources.is_array()) {
      for (nlohmann::json& src : payload.sources) {
        if (!src.contains("files")) {
          continue;
        }
        for (nlohmann::json& sf : src["files"]) {
          for (const format::FileEntry& f : payload.files) {
            if (sf.value("path", "") == f.path && sf.contains("size")) {
              sf["size"] = f.size;
            }
          }
        }
      }
    }
  } else if (edit == "--wrapped-key-bytes") {
    header.recipients.at(0).wrapped_key.resize(std::stoul(value), 0x41);
  } else if (edit == "--tool-bytes") {
    header.tool.assign(std::stoul(value), 't');
  } else if (edit == "--sources") {
    payload.sources = nlohmann::json::parse(value);
  } else if (edit == "--version") {
    header.version = value;
    payload.version = value;
  } else if (edit == "--base-set") {
    // Delta bundles: the base's chunk set digest.
    if (!payload.base || value.size() != 64) {
      return make_error(ErrorCode::kUsage, "--base-set: not a delta bundle, or not 64 hex digits");
    }
    payload.base->chunk_set = value;
  } else if (edit == "--xor-base") {
    // N=HEX: the Nth XOR chunk is against base chunk HEX; N=swap: the Nth
    // and the next XOR chunk swap their base chunks (both real ones).
    std::vector<std::size_t> xors;
    for (std::size_t k = 0; k < payload.chunks.size(); ++k) {
      if (payload.chunks[k].codec == codec::Codec::kXor) {
        xors.push_back(k);
      }
    }
    const std::size_t n = eq == std::string::npos ? 0 : std::stoul(value.substr(0, eq));
    const std::string what = eq == std::string::npos ? value : value.substr(eq + 1);
    if (n + (what == "swap" ? 1 : 0) >= xors.size()) {
      return make_error(ErrorCode::kUsage, "--xor-base: the bundle has {} XOR chunks", xors.size());
    }
    if (what == "swap") {
      std::swap(payload.chunks[xors[n]].base_id, payload.chunks[xors[n + 1]].base_id);
    } else {
      auto bytes = from_hex(what);
      if (!bytes || bytes->size() != 32) {
        return make_error(ErrorCode::kUsage, "--xor-base: not 64 hex digits");
      }
      std::copy(bytes->begin(), bytes->end(), payload.chunks[xors[n]].base_id.begin());
    }
  } else if (edit == "--restat-volume") {
    format::VolumeInfo& v = header.volumes.at(std::stoul(value));
    ASSIGN_OR_RETURN(Bytes bytes, fs::read_file(opened.index_path.parent_path() / v.name, std::uint64_t{1} << 32));
    v.size = bytes.size();
    v.sha256 = crypto::sha256_hex(bytes);
  } else {
    return make_error(ErrorCode::kUsage, "unknown edit {}", edit);
  }
  ASSIGN_OR_RETURN(Bytes index, format::seal_index(header, payload, key, {signer}));
  return fs::write_file_atomic(opened.index_path, index);
}

}  // namespace

int main(int argc, char** argv) {
  if (!crypto::init_sodium()) {
    return 1;
  }
  Status st = run(argc, argv);
  if (!st) {
    std::fprintf(stderr, "airlock-test-forge: %s\n", st.error().message().c_str());
    return st.error().code() == ErrorCode::kUsage ? usage() : 1;
  }
  return 0;
}

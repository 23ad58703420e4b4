#include "installer/install/delta_base.h"

#include <fmt/format.h>

#include "core/base/interrupt.h"
#include "core/crypto/sha256.h"

namespace airlock::installer {

Result<std::unique_ptr<BaseChunks>> BaseChunks::open(Site& site, const format::Payload& payload) {
  const format::BaseRef& ref = *payload.base;
  const std::string needs = fmt::format("{} {} (bundle {})", ref.name, ref.version, ref.bundle_id);
  auto refuse = [&](ErrorCode code, const std::string& why) {
    return make_error(code, "{} {} is a delta bundle against {}, {}; nothing was written", payload.name,
                      payload.version, needs, why);
  };
  if (ref.name != payload.name) {
    return refuse(ErrorCode::kCorruption, "another deployment");
  }
  ASSIGN_OR_RETURN(std::optional<VersionRecord> v, site.ledger().find_version(ref.name, ref.version));
  if (!v) {
    return refuse(ErrorCode::kNotFound, "which was never installed here: install that version first, or ask "
                                        "for a full bundle");
  }
  if (v->state != "installed") {
    return refuse(ErrorCode::kNotFound, "which gc removed from this site: ask for a full bundle (or a delta "
                                        "against a version installed here: airlock-installer have --export)");
  }
  if (v->bundle_id != ref.bundle_id) {
    return refuse(ErrorCode::kCorruption,
                  fmt::format("but {} {} was installed here from another bundle ({})", ref.name, ref.version,
                              v->bundle_id));
  }
  ASSIGN_OR_RETURN(std::optional<ChunkMapRecord> rec, site.ledger().chunk_map(ref.name, ref.version));
  if (!rec) {
    return refuse(ErrorCode::kNotFound, "which was installed by an installer that kept no chunk map: ask for a "
                                        "full bundle");
  }
  auto map = format::decode_chunk_map(rec->map);
  if (!map) {
    return refuse(ErrorCode::kCorruption, fmt::format("whose chunk map in the ledger is damaged ({})",
                                                      map.error().message()));
  }
  const std::string digest = to_hex(format::chunk_set_digest(map->ids()));
  if (digest != ref.chunk_set || digest != rec->chunk_set) {
    return refuse(ErrorCode::kCorruption,
                  fmt::format("but the chunks installed for that version (set {}) are not the ones the bundle was "
                              "made against (set {})",
                              digest, ref.chunk_set));
  }
  std::unique_ptr<BaseChunks> out(new BaseChunks());
  out->m_dir = site.version_dir(ref.name, ref.version);
  out->m_describe = needs;
  out->m_index = map->index();
  out->m_map = std::move(*map);
  out->m_files.resize(out->m_map.files.size());
  return out;
}

Status BaseChunks::read(const crypto::Digest& id, std::span<std::uint8_t> out) const {
  auto it = m_index.find(id);
  if (it == m_index.end()) {
    return make_error(ErrorCode::kNotFound, "base {} holds no chunk {}", m_describe, to_hex(id));
  }
  const format::ChunkMap::Place& at = it->second;
  const std::filesystem::path path = m_dir / m_map.files[at.file].path;
  if (at.size != out.size()) {
    return make_error(ErrorCode::kCorruption, "base chunk {} is {} bytes in {}, the bundle says {}", to_hex(id),
                      at.size, path.string(), out.size());
  }
  fs::File* file = nullptr;
  {
    std::lock_guard<std::mutex> lock(m_open_mutex);
    if (!m_files[at.file]) {
      ASSIGN_OR_RETURN(fs::File f, fs::File::open_regular(path, fs::File::Symlinks::kRefuse));
      m_files[at.file] = std::make_unique<fs::File>(std::move(f));
    }
    file = m_files[at.file].get();
  }
  Status got = file->pread_exact(out, at.offset);
  if (!got || crypto::sha256(out) != id) {
    return make_error(ErrorCode::kCorruption,
                      "{}: bytes {}..{} of the installed base {} are not what was installed there ({}); run "
                      "'airlock-installer check', then reinstall that version from a full bundle",
                      path.string(), at.offset, at.offset + at.size, m_describe,
                      got ? "SHA-256 mismatch" : got.error().message());
  }
  return ok_status();
}

Result<std::uint64_t> check_base_chunks(const BaseChunks& base, const format::Payload& payload,
                                        const std::vector<bool>& skip, const ProgressFn& progress) {
  std::vector<bool> needed(payload.chunks.size(), false);
  for (std::size_t f = 0; f < payload.files.size(); ++f) {
    if (skip[f]) {
      continue;
    }
    const format::FileEntry& fe = payload.files[f];
    for (std::uint64_t r = fe.first_ref; r < fe.first_ref + fe.ref_count; ++r) {
      needed[payload.refs[r]] = true;
    }
  }
  std::uint64_t total = 0;
  for (std::size_t k = 0; k < payload.chunks.size(); ++k) {
    const format::ChunkEntry& c = payload.chunks[k];
    if (c.codec == codec::Codec::kXor || (c.codec == codec::Codec::kBase && needed[k])) {
      total += c.size;
    }
  }
  std::uint64_t done = 0;
  Bytes buffer;
  for (std::size_t k = 0; k < payload.chunks.size(); ++k) {
    const format::ChunkEntry& c = payload.chunks[k];
    if (c.codec != codec::Codec::kXor && !(c.codec == codec::Codec::kBase && needed[k])) {
      continue;
    }
    TRY(check_interrupt());
    buffer.resize(c.size);
    TRY(base.read(c.codec == codec::Codec::kXor ? c.base_id : c.id, buffer));
    done += c.size;
    if (progress) {
      progress(ProgressEvent{"check base", base.describe(), done, total});
    }
  }
  return done;
}

}  // namespace airlock::installer

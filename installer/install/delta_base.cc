#include "installer/install/delta_base.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/base/ordered_pool.h"

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
    // The chunk sets matched, so the signed payload contradicts itself.
    return make_error(ErrorCode::kCorruption, "the bundle names chunk {} of its base {}, which that version does not "
                      "hold", to_hex(id), m_describe);
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

namespace {

// Runs fn(i) for i in [0, n) on `threads` threads; the first error wins and
// stops the others at their next item.
Status parallel_for(std::size_t n, std::size_t threads, const std::function<Status(std::size_t)>& fn) {
  threads = std::max<std::size_t>(1, std::min(OrderedPool::resolve_threads(threads), n));
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::optional<Error> first;
  auto run = [&] {
    for (std::size_t i = next++; i < n && !failed; i = next++) {
      Status st = fn(i);
      if (!st) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!first) {
          first = st.error();
        }
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) {
    pool.emplace_back(run);
  }
  run();
  for (std::thread& t : pool) {
    t.join();
  }
  if (first) {
    return std::unexpected(*first);
  }
  return ok_status();
}

}  // namespace

Result<std::uint64_t> check_base_chunks(const BaseChunks& base, const format::Payload& payload,
                                        const std::vector<bool>& skip, const ProgressFn& progress,
                                        std::size_t threads) {
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
  std::vector<std::uint32_t> todo;
  std::uint64_t total = 0;
  for (std::uint32_t k = 0; k < payload.chunks.size(); ++k) {
    const format::ChunkEntry& c = payload.chunks[k];
    if (c.codec == codec::Codec::kXor || (c.codec == codec::Codec::kBase && needed[k])) {
      todo.push_back(k);
      total += c.size;
    }
  }
  std::atomic<std::uint64_t> done{0};
  std::mutex progress_mutex;
  TRY(parallel_for(todo.size(), threads, [&](std::size_t i) -> Status {
    TRY(check_interrupt());
    const format::ChunkEntry& c = payload.chunks[todo[i]];
    Bytes buffer(c.size);
    TRY(base.read(c.codec == codec::Codec::kXor ? c.base_id : c.id, buffer));
    const std::uint64_t now = done += c.size;
    if (progress) {
      std::lock_guard<std::mutex> lock(progress_mutex);
      progress(ProgressEvent{"check base", base.describe(), now, total});
    }
    return ok_status();
  }));
  return done.load();
}

Result<std::uint64_t> read_base_chunks(const BaseChunks& base, const format::Payload& payload,
                                       const std::vector<std::uint32_t>& indices,
                                       const std::function<Status(std::uint32_t, ByteSpan)>& sink,
                                       std::size_t threads) {
  constexpr std::size_t k_batch = 32;  // chunks read ahead in parallel, at most 32 MiB
  std::vector<Bytes> buffers(k_batch);
  std::uint64_t bytes = 0;
  for (std::size_t from = 0; from < indices.size(); from += k_batch) {
    TRY(check_interrupt());
    const std::size_t n = std::min(k_batch, indices.size() - from);
    TRY(parallel_for(n, threads, [&](std::size_t i) -> Status {
      const format::ChunkEntry& c = payload.chunks[indices[from + i]];
      buffers[i].resize(c.size);
      return base.read(c.id, buffers[i]);
    }));
    for (std::size_t i = 0; i < n; ++i) {
      TRY(sink(indices[from + i], buffers[i]));
      bytes += buffers[i].size();
    }
  }
  return bytes;
}

}  // namespace airlock::installer

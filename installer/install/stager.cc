#include "installer/install/stager.h"

#include <algorithm>

namespace airlock::installer {

namespace stdfs = std::filesystem;

namespace {
constexpr std::size_t k_max_open_files = 64;
// Staged data is handed to the kernel for writeback every this many bytes of
// a file, so the disk writes while we decrypt and hash, and the syncfs at the
// end waits for the last stretch only (it was 0.6 s of idle tail per GiB).
constexpr std::uint64_t k_writeback_step = 16u << 20;
constexpr std::uint32_t k_no_chunk = 0xffffffffu;  // advance(): every delivered chunk is read back
}

Stager::Stager(os::FileSystem& files, const format::Payload& payload, stdfs::path tree, std::vector<bool> skip)
    : m_files(files), m_payload(payload), m_tree(std::move(tree)), m_skip(std::move(skip)) {
  m_delivered.assign(payload.chunks.size(), false);
  m_ref_offset.resize(payload.refs.size());
  m_ref_file.resize(payload.refs.size());
  m_chunk_refs.resize(payload.chunks.size());
  m_state.resize(payload.files.size());
  for (std::uint32_t f = 0; f < payload.files.size(); ++f) {
    const format::FileEntry& fe = payload.files[f];
    std::uint64_t offset = 0;
    for (std::uint64_t r = fe.first_ref; r < fe.first_ref + fe.ref_count; ++r) {
      m_ref_offset[r] = offset;
      m_ref_file[r] = f;
      offset += payload.chunks[payload.refs[r]].size;
      if (!m_skip[f]) {
        m_chunk_refs[payload.refs[r]].push_back(static_cast<std::uint32_t>(r));
      }
    }
  }
}

stdfs::path Stager::path_of(std::uint32_t f) const { return m_tree / m_payload.files[f].path; }

Status Stager::create_files() {
  for (std::uint32_t f = 0; f < m_payload.files.size(); ++f) {
    if (m_skip[f]) {
      continue;
    }
    m_state[f].hash = std::make_unique<crypto::Sha256>();
    if (m_tree.empty()) {
      continue;
    }
    stdfs::path p = path_of(f);
    TRY(m_files.make_dirs(p.parent_path(), 0755));  // no link below ROOT is followed (core/fs/dir.h)
    ASSIGN_OR_RETURN(std::unique_ptr<os::StagedFile> file, m_files.create_new(p, 0600));
    TRY(file->allocate(m_payload.files[f].size));
  }
  return ok_status();
}

Status Stager::resume_files(const std::vector<bool>& done_volumes) {
  for (std::uint32_t f = 0; f < m_payload.files.size(); ++f) {
    if (m_skip[f]) {
      continue;
    }
    m_state[f].hash = std::make_unique<crypto::Sha256>();
    ASSIGN_OR_RETURN(os::StagedFile * file, open_file(f));
    TRY(file->check_staged(m_payload.files[f].size));
  }
  for (std::uint32_t k = 0; k < m_payload.chunks.size(); ++k) {
    const std::uint32_t v = m_payload.packs[m_payload.chunks[k].pack].volume;
    m_delivered[k] = v < done_volumes.size() && done_volumes[v];
  }
  return ok_status();
}

Result<os::StagedFile*> Stager::open_file(std::uint32_t f) {
  auto it = m_open.find(f);
  if (it != m_open.end()) {
    return it->second.get();
  }
  if (m_open.size() >= k_max_open_files) {
    std::uint32_t victim = m_open_order.front();
    m_open_order.pop_front();
    m_open.erase(victim);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<os::StagedFile> file, m_files.open_write(path_of(f)));
  m_open_order.push_back(f);
  return m_open.emplace(f, std::move(file)).first->second.get();
}

Status Stager::on_chunk(std::uint32_t chunk_index, ByteSpan plain) {
  m_delivered[chunk_index] = true;
  for (std::uint32_t r : m_chunk_refs[chunk_index]) {
    std::uint32_t f = m_ref_file[r];
    if (!m_tree.empty()) {
      ASSIGN_OR_RETURN(os::StagedFile * file, open_file(f));
      TRY(file->pwrite_all(plain, m_ref_offset[r]));
      FileState& st = m_state[f];
      st.written_end = std::max<std::uint64_t>(st.written_end, m_ref_offset[r] + plain.size());
      if (st.written_end - st.writeback_from >= k_writeback_step) {
        file->start_writeback(st.writeback_from, st.written_end - st.writeback_from);
        st.writeback_from = st.written_end;
      }
    }
    TRY(advance(f, chunk_index, plain));
  }
  return ok_status();
}

// Hashes file f forward from its next unhashed reference for as long as the
// chunks there have arrived.
Status Stager::advance(std::uint32_t f, std::uint32_t chunk_index, ByteSpan plain) {
  FileState& st = m_state[f];
  const format::FileEntry& fe = m_payload.files[f];
  while (!st.gave_up && st.next_ref < fe.ref_count) {
    std::uint64_t r = fe.first_ref + st.next_ref;
    std::uint32_t k = m_payload.refs[r];
    if (!m_delivered[k]) {
      break;
    }
    if (k == chunk_index) {
      st.hash->update(plain);
    } else if (m_tree.empty()) {
      st.gave_up = true;  // verify only: those bytes were not kept
      break;
    } else {
      ASSIGN_OR_RETURN(os::StagedFile * file, open_file(f));
      m_readback.resize(m_payload.chunks[k].size);
      TRY(file->pread_exact(m_readback, m_ref_offset[r]));
      st.hash->update(m_readback);
    }
    st.hashed_bytes += m_payload.chunks[k].size;
    ++st.next_ref;
  }
  if (!st.gave_up && !st.done && st.next_ref == fe.ref_count) {
    st.done = true;
    std::string got = to_hex(st.hash->finish());
    if (got != fe.sha256) {
      return make_error(ErrorCode::kCorruption, "{}: assembled file does not match its SHA-256 (expected {}, got {})",
                        fe.path, fe.sha256, got);
    }
  }
  return ok_status();
}

Result<std::size_t> Stager::finish() {
  std::size_t partial = 0;
  for (std::uint32_t f = 0; f < m_payload.files.size(); ++f) {
    if (m_skip[f]) {
      continue;
    }
    FileState& st = m_state[f];
    if (m_payload.files[f].ref_count == 0 && !st.done) {
      TRY(advance(f, 0, {}));  // empty file: hash of nothing
    } else if (!st.done && !st.gave_up && !m_tree.empty()) {
      // Chunks staged by an earlier run (resume_files) and none since: read back.
      TRY(advance(f, k_no_chunk, {}));
    }
    if (st.gave_up) {
      ++partial;
      continue;
    }
    if (!st.done) {
      return make_error(ErrorCode::kCorruption, "{}: not all of its chunks arrived", m_payload.files[f].path);
    }
  }
  m_open.clear();
  m_open_order.clear();
  if (!m_tree.empty()) {
    // One syncfs(2) makes every staged file durable at once; an fsync per
    // file costs an open and a journal commit each (10,000 small files).
    TRY(m_files.sync_file_system(m_tree));
  }
  return partial;
}

}  // namespace airlock::installer

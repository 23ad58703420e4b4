#include "installer/install/stager.h"

#include <algorithm>
#include <cstring>

namespace airlock::installer {

namespace stdfs = std::filesystem;

namespace {
constexpr std::size_t k_max_open_files = 64;
// Staged data is handed to the kernel for writeback every this many bytes of
// a file, so the disk writes while we decrypt and hash, and the syncfs at the
// end waits for the last stretch only (it was 0.6 s of idle tail per GiB).
constexpr std::uint64_t k_writeback_step = 16u << 20;
// Files at least this large are written directly (Stager::Run), through a
// buffer of k_run_size bytes.
constexpr std::uint64_t k_direct_min_file = 4u << 20;
constexpr std::uint64_t k_run_size = 8u << 20;
constexpr std::uint64_t k_align = os::k_direct_align;
std::uint64_t align_down(std::uint64_t x) { return x / k_align * k_align; }
std::uint64_t align_up(std::uint64_t x) { return align_down(x + k_align - 1); }
}

Stager::Stager(os::FileSystem& files, const format::Payload& payload, stdfs::path tree, std::vector<bool> skip)
    : m_files(files), m_payload(payload), m_tree(std::move(tree)), m_skip(std::move(skip)) {
  m_delivered.assign(payload.chunks.size(), false);
  m_prior.assign(payload.chunks.size(), false);
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
    m_state[f].refs_left = fe.ref_count;
  }
}

stdfs::path Stager::path_of(std::uint32_t f) const { return m_tree / m_payload.files[f].path; }

Status Stager::create_files() {
  if (m_tree.empty()) {
    return ok_status();
  }
  for (std::uint32_t f = 0; f < m_payload.files.size(); ++f) {
    if (m_skip[f]) {
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
    ASSIGN_OR_RETURN(os::StagedFile * file, open_file(f));
    TRY(file->check_staged(m_payload.files[f].size));
  }
  for (std::uint32_t k = 0; k < m_payload.chunks.size(); ++k) {
    if (m_payload.chunks[k].codec == codec::Codec::kBase) {
      continue;  // read again from the base by each run (install.cc)
    }
    const std::uint32_t v = m_payload.packs[m_payload.chunks[k].pack].volume;
    if (v < done_volumes.size() && done_volumes[v]) {
      m_prior[k] = true;
      TRY(deliver(k));
    }
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

// Counts chunk k's references as placed; kCorruption for a chunk delivered twice.
Status Stager::deliver(std::uint32_t k) {
  if (m_delivered[k]) {
    return make_error(ErrorCode::kCorruption, "chunk {} arrived twice", k);
  }
  m_delivered[k] = true;
  for (std::uint32_t r : m_chunk_refs[k]) {
    --m_state[m_ref_file[r]].refs_left;
  }
  return ok_status();
}

bool Stager::wanted(std::uint32_t chunk_index) const {
  return !m_chunk_refs[chunk_index].empty() && !m_delivered[chunk_index];
}

Status Stager::on_chunk(std::uint32_t chunk_index, ByteSpan plain) {
  TRY(deliver(chunk_index));
  if (m_tree.empty()) {
    return ok_status();
  }
  for (std::uint32_t r : m_chunk_refs[chunk_index]) {
    TRY(write_place(m_ref_file[r], m_ref_offset[r], plain));
  }
  return ok_status();
}

Status Stager::write_place(std::uint32_t f, std::uint64_t offset, ByteSpan plain) {
  if (m_payload.files[f].size >= k_direct_min_file && plain.size() + k_align <= k_run_size) {
    if (m_run.active && (m_run.file != f || m_run.end != offset)) {
      TRY(flush_run(true));  // another file, or not where the run ends
    }
    if (!m_run.active) {
      if (!m_run_buffer) {
        ASSIGN_OR_RETURN(m_run_buffer, fs::make_direct_buffer(k_run_size));
      }
      m_run = Run{true, f, align_down(offset), offset, offset};
    }
    if (m_run.end + plain.size() - m_run.base > k_run_size) {
      TRY(flush_run(false));
    }
    std::memcpy(m_run_buffer.get() + (m_run.end - m_run.base), plain.data(), plain.size());
    m_run.end += plain.size();
    return ok_status();
  }
  ASSIGN_OR_RETURN(os::StagedFile * file, open_file(f));
  TRY(file->pwrite_all(plain, offset));
  FileState& st = m_state[f];
  st.written_end = std::max<std::uint64_t>(st.written_end, offset + plain.size());
  if (st.written_end - st.writeback_from >= k_writeback_step) {
    file->start_writeback(st.writeback_from, st.written_end - st.writeback_from);
    st.writeback_from = st.written_end;
  }
  return ok_status();
}

// Writes the run's whole aligned blocks directly and its unaligned head
// through the cache; with `all` its unaligned tail too, and the run ends;
// without, the tail (under one block) moves to the buffer's start.
Status Stager::flush_run(bool all) {
  if (!m_run.active) {
    return ok_status();
  }
  ASSIGN_OR_RETURN(os::StagedFile * file, open_file(m_run.file));
  std::uint8_t* buffer = m_run_buffer.get();
  auto at = [&](std::uint64_t offset) { return buffer + (offset - m_run.base); };
  const std::uint64_t a = std::min(align_up(m_run.start), m_run.end);
  const std::uint64_t b = std::max(align_down(m_run.end), a);
  if (m_run.start < a) {
    TRY(file->pwrite_all(ByteSpan(at(m_run.start), a - m_run.start), m_run.start));
  }
  if (a < b) {
    TRY(file->pwrite_direct(ByteSpan(at(a), b - a), a));
  }
  if (all) {
    if (b < m_run.end) {
      TRY(file->pwrite_all(ByteSpan(at(b), m_run.end - b), b));
    }
    m_run.active = false;
    return ok_status();
  }
  std::memmove(buffer, at(b), m_run.end - b);
  m_run.base = m_run.start = b;
  return ok_status();
}

Status Stager::flush() { return flush_run(true); }

// Bytes an earlier run staged were verified when they arrived, but have sat
// in ROOT/staging since: each of their places is read back and checked
// against its chunk id.
Status Stager::check_prior() {
  crypto::Sha256 hash;
  for (std::uint32_t k = 0; k < m_payload.chunks.size(); ++k) {
    if (!m_prior[k]) {
      continue;
    }
    const format::ChunkEntry& c = m_payload.chunks[k];
    for (std::uint32_t r : m_chunk_refs[k]) {
      const std::uint32_t f = m_ref_file[r];
      ASSIGN_OR_RETURN(os::StagedFile * file, open_file(f));
      m_readback.resize(c.size);
      TRY(file->pread_exact(m_readback, m_ref_offset[r]));
      hash.update(m_readback);
      if (hash.finish() != c.id) {
        return make_error(ErrorCode::kCorruption,
                          "{}: bytes {}..{} staged by the interrupted install changed since (chunk {} does not match "
                          "its SHA-256)",
                          m_payload.files[f].path, m_ref_offset[r], m_ref_offset[r] + c.size, k);
      }
    }
  }
  return ok_status();
}

Status Stager::finish() {
  for (std::uint32_t f = 0; f < m_payload.files.size(); ++f) {
    if (!m_skip[f] && m_state[f].refs_left != 0) {
      return make_error(ErrorCode::kCorruption, "{}: not all of its chunks arrived", m_payload.files[f].path);
    }
  }
  if (m_tree.empty()) {
    return ok_status();
  }
  TRY(flush());
  TRY(check_prior());
  m_open.clear();
  m_open_order.clear();
  // One syncfs(2) makes every staged file durable at once; an fsync per
  // file costs an open and a journal commit each (10,000 small files).
  return m_files.sync_file_system(m_tree);
}

}  // namespace airlock::installer

#include "core/format/bundle_reader.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>
#include <zstd.h>

#include "core/archive/volume.h"
#include "core/base/interrupt.h"
#include "core/base/ordered_pool.h"
#include "core/base/pipeline.h"
#include "core/base/text.h"
#include "core/codec/codec.h"
#include "core/crypto/sha256.h"
#include "core/format/frame.h"
#include "core/format/media_files.h"
#include "core/fs/file.h"

namespace airlock::format {

namespace stdfs = std::filesystem;

std::vector<stdfs::path> OpenedIndex::all_dirs() const {
  std::vector<stdfs::path> out{dir};
  out.insert(out.end(), more_dirs.begin(), more_dirs.end());
  return out;
}

stdfs::path OpenedIndex::volume_path(std::size_t v) const {
  const std::string& name = header.volumes[v].name;
  for (const stdfs::path& d : all_dirs()) {
    std::error_code ec;
    if (stdfs::exists(stdfs::symlink_status(d / name, ec))) {
      return d / name;
    }
  }
  if (auto it = renamed.find(v); it != renamed.end()) {
    return it->second;
  }
  return dir / name;
}

std::string OpenedIndex::describe_volume(std::size_t v) const {
  const std::string& name = header.volumes[v].name;
  if (header.media && v < header.media->volume_media.size()) {
    return fmt::format("volume {} ({} of {}, on {})", name, v + 1, header.volumes.size(),
                       medium_dir_name(header.media->volume_media[v]));
  }
  return fmt::format("volume {} ({} of {})", name, v + 1, header.volumes.size());
}

stdfs::path shipped_dir(const OpenedIndex& opened) {
  if (opened.header.installers && !opened.header.installers->files.empty()) {
    for (const stdfs::path& d : opened.all_dirs()) {
      std::error_code ec;
      if (stdfs::exists(stdfs::symlink_status(d / opened.header.installers->files.front().name, ec))) {
        return d;
      }
    }
  }
  return opened.dir;
}

Status add_media_dirs(OpenedIndex& opened, const std::vector<stdfs::path>& dirs) {
  std::vector<stdfs::path> seen{stdfs::weakly_canonical(opened.dir)};
  for (const stdfs::path& d : dirs) {
    std::error_code ec;
    if (!stdfs::is_directory(d, ec)) {
      return make_error(ErrorCode::kNotFound, "{}: not a directory (give each medium's directory)", d.string());
    }
    const stdfs::path canon = stdfs::weakly_canonical(d, ec);
    if (std::find(seen.begin(), seen.end(), canon) != seen.end()) {
      return make_error(ErrorCode::kUsage, "{}: given twice", d.string());
    }
    seen.push_back(canon);
    ASSIGN_OR_RETURN(stdfs::path index, locate_index(d));
    ASSIGN_OR_RETURN(const std::string got, index_file_sha256(index));
    // The bytes decide; the name may be one a medium's file system made.
    if (got != opened.index_sha256) {
      return make_error(ErrorCode::kCorruption,
                        "{}: not a medium of this bundle: it holds {} (SHA-256 {}), the first medium {} (SHA-256 {}); "
                        "a medium of another bundle, or an altered copy",
                        d.string(), index.filename().string(), got, opened.index_path.filename().string(),
                        opened.index_sha256);
    }
    opened.more_dirs.push_back(d);
  }
  return ok_status();
}

Result<std::string> index_file_sha256(const stdfs::path& index) {
  auto file = fs::File::open_regular(index, fs::File::Symlinks::kRefuse);
  if (!file) {
    return make_error(ErrorCode::kCorruption, "{}: index refused: {}", index.string(), file.error().message());
  }
  ASSIGN_OR_RETURN(std::uint64_t size, file->size());
  if (size > k_max_index_size) {
    return make_error(ErrorCode::kCorruption, "{}: {} bytes, larger than any index", index.string(), size);
  }
  crypto::Sha256 hash;
  Bytes buffer(1 << 20);
  std::uint64_t read = 0;
  for (;;) {
    TRY(check_interrupt());
    ASSIGN_OR_RETURN(std::size_t n, file->read_some(std::span<std::uint8_t>(buffer.data(), buffer.size())));
    if (n == 0) {
      break;
    }
    read += n;
    if (read > size) {
      return make_error(ErrorCode::kCorruption, "{}: grew while it was read", index.string());
    }
    hash.update(ByteSpan(buffer.data(), n));
  }
  return to_hex(hash.finish());
}

namespace {

bool has_index_extension(const stdfs::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) {
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return ext == ".airlock";
}

// A regular file that starts with the index magic: under an ISO 9660 name,
// an index whose name a medium's file system shortened ("LLAMA_3_.AIR").
bool starts_like_index(const stdfs::path& p) {
  auto file = fs::File::open_regular(p, fs::File::Symlinks::kRefuse);
  std::uint8_t head[8];
  return file && file->pread_exact(head, 0) && std::memcmp(head, "AIRLOCK", 8) == 0;
}

}  // namespace

Result<stdfs::path> locate_index(const stdfs::path& bundle) {
  std::error_code ec;
  if (stdfs::is_directory(bundle, ec)) {
    // Whatever the type (a symlink or FIFO named *.airlock is found here and
    // refused by open_index, not silently passed over).
    std::vector<stdfs::path> found;
    for (const auto& e : stdfs::directory_iterator(bundle, ec)) {
      std::error_code tec;
      if (has_index_extension(e.path()) && e.symlink_status(tec).type() != stdfs::file_type::directory) {
        found.push_back(e.path());
      }
    }
    if (found.empty()) {
      for (const auto& e : stdfs::directory_iterator(bundle, ec)) {
        if (iso9660_name(e.path().filename().string()) && starts_like_index(e.path())) {
          found.push_back(e.path());
        }
      }
    }
    if (found.empty()) {
      return make_error(ErrorCode::kNotFound, "{}: no .airlock index in this directory", bundle.string());
    }
    if (found.size() > 1) {
      return make_error(ErrorCode::kInvalidArgument, "{}: holds {} .airlock indexes; name the one to use",
                        bundle.string(), found.size());
    }
    return found.front();
  }
  if (!stdfs::exists(bundle, ec)) {
    return make_error(ErrorCode::kNotFound, "{}: no such bundle (give the bundle directory or its .airlock file)",
                      bundle.string());
  }
  return bundle;
}

namespace {

// A volume (BASE.volNNN.tar, or any tar file) named where the bundle was
// wanted: the operator gave the wrong file, nothing was tampered with.
bool looks_like_volume(const std::string& name, fs::File& file, std::uint64_t size) {
  if (name.ends_with(".tar")) {
    return true;
  }
  std::uint8_t head[263];
  if (size < sizeof head || !file.pread_exact(head, 0)) {
    return false;
  }
  return std::memcmp(head, "AIRLOCK", 7) != 0 && std::memcmp(head + 257, "ustar", 5) == 0;
}

Result<OpenedIndex> read_index(const stdfs::path& bundle, const BeforeBody& before_body, bool read_body) {
  OpenedIndex out;
  ASSIGN_OR_RETURN(out.index_path, locate_index(bundle));
  std::error_code ec;
  const bool named = !stdfs::is_directory(bundle, ec);  // the operator named the file itself
  out.dir = out.index_path.parent_path().empty() ? stdfs::path(".") : out.index_path.parent_path();
  const std::string name = out.index_path.filename().string();
  auto opened_file =
      fs::File::open_regular(out.index_path, named ? fs::File::Symlinks::kFollow : fs::File::Symlinks::kRefuse);
  if (!opened_file) {
    if (!named && opened_file.error().code() == ErrorCode::kInvalidArgument) {
      return make_error(ErrorCode::kCorruption, "index refused: {}", opened_file.error().message());
    }
    return std::unexpected(opened_file.error());
  }
  fs::File& file = *opened_file;
  ASSIGN_OR_RETURN(std::uint64_t size, file.size());
  if (named && looks_like_volume(name, file, size)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: is a volume of a bundle, not its index; give the bundle directory (or the .airlock "
                      "file next to this volume)",
                      out.index_path.string());
  }
  auto read_at = [&](std::uint64_t offset, std::span<std::uint8_t> into) { return file.pread_exact(into, offset); };
  auto layout = read_index_layout(size, read_at);
  if (!layout) {
    return std::unexpected(Error(layout.error()).with_context(name));
  }
  out.index.header.resize(layout->header_size);
  TRY(file.pread_exact(out.index.header, layout->header_offset));
  Bytes envelope(layout->signatures_size);
  TRY(file.pread_exact(envelope, layout->signatures_offset));
  auto signatures = parse_signature_envelope(envelope);
  if (!signatures) {
    return std::unexpected(Error(signatures.error()).with_context(name));
  }
  out.index.signatures = std::move(*signatures);
  auto header = parse_header(out.index.header);
  if (!header) {
    return std::unexpected(Error(header.error()).with_context(name));
  }
  out.header = std::move(*header);
  out.bundle_id = *from_hex(out.header.bundle_id);
  if (before_body) {
    TRY(before_body(out));
  }
  if (read_body) {
    out.index.body.resize(layout->body_size);
    TRY(file.pread_exact(out.index.body, layout->body_offset));
    // The SHA-256 of the exact index bytes ("already installed" means these
    // bytes), from the parts just read in file order: read_index_layout
    // checked that they cover the file with nothing after them.
    std::uint8_t fixed[16];
    TRY(file.pread_exact(fixed, 0));
    std::uint8_t len8[8];
    std::uint8_t len4[4];
    for (int i = 0; i < 8; ++i) {
      len8[i] = static_cast<std::uint8_t>(layout->body_size >> (8 * i));
    }
    for (int i = 0; i < 4; ++i) {
      len4[i] = static_cast<std::uint8_t>(layout->signatures_size >> (8 * i));
    }
    crypto::Sha256 h;
    h.update(ByteSpan(fixed, sizeof fixed));
    h.update(out.index.header);
    h.update(ByteSpan(len8, sizeof len8));
    h.update(out.index.body);
    h.update(ByteSpan(len4, sizeof len4));
    h.update(envelope);
    out.index_sha256 = to_hex(h.finish());
  }
  return out;
}

}  // namespace

Result<OpenedIndex> open_index(const stdfs::path& bundle, const BeforeBody& before_body) {
  return read_index(bundle, before_body, true);
}

Result<Header> read_unverified_header(const stdfs::path& bundle) {
  ASSIGN_OR_RETURN(OpenedIndex opened, read_index(bundle, {}, false));
  return std::move(opened.header);
}

namespace {
Result<crypto::AeadKey> to_key(const Bytes& bytes) {
  if (bytes.size() != crypto::k_aead_key_size) {
    return make_error(ErrorCode::kCorruption, "wrapped data key has the wrong size ({} bytes)", bytes.size());
  }
  crypto::AeadKey key{};
  std::memcpy(key.data(), bytes.data(), key.size());
  return key;
}
}  // namespace

Result<crypto::AeadKey> unwrap_with_site_key(const OpenedIndex& opened, const SiteKey& key) {
  const Header& h = opened.header;
  if (!h.encrypted()) {
    return make_error(ErrorCode::kInvalidArgument, "bundle is not encrypted");
  }
  std::vector<std::string> ids;
  for (const Recipient& r : h.recipients) {
    if (r.type == "argon2id") {
      return make_error(ErrorCode::kNotForThisSite,
                        "bundle is encrypted with a passphrase, not to a site key; use --passphrase-file");
    }
    ids.push_back(r.keyid);
    if (r.keyid == key.keyid) {
      auto plain = crypto::open_sealed(r.wrapped_key, key.pub, key.secret);
      if (!plain) {
        return make_error(ErrorCode::kNotForThisSite,
                          "recipient stanza for site key {} does not open (altered or forged)", key.keyid);
      }
      return to_key(*plain);
    }
  }
  return make_error(ErrorCode::kNotForThisSite,
                    "bundle is not addressed to this site (site key {}; bundle recipients: {})", key.keyid,
                    fmt::join(ids, ", "));
}

Result<crypto::AeadKey> unwrap_with_passphrase(const OpenedIndex& opened, std::string_view passphrase) {
  const Header& h = opened.header;
  if (h.recipients.size() != 1 || h.recipients[0].type != "argon2id") {
    return make_error(ErrorCode::kNotForThisSite, "bundle is not encrypted with a passphrase");
  }
  const Recipient& r = h.recipients[0];
  ASSIGN_OR_RETURN(auto kek, crypto::argon2id(passphrase, r.argon2));
  ASSIGN_OR_RETURN(Bytes plain, crypto::xchacha_open(r.wrapped_key, passphrase_aad(opened.bundle_id), kek));
  return to_key(plain);
}

Result<Payload> open_body(const OpenedIndex& opened, const std::optional<crypto::AeadKey>& data_key) {
  std::string name = opened.index_path.filename().string();
  Bytes compressed;
  if (opened.header.encrypted()) {
    if (!data_key) {
      return make_error(ErrorCode::kNotForThisSite, "{}: the payload manifest is encrypted and no key was given", name);
    }
    if (opened.index.body.size() < crypto::k_aead_tag_size) {
      return make_error(ErrorCode::kCorruption, "{}: encrypted body is truncated", name);
    }
    compressed.resize(opened.index.body.size() - crypto::k_aead_tag_size);
    crypto::Aead aead(*data_key);
    auto st = aead.open(body_nonce(), body_aad(opened.bundle_id), opened.index.body, compressed);
    if (!st) {
      return make_error(ErrorCode::kCorruption, "{}: payload manifest: {}", name, st.error().message());
    }
  } else {
    compressed = opened.index.body;
  }
  unsigned long long plain_size = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (plain_size == ZSTD_CONTENTSIZE_ERROR || plain_size == ZSTD_CONTENTSIZE_UNKNOWN || plain_size > 4 * k_max_body_size) {
    return make_error(ErrorCode::kCorruption, "{}: payload manifest is not a bounded zstd frame", name);
  }
  Bytes plain(plain_size);
  std::size_t n = ZSTD_decompress(plain.data(), plain.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n) || n != plain_size) {
    return make_error(ErrorCode::kCorruption, "{}: payload manifest does not decompress", name);
  }
  auto payload = decode_payload(plain, opened.header.volumes.size(), opened.header.format_version);
  if (!payload) {
    return std::unexpected(Error(payload.error()).with_context(name));
  }
  if (payload->name != opened.header.name || payload->version != opened.header.version) {
    return make_error(ErrorCode::kCorruption, "{}: payload names {}/{} but the header names {}/{}", name,
                      payload->name, payload->version, opened.header.name, opened.header.version);
  }
  return payload;
}

namespace {

// Volume v of the bundle, opened for reading: a regular file in the bundle
// directory (no symlink, FIFO or device: those are refused before a byte is
// read, and the message says nothing about what a symlink points at). A
// missing volume is an operator's slip, not tampering: kNotFound (exit 1)
// saying which volume to copy or insert.
Result<fs::File> open_volume_at(const OpenedIndex& opened, std::size_t v, const stdfs::path& path) {
  const VolumeInfo& info = opened.header.volumes[v];
  auto file = fs::File::open_regular(path, fs::File::Symlinks::kRefuse);
  if (file) {
    return file;
  }
  if (file.error().code() == ErrorCode::kNotFound) {
    return make_error(ErrorCode::kNotFound, "{}: volume is missing (expected at {}): copy or insert {} and run again",
                      info.name, path.string(), opened.describe_volume(v));
  }
  if (file.error().code() == ErrorCode::kInvalidArgument) {
    return make_error(ErrorCode::kCorruption, "{}: volume refused: {}", info.name, file.error().message());
  }
  return std::unexpected(Error(file.error()).with_context(info.name));
}

Result<fs::File> open_volume(const OpenedIndex& opened, std::size_t v) {
  return open_volume_at(opened, v, opened.volume_path(v));
}

class VolumeStreamer {
 public:
  VolumeStreamer(const OpenedIndex& opened, const Payload& payload, const std::optional<crypto::AeadKey>& key,
                 const ChunkSink& sink, const ProgressFn& progress, std::size_t threads_requested, Timings* timings,
                 const StreamPlan& plan)
      : m_opened(opened), m_payload(payload), m_sink(sink), m_progress(progress), m_timings(timings), m_plan(plan) {
    std::size_t threads = OrderedPool::resolve_threads(threads_requested);
    for (std::size_t i = 0; i < threads; ++i) {
      auto w = std::make_unique<Worker>();
      if (key) {
        w->aead.emplace(*key);
      }
      m_workers.push_back(std::move(w));
    }
    m_ring.resize(4 * threads + 4);
    m_pipeline = std::make_unique<Pipeline>(
        threads == 1 ? 0 : threads, m_ring.size(),
        [this](std::size_t slot, std::size_t worker) {
          ScopedTimer t(m_timings, "decrypt + decode + hash (workers)");
          open_frame(m_ring[slot], *m_workers[worker]);
        },
        [this](std::size_t slot) { return consume(m_ring[slot]); });
    m_pack_chunks.resize(payload.packs.size());
    for (std::uint32_t i = 0; i < payload.chunks.size(); ++i) {
      if (payload.chunks[i].codec != codec::Codec::kBase) {  // on no medium: the caller reads those from the base
        m_pack_chunks[payload.chunks[i].pack].push_back(i);  // already in offset order
      }
    }
    m_pack_seen.assign(payload.packs.size(), false);
    m_volume_packs.resize(opened.header.volumes.size());
    for (std::size_t k = 0; k < payload.packs.size(); ++k) {
      m_pack_by_name[payload.packs[k].name] = static_cast<std::uint32_t>(k);
      if (payload.packs[k].volume < m_volume_packs.size()) {
        m_volume_packs[payload.packs[k].volume].push_back(static_cast<std::uint32_t>(k));
      }
    }
    m_chunks_left.assign(opened.header.volumes.size(), 0);
    for (const ChunkEntry& c : payload.chunks) {
      if (c.codec != codec::Codec::kBase) {
        ++m_chunks_left[payload.packs[c.pack].volume];
      }
    }
    for (std::size_t v = 0; v < opened.header.volumes.size(); ++v) {
      m_total += opened.header.volumes[v].size;
      if (v < plan.done.size() && plan.done[v]) {
        m_done += opened.header.volumes[v].size;  // progress over the whole set
      }
    }
  }

  Result<StreamStats> run() {
    const std::size_t count = m_opened.header.volumes.size();
    std::vector<bool> read(count, false);
    for (std::size_t v = 0; v < count && v < m_plan.done.size(); ++v) {
      read[v] = m_plan.done[v];
    }
    for (std::size_t k = 0; k < m_payload.packs.size(); ++k) {
      m_pack_seen[k] = read[m_payload.packs[k].volume];
    }
    for (std::size_t i = 0; i < count; ++i) {
      if (read[i] && !m_plan.source) {
        continue;
      }
      if (std::find(read.begin(), read.end(), false) == read.end()) {
        break;
      }
      VolumeAt at{static_cast<std::uint32_t>(i), {}};
      if (m_plan.source) {
        // What was read is staged (volume_done has run) before the source
        // looks at the drive again: "insert the next disc" means the one in
        // it may go.
        if (Status drained = m_pipeline->drain(); !drained) {
          TRY(m_pipeline->finish());
          return std::unexpected(drained.error());
        }
        auto next = m_plan.source(read);
        if (!next || next->volume >= count || read[next->volume]) {
          TRY(m_pipeline->finish());
          if (!next) {
            return std::unexpected(next.error());
          }
          return make_error(ErrorCode::kInvalidArgument, "volume source chose volume {} again", next->volume + 1);
        }
        at = std::move(*next);
      } else {
        at.path = m_opened.volume_path(at.volume);
      }
      read[at.volume] = true;
      Status st = stream_volume(at.volume, at.path);
      if (!st) {
        // An error the consumer met first (an earlier frame) takes precedence.
        TRY(m_pipeline->finish());
        return std::unexpected(st.error());
      }
    }
    TRY(m_pipeline->finish());
    for (std::size_t k = 0; k < m_pack_seen.size(); ++k) {
      if (!m_pack_seen[k]) {
        const PackEntry& p = m_payload.packs[k];
        return make_error(ErrorCode::kCorruption, "{}: pack {} is missing", m_opened.header.volumes[p.volume].name, p.name);
      }
    }
    return m_stats;
  }

 private:
  Status stream_volume(std::uint32_t v, const stdfs::path& path) {
    const VolumeInfo& info = m_opened.header.volumes[v];
    ASSIGN_OR_RETURN(fs::File file, open_volume_at(m_opened, v, path));
    const bool hash = m_plan.volume_hashes || !m_opened.header.encrypted();
    ASSIGN_OR_RETURN(auto reader, archive::VolumeReader::open(std::move(file), info.name, info.size, hash));
    std::size_t next_pack = 0;  // of m_volume_packs[v]: packs lie in the order they were written
    for (;;) {
      ASSIGN_OR_RETURN(auto entry, reader->next());
      if (!entry) {
        break;
      }
      auto it = m_pack_by_name.find(entry->name);
      if (!entry->regular || it == m_pack_by_name.end()) {
        return make_error(ErrorCode::kCorruption, "{}: unexpected entry '{}' in the volume", info.name,
                          text::escape_untrusted(entry->name));
      }
      std::uint32_t k = it->second;
      const PackEntry& pack = m_payload.packs[k];
      if (pack.volume != v || m_pack_seen[k] || entry->size != pack.size || next_pack >= m_volume_packs[v].size() ||
          m_volume_packs[v][next_pack] != k) {
        return make_error(ErrorCode::kCorruption, "{}: pack {} is misplaced, repeated, out of order or of the wrong size",
                          info.name, entry->name);
      }
      ++next_pack;
      m_pack_seen[k] = true;
      TRY(stream_pack(*reader, info, k));
    }
    ASSIGN_OR_RETURN(auto hashed, reader->finish());
    if (hashed.first != info.size || (hash && hashed.second != info.sha256)) {
      return make_error(ErrorCode::kCorruption, "{}: SHA-256 mismatch (expected {}, got {}); re-copy this volume",
                        info.name, info.sha256, hashed.second);
    }
    m_stats.volume_bytes += hashed.first;
    return ok_status();
  }

  struct Slot {
    std::uint32_t index = 0;
    std::uint32_t end = 0;  // one past the last chunk in this frame (payload.group_end)
    const VolumeInfo* volume = nullptr;
    std::uint32_t pack = 0;
    Bytes frame;
    Bytes encoded;
    Bytes plain;
    Bytes base;  // an XOR frame's base chunk
    std::optional<Error> error;
  };

  struct Worker {
    std::optional<crypto::Aead> aead;
    codec::Decoder decoder;
  };

  // Frames are read here, in order; workers authenticate, decode and hash
  // them; the consumer thread hands them to the sink in the same order.
  Status stream_pack(archive::VolumeReader& reader, const VolumeInfo& info, std::uint32_t k) {
    for (std::uint32_t index : m_pack_chunks[k]) {
      if (m_payload.chunks[index].codec == codec::Codec::kMember) {
        continue;  // its bytes come with its solid block's frame
      }
      TRY(check_interrupt());
      std::size_t slot = 0;
      {
        ScopedTimer t(m_timings, "reader waits for a free slot");
        ASSIGN_OR_RETURN(slot, m_pipeline->acquire());
      }
      Slot& s = m_ring[slot];
      s.index = index;
      s.end = static_cast<std::uint32_t>(m_payload.group_end(index));
      s.volume = &info;
      s.pack = k;
      s.frame.resize(m_payload.chunks[index].stored);
      {
        ScopedTimer t(m_timings, "read volumes + volume hash (reader)");
        TRY(reader.read_exact(s.frame));
      }
      m_pipeline->submit(slot);
    }
    return ok_status();
  }

  // Runs on the consumer thread, in order.
  Status consume(Slot& s) {
    if (s.error) {
      return std::unexpected(*s.error);
    }
    std::uint64_t at = 0;
    for (std::uint32_t index = s.index; index < s.end; ++index) {
      const ChunkEntry& c = m_payload.chunks[index];
      {
        ScopedTimer t(m_timings, "write staged files + file hash (consumer)");
        TRY(m_sink(index, ByteSpan(s.plain).subspan(at, c.size)));
      }
      at += c.size;
      m_stats.chunk_bytes += c.size;
      m_done += c.stored;
      const std::uint32_t volume = m_payload.packs[c.pack].volume;
      if (--m_chunks_left[volume] == 0 && m_plan.volume_done) {
        TRY(m_plan.volume_done(volume));
      }
    }
    if (m_progress) {
      m_progress(ProgressEvent{"verify", s.volume->name, m_done, m_total});
    }
    return check_interrupt();
  }

  // Runs on a worker: frame -> plaintext, or the error naming what is wrong.
  void open_frame(Slot& s, Worker& w) {
    s.error.reset();
    const ChunkEntry& c = m_payload.chunks[s.index];
    const std::string& vol = s.volume->name;
    ByteSpan encoded = s.frame;
    if (w.aead) {
      if (c.stored < crypto::k_aead_tag_size) {
        s.error = Error(ErrorCode::kCorruption, fmt::format("{}: chunk {} frame is too short", vol, s.index));
        return;
      }
      s.encoded.resize(c.stored - crypto::k_aead_tag_size);
      const std::span<const ChunkEntry> group(m_payload.chunks.data() + s.index, s.end - s.index);
      auto st = w.aead->open(frame_nonce(s.index), frame_aad(m_opened.bundle_id, s.index, group), s.frame, s.encoded);
      if (!st) {
        s.error = Error(ErrorCode::kCorruption, fmt::format("{}: {} chunk {}: {}; re-copy this volume", vol,
                                                            m_payload.packs[s.pack].name, s.index, st.error().message()));
        return;
      }
      encoded = s.encoded;
    }
    // A solid block decodes, as the zstd frame it is, to its chunks back to
    // back (at most chunking.max bytes, checked by decode_payload).
    std::uint64_t plain_size = 0;
    for (std::uint32_t index = s.index; index < s.end; ++index) {
      plain_size += m_payload.chunks[index].size;
    }
    s.plain.resize(plain_size);
    const codec::Codec codec = c.codec == codec::Codec::kSolid ? codec::Codec::kZstd
                               : c.codec == codec::Codec::kXor ? c.inner
                                                               : c.codec;
    auto st = w.decoder.decode(codec, encoded, s.plain);
    if (!st) {
      s.error = Error(ErrorCode::kCorruption, fmt::format("{}: chunk {}: {}", vol, s.index, st.error().message()));
      return;
    }
    if (c.codec == codec::Codec::kXor) {
      // The base chunk, read back from the installed base and checked
      // against its id by base_chunk; the result is checked below as any chunk.
      s.base.resize(c.size);
      Status got = m_plan.base_chunk
                       ? m_plan.base_chunk(c.base_id, s.base)
                       : Status(make_error(ErrorCode::kNotFound, "chunk {} is a delta against a base version, which "
                                                                 "only an install reads", s.index));
      if (!got) {
        s.error = got.error();
        return;
      }
      for (std::size_t i = 0; i < s.plain.size(); ++i) {
        s.plain[i] ^= s.base[i];
      }
    }
    std::uint64_t at = 0;
    for (std::uint32_t index = s.index; index < s.end; ++index) {
      const ChunkEntry& m = m_payload.chunks[index];
      if (crypto::sha256(ByteSpan(s.plain).subspan(at, m.size)) != m.id) {
        s.error = Error(ErrorCode::kCorruption,
                        fmt::format("{}: chunk {} does not match its SHA-256 (expected {})", vol, index, to_hex(m.id)));
        return;
      }
      at += m.size;
    }
  }

  const OpenedIndex& m_opened;
  const Payload& m_payload;
  const ChunkSink& m_sink;
  const ProgressFn& m_progress;
  Timings* m_timings;
  const StreamPlan& m_plan;
  std::vector<std::uint64_t> m_chunks_left;  // per volume: chunks not yet handed to the sink
  std::vector<Slot> m_ring;
  std::vector<std::unique_ptr<Worker>> m_workers;
  std::vector<std::vector<std::uint32_t>> m_pack_chunks;
  std::vector<bool> m_pack_seen;
  std::vector<std::vector<std::uint32_t>> m_volume_packs;  // per volume: its packs, in writing order
  std::map<std::string, std::uint32_t> m_pack_by_name;
  StreamStats m_stats;
  std::uint64_t m_total = 0;
  std::uint64_t m_done = 0;
  // Last, so it is destroyed first: its destructor drains slots still in
  // flight through the work and consume functions, which use the members
  // above.
  std::unique_ptr<Pipeline> m_pipeline;
};

}  // namespace

namespace {

// kCorruption naming a file in `d` shaped like one of the bundle's volumes
// (BASE.volNNN.tar) that the signed header does not list.
Status check_unlisted_volumes_in_dir(const OpenedIndex& opened, const stdfs::path& d) {
  const std::string base = opened.index_path.stem().string() + ".vol";
  std::set<std::string> listed;
  for (const VolumeInfo& v : opened.header.volumes) {
    listed.insert(v.name);
  }
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(d, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(base) && name.ends_with(".tar") && !listed.contains(name)) {
      return make_error(ErrorCode::kCorruption,
                        "{}: volume not listed in the signed index ({} lists {} volume(s)); remove it or re-copy "
                        "the bundle",
                        (d / name).string(), opened.index_path.filename().string(), opened.header.volumes.size());
    }
  }
  return ok_status();
}

}  // namespace

Status check_no_extra_volumes_in(const OpenedIndex& opened, const stdfs::path& dir) {
  return check_unlisted_volumes_in_dir(opened, dir);
}

Status check_no_extra_volumes(const OpenedIndex& opened) {
  // Volumes are named BASE.volNNN.tar, BASE being the index's name without
  // ".airlock". A file of that shape the signed header does not list is
  // another bundle's volume or a leftover: the media are not what was signed.
  std::error_code ec;
  for (std::size_t v = 0; v < opened.header.volumes.size(); ++v) {
    if (!std::filesystem::exists(opened.volume_path(v), ec)) {
      return ok_status();  // a missing volume is the problem to name; the reader will
    }
  }
  for (const stdfs::path& d : opened.all_dirs()) {
    TRY(check_unlisted_volumes_in_dir(opened, d));
  }
  return ok_status();
}

Result<StreamStats> stream_volumes(const OpenedIndex& opened, const Payload& payload,
                                   const std::optional<crypto::AeadKey>& data_key, const ChunkSink& sink,
                                   const ProgressFn& progress, std::size_t threads, Timings* timings,
                                   const StreamPlan& plan) {
  if (opened.header.encrypted() && !data_key) {
    return make_error(ErrorCode::kNotForThisSite, "bundle is encrypted and no key was given");
  }
  if (plan.source) {
    VolumeStreamer streamer(opened, payload, data_key, sink, progress, threads, timings, plan);
    return streamer.run();
  }
  auto done = [&](std::size_t v) { return v < plan.done.size() && plan.done[v]; };
  // Every volume there before any is read: a forgotten disc is named now,
  // not after the others were read.
  for (std::size_t v = 0; v < opened.header.volumes.size(); ++v) {
    std::error_code ec;
    if (!done(v) && !stdfs::exists(stdfs::symlink_status(opened.volume_path(v), ec))) {
      ASSIGN_OR_RETURN(fs::File absent, open_volume(opened, v));  // names it (kNotFound)
      (void)absent;
    }
  }
  for (const stdfs::path& d : opened.all_dirs()) {
    TRY(check_unlisted_volumes_in_dir(opened, d));
  }
  VolumeStreamer streamer(opened, payload, data_key, sink, progress, threads, timings, plan);
  return streamer.run();
}

}  // namespace airlock::format

namespace airlock::format {

Status check_volume_hashes(const OpenedIndex& opened, const ProgressFn& progress, const std::vector<std::size_t>* only) {
  std::vector<std::size_t> which;
  if (only) {
    which = *only;
  } else {
    TRY(check_no_extra_volumes(opened));
    for (std::size_t i = 0; i < opened.header.volumes.size(); ++i) {
      which.push_back(i);
    }
  }
  std::vector<std::string> problems;
  std::uint64_t total = 0;
  for (std::size_t i : which) {
    total += opened.header.volumes[i].size;
  }
  std::uint64_t done = 0;
  Bytes buffer(1 << 20);
  bool corrupt = false;
  for (std::size_t i : which) {
    const VolumeInfo& v = opened.header.volumes[i];
    auto file = open_volume(opened, i);
    if (!file) {
      if (file.error().code() != ErrorCode::kNotFound) {
        corrupt = true;
      }
      problems.push_back(file.error().message());
      continue;
    }
    auto size = file->size();
    if (!size) {
      return std::unexpected(Error(size.error()).with_context(v.name));
    }
    if (*size != v.size) {
      corrupt = true;
      problems.push_back(fmt::format("{}: {} bytes, the signed index says {} (truncated or altered)", v.name, *size, v.size));
      continue;
    }
    // Bounded by the signed size; one more read must find the end.
    crypto::Sha256 hash;
    std::uint64_t read = 0;
    for (;;) {
      TRY(check_interrupt());
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(v.size - read, buffer.size()));
      auto n = file->read_some(std::span<std::uint8_t>(buffer.data(), want == 0 ? 1 : want));
      if (!n) {
        return std::unexpected(n.error());
      }
      if (*n == 0) {
        break;
      }
      if (want == 0) {
        read = v.size + 1;  // grew while we read
        break;
      }
      hash.update(ByteSpan(buffer.data(), *n));
      read += *n;
      done += *n;
      if (progress) {
        progress(ProgressEvent{"verify", v.name, done, total});
      }
    }
    std::string got = to_hex(hash.finish());
    if (read != v.size) {
      corrupt = true;
      problems.push_back(fmt::format("{}: {} bytes read, the signed index says {} (truncated or altered)", v.name,
                                     read > v.size ? "more than " + std::to_string(v.size) : std::to_string(read),
                                     v.size));
    } else if (got != v.sha256) {
      corrupt = true;
      problems.push_back(fmt::format("{}: SHA-256 mismatch (expected {}, got {})", v.name, v.sha256, got));
    }
  }
  if (!problems.empty() && !corrupt) {
    // Only missing volumes: nothing is wrong with what is there.
    return make_error(ErrorCode::kNotFound, "{}", fmt::join(problems, "; "));
  }
  if (!problems.empty()) {
    return make_error(ErrorCode::kCorruption, "{}; re-copy the volume(s) named", fmt::join(problems, "; "));
  }
  return ok_status();
}

namespace {

// "medium 3 of 6" in a MEDIUM.txt label: 3, or 0.
std::uint32_t medium_from_label(const stdfs::path& dir, std::uint32_t count) {
  const std::string label = find_entry_folded(dir, k_medium_label_name);  // "MEDIUM.TXT" on a plain ISO 9660
  if (label.empty()) {
    return 0;
  }
  auto text = fs::read_text_file(dir / label, 64 << 10);
  if (!text) {
    return 0;
  }
  const std::string want = fmt::format(" of {} (", count);
  for (std::string_view line : text::split_words(*text, "\n")) {
    if (!line.starts_with("medium ") || line.find(want) == std::string_view::npos) {
      continue;
    }
    std::uint32_t n = 0;
    for (char c : line.substr(7, line.find(' ', 7) - 7)) {
      if (c < '0' || c > '9' || n > count) {
        return 0;
      }
      n = n * 10 + static_cast<std::uint32_t>(c - '0');
    }
    return n >= 1 && n <= count ? n : 0;
  }
  return 0;
}

}  // namespace

std::string medium_name(const MediumCheck& c) {
  if (c.medium == 0) {
    if (c.count == 0) {
      return "this directory (the bundle was not made for media)";
    }
    return c.checked.empty() ? fmt::format("a medium of {} that holds no volume and no label", c.count)
                             : fmt::format("a directory holding volumes of several of the {} media", c.count);
  }
  return fmt::format("{} (medium {} of {}{})", medium_dir_name(c.medium), c.medium, c.count,
                     c.from_label ? ", told by its unsigned MEDIUM.txt: it holds no volume" : "");
}

std::string medium_summary(const OpenedIndex& opened, const MediumCheck& c) {
  const auto& vols = opened.header.volumes;
  std::string out = fmt::format("{} volume(s) checked", c.checked.size());
  if (!c.checked.empty()) {
    std::vector<std::string> names;
    for (std::size_t v : c.checked) {
      names.push_back(vols[v].name);
    }
    out += fmt::format(" ({})", fmt::join(names, ", "));
  }
  if (c.elsewhere.empty()) {
    return out + "; nothing else is needed";
  }
  std::map<std::uint32_t, std::vector<std::string>> by_medium;
  for (std::size_t v : c.elsewhere) {
    by_medium[opened.header.media ? opened.header.media->volume_media[v] : 0].push_back(vols[v].name);
  }
  std::vector<std::string> parts;
  for (const auto& [m, names] : by_medium) {
    parts.push_back(m == 0 ? fmt::format("{}", fmt::join(names, ", ")) : fmt::format("{} ({})", medium_dir_name(m), fmt::join(names, ", ")));
  }
  return out + fmt::format("; still needed from the other media: {}", fmt::join(parts, "; "));
}

nlohmann::json medium_check_json(const OpenedIndex& opened, const MediumCheck& c) {
  const Header& h = opened.header;
  nlohmann::json checked = nlohmann::json::array();
  for (std::size_t v : c.checked) {
    checked.push_back(h.volumes[v].name);
  }
  nlohmann::json needed = nlohmann::json::array();
  for (std::size_t v : c.elsewhere) {
    needed.push_back({{"volume", h.volumes[v].name}, {"medium", h.media ? h.media->volume_media[v] : 0}});
  }
  return {{"deployment", h.name},     {"version", h.version}, {"bundle_id", h.bundle_id},
          {"ok", true},               {"medium", c.medium},   {"media", c.count},
          {"medium_from_label", c.from_label}, {"checked", std::move(checked)}, {"still_needed", std::move(needed)}};
}

Result<MediumCheck> check_medium(OpenedIndex& opened, const ProgressFn& progress) {
  MediumCheck out;
  ASSIGN_OR_RETURN(out.notes, find_renamed_volumes(opened, nullptr));
  const auto& vols = opened.header.volumes;
  std::error_code ec;
  std::vector<std::size_t> here;
  std::set<std::uint32_t> media_here;
  for (std::size_t v = 0; v < vols.size(); ++v) {
    const stdfs::path at = opened.volume_path(v);
    if (at.parent_path() == opened.dir && stdfs::exists(stdfs::symlink_status(at, ec))) {
      here.push_back(v);
      if (opened.header.media) {
        media_here.insert(opened.header.media->volume_media[v]);
      }
    } else {
      out.elsewhere.push_back(v);
    }
  }
  if (opened.header.media) {
    out.count = opened.header.media->count;
    if (media_here.size() == 1) {
      out.medium = *media_here.begin();
    } else if (media_here.empty()) {
      out.medium = medium_from_label(opened.dir, out.count);
      out.from_label = out.medium != 0;
    }
    // Every volume of the medium told must be here.
    if (out.medium != 0) {
      for (std::size_t v : volumes_on_medium(*opened.header.media, out.medium)) {
        if (std::find(here.begin(), here.end(), v) == here.end()) {
          return make_error(ErrorCode::kNotFound, "{}: {} is missing from this medium: copy it again",
                            opened.dir.string(), opened.describe_volume(v));
        }
      }
    }
  }
  TRY(check_unlisted_volumes_in_dir(opened, opened.dir));
  TRY(check_volume_hashes(opened, progress, &here));
  out.checked = std::move(here);
  return out;
}

}  // namespace airlock::format

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
#include "core/codec/codec.h"
#include "core/crypto/sha256.h"
#include "core/format/frame.h"
#include "core/fs/file.h"

namespace airlock::format {

namespace stdfs = std::filesystem;

Result<stdfs::path> locate_index(const stdfs::path& bundle) {
  std::error_code ec;
  if (stdfs::is_directory(bundle, ec)) {
    std::vector<stdfs::path> found;
    for (const auto& e : stdfs::directory_iterator(bundle, ec)) {
      if (e.path().extension() == ".airlock" && e.is_regular_file()) {
        found.push_back(e.path());
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

Result<OpenedIndex> open_index(const stdfs::path& bundle) {
  OpenedIndex out;
  ASSIGN_OR_RETURN(out.index_path, locate_index(bundle));
  out.dir = out.index_path.parent_path().empty() ? stdfs::path(".") : out.index_path.parent_path();
  ASSIGN_OR_RETURN(Bytes bytes, fs::read_file(out.index_path, k_max_index_size));
  out.index_sha256 = crypto::sha256_hex(bytes);
  std::string name = out.index_path.filename().string();
  auto index = parse_index(bytes);
  if (!index) {
    return std::unexpected(Error(index.error()).with_context(name));
  }
  out.index = std::move(*index);
  auto header = parse_header(out.index.header);
  if (!header) {
    return std::unexpected(Error(header.error()).with_context(name));
  }
  out.header = std::move(*header);
  out.bundle_id = *from_hex(out.header.bundle_id);
  return out;
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
  auto payload = decode_payload(plain, opened.header.volumes.size());
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

class VolumeStreamer {
 public:
  VolumeStreamer(const OpenedIndex& opened, const Payload& payload, const std::optional<crypto::AeadKey>& key,
                 const ChunkSink& sink, const ProgressFn& progress, std::size_t threads_requested, Timings* timings)
      : m_opened(opened), m_payload(payload), m_sink(sink), m_progress(progress), m_timings(timings) {
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
      m_pack_chunks[payload.chunks[i].pack].push_back(i);  // already in offset order
    }
    m_pack_seen.assign(payload.packs.size(), false);
    for (std::size_t k = 0; k < payload.packs.size(); ++k) {
      m_pack_by_name[payload.packs[k].name] = static_cast<std::uint32_t>(k);
    }
    for (const VolumeInfo& v : opened.header.volumes) {
      m_total += v.size;
    }
  }

  Result<StreamStats> run() {
    for (std::uint32_t v = 0; v < m_opened.header.volumes.size(); ++v) {
      Status st = stream_volume(v);
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
  Status stream_volume(std::uint32_t v) {
    const VolumeInfo& info = m_opened.header.volumes[v];
    stdfs::path path = m_opened.dir / info.name;
    std::error_code ec;
    if (!stdfs::exists(path, ec)) {
      return make_error(ErrorCode::kCorruption, "{}: volume is missing (expected at {}); copy every volume of the bundle",
                        info.name, path.string());
    }
    auto size = stdfs::file_size(path, ec);
    if (!ec && size != info.size) {
      return make_error(ErrorCode::kCorruption, "{}: volume is {} bytes, the signed index says {} (truncated or altered); re-copy this volume",
                        info.name, size, info.size);
    }
    ASSIGN_OR_RETURN(auto reader, archive::VolumeReader::open(path, info.name));
    for (;;) {
      ASSIGN_OR_RETURN(auto entry, reader->next());
      if (!entry) {
        break;
      }
      auto it = m_pack_by_name.find(entry->name);
      if (!entry->regular || it == m_pack_by_name.end()) {
        return make_error(ErrorCode::kCorruption, "{}: unexpected entry '{}' in the volume", info.name, entry->name);
      }
      std::uint32_t k = it->second;
      const PackEntry& pack = m_payload.packs[k];
      if (pack.volume != v || m_pack_seen[k] || entry->size != pack.size) {
        return make_error(ErrorCode::kCorruption, "{}: pack {} is misplaced, repeated or of the wrong size", info.name,
                          entry->name);
      }
      m_pack_seen[k] = true;
      TRY(stream_pack(*reader, info, k));
    }
    ASSIGN_OR_RETURN(auto hashed, reader->finish());
    if (hashed.first != info.size || hashed.second != info.sha256) {
      return make_error(ErrorCode::kCorruption, "{}: SHA-256 mismatch (expected {}, got {}); re-copy this volume",
                        info.name, info.sha256, hashed.second);
    }
    m_stats.volume_bytes += hashed.first;
    return ok_status();
  }

  struct Slot {
    std::uint32_t index = 0;
    const VolumeInfo* volume = nullptr;
    std::uint32_t pack = 0;
    Bytes frame;
    Bytes encoded;
    Bytes plain;
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
      TRY(check_interrupt());
      std::size_t slot = 0;
      {
        ScopedTimer t(m_timings, "reader waits for a free slot");
        ASSIGN_OR_RETURN(slot, m_pipeline->acquire());
      }
      Slot& s = m_ring[slot];
      s.index = index;
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
    {
      ScopedTimer t(m_timings, "write staged files + file hash (consumer)");
      TRY(m_sink(s.index, s.plain));
    }
    const ChunkEntry& c = m_payload.chunks[s.index];
    m_stats.chunk_bytes += c.size;
    m_done += c.stored;
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
      auto st = w.aead->open(frame_nonce(s.index), frame_aad(m_opened.bundle_id, s.index, c), s.frame, s.encoded);
      if (!st) {
        s.error = Error(ErrorCode::kCorruption, fmt::format("{}: {} chunk {}: {}; re-copy this volume", vol,
                                                            m_payload.packs[s.pack].name, s.index, st.error().message()));
        return;
      }
      encoded = s.encoded;
    }
    s.plain.resize(c.size);
    auto st = w.decoder.decode(c.codec, encoded, s.plain);
    if (!st) {
      s.error = Error(ErrorCode::kCorruption, fmt::format("{}: chunk {}: {}", vol, s.index, st.error().message()));
      return;
    }
    if (crypto::sha256(s.plain) != c.id) {
      s.error = Error(ErrorCode::kCorruption,
                      fmt::format("{}: chunk {} does not match its SHA-256 (expected {})", vol, s.index, to_hex(c.id)));
    }
  }

  const OpenedIndex& m_opened;
  const Payload& m_payload;
  const ChunkSink& m_sink;
  const ProgressFn& m_progress;
  Timings* m_timings;
  std::vector<Slot> m_ring;
  std::vector<std::unique_ptr<Worker>> m_workers;
  std::vector<std::vector<std::uint32_t>> m_pack_chunks;
  std::vector<bool> m_pack_seen;
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

Status check_no_extra_volumes(const OpenedIndex& opened) {
  // Volumes are named BASE.volNNN.tar, BASE being the index's name without
  // ".airlock". A file of that shape the signed header does not list is
  // another bundle's volume or a leftover: the media are not what was signed.
  const std::string base = opened.index_path.stem().string() + ".vol";
  std::set<std::string> listed;
  std::error_code ec;
  for (const VolumeInfo& v : opened.header.volumes) {
    listed.insert(v.name);
    if (!std::filesystem::exists(opened.dir / v.name, ec)) {
      return ok_status();  // a missing volume is the problem to name; the reader will
    }
  }
  for (const auto& e : std::filesystem::directory_iterator(opened.dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(base) && name.ends_with(".tar") && !listed.contains(name)) {
      return make_error(ErrorCode::kCorruption,
                        "{}: volume not listed in the signed index ({} lists {} volume(s)); remove it or re-copy "
                        "the bundle",
                        name, opened.index_path.filename().string(), opened.header.volumes.size());
    }
  }
  return ok_status();
}

Result<StreamStats> stream_volumes(const OpenedIndex& opened, const Payload& payload,
                                   const std::optional<crypto::AeadKey>& data_key, const ChunkSink& sink,
                                   const ProgressFn& progress, std::size_t threads, Timings* timings) {
  if (opened.header.encrypted() && !data_key) {
    return make_error(ErrorCode::kNotForThisSite, "bundle is encrypted and no key was given");
  }
  TRY(check_no_extra_volumes(opened));
  VolumeStreamer streamer(opened, payload, data_key, sink, progress, threads, timings);
  return streamer.run();
}

}  // namespace airlock::format

namespace airlock::format {

Status check_volume_hashes(const OpenedIndex& opened, const ProgressFn& progress) {
  TRY(check_no_extra_volumes(opened));
  std::vector<std::string> problems;
  std::uint64_t total = 0;
  for (const VolumeInfo& v : opened.header.volumes) {
    total += v.size;
  }
  std::uint64_t done = 0;
  Bytes buffer(1 << 20);
  for (const VolumeInfo& v : opened.header.volumes) {
    auto file = fs::File::open_read(opened.dir / v.name);
    if (!file) {
      problems.push_back(fmt::format("{}: volume is missing", v.name));
      continue;
    }
    crypto::Sha256 hash;
    std::uint64_t size = 0;
    for (;;) {
      TRY(check_interrupt());
      auto n = file->read_some(buffer);
      if (!n) {
        return std::unexpected(n.error());
      }
      if (*n == 0) {
        break;
      }
      hash.update(ByteSpan(buffer.data(), *n));
      size += *n;
      done += *n;
      if (progress) {
        progress(ProgressEvent{"verify", v.name, done, total});
      }
    }
    std::string got = to_hex(hash.finish());
    if (size != v.size) {
      problems.push_back(fmt::format("{}: {} bytes, the signed index says {} (truncated or altered)", v.name, size, v.size));
    } else if (got != v.sha256) {
      problems.push_back(fmt::format("{}: SHA-256 mismatch (expected {}, got {})", v.name, v.sha256, got));
    }
  }
  if (!problems.empty()) {
    return make_error(ErrorCode::kCorruption, "{}; re-copy the volume(s) named", fmt::join(problems, "; "));
  }
  return ok_status();
}

}  // namespace airlock::format

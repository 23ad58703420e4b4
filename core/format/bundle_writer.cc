#include "core/format/bundle_writer.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <zstd.h>

#include "core/archive/volume.h"
#include "core/base/interrupt.h"
#include "core/base/ordered_pool.h"
#include "core/base/pipeline.h"
#include "core/chunk/chunker.h"
#include "core/format/frame.h"

namespace airlock::format {

namespace {

using DigestHash = DigestHasher;

// Accumulates frames into packs and packs into volumes, keeping every volume
// within the size limit.
class PackSink {
 public:
  PackSink(const WriteOptions& options, WriteResult& result) : m_options(options), m_result(result) {
    m_pack.reserve(options.pack_size);
  }

  // Appends a frame; returns its (pack index, offset in the pack).
  Result<std::pair<std::uint32_t, std::uint64_t>> add_frame(ByteSpan frame) {
    std::uint64_t limit = m_limit - archive::k_archive_trailer;
    bool pack_full = !m_pack.empty() && m_pack.size() + frame.size() > m_options.pack_size;
    bool volume_full = m_volume && m_volume_used + archive::k_entry_overhead + m_pack.size() + frame.size() > limit;
    if (pack_full || volume_full) {
      TRY(flush_pack());
    }
    if (m_volume && m_volume_used + archive::k_entry_overhead + frame.size() > limit) {
      TRY(finish_volume());
    }
    if (!m_volume) {
      TRY(start_volume());
    }
    if (m_pack.empty()) {
      PackEntry entry;
      entry.volume = static_cast<std::uint32_t>(m_result.volumes.size() - 1);
      entry.name = fmt::format("packs/{:06}.pack", m_result.payload.packs.size());
      m_result.payload.packs.push_back(std::move(entry));
    }
    std::uint64_t offset = m_pack.size();
    m_pack.insert(m_pack.end(), frame.begin(), frame.end());
    return std::make_pair(static_cast<std::uint32_t>(m_result.payload.packs.size() - 1), offset);
  }

  Status finish() {
    TRY(flush_pack());
    if (!m_volume) {
      TRY(start_volume());  // an empty deployment still has one (empty) volume
    }
    return finish_volume();
  }

 private:
  Status start_volume() {
    m_limit = m_options.volume_size;
    if (m_options.volume_limit) {
      ASSIGN_OR_RETURN(m_limit, m_options.volume_limit(m_result.volumes));
      if (m_limit < k_min_volume_size) {
        return make_error(ErrorCode::kInvalidArgument, "volume {}: a limit of {} bytes is below the smallest volume",
                          m_result.volumes.size() + 1, m_limit);
      }
    }
    VolumeInfo info;
    info.name = fmt::format("{}.vol{:03}.tar", m_options.base_name, m_result.volumes.size() + 1);
    ASSIGN_OR_RETURN(m_volume, archive::VolumeWriter::create(m_options.dir / info.name));
    m_result.volumes.push_back(std::move(info));
    m_volume_used = 0;
    return ok_status();
  }

  Status flush_pack() {
    if (m_pack.empty()) {
      return ok_status();
    }
    PackEntry& entry = m_result.payload.packs.back();
    entry.size = m_pack.size();
    TRY(m_volume->add_entry(entry.name, m_pack));
    m_volume_used = m_volume->logical_size();
    m_pack.clear();
    return ok_status();
  }

  Status finish_volume() {
    TRY(m_volume->finish());
    VolumeInfo& info = m_result.volumes.back();
    info.size = m_volume->bytes_written();
    info.sha256 = m_volume->sha256_hex();
    if (info.size > m_limit) {
      return make_error(ErrorCode::kIOError, "{}: {} bytes exceeds the volume size {} (internal limit error)",
                        info.name, info.size, m_limit);
    }
    m_volume.reset();
    return ok_status();
  }

  const WriteOptions& m_options;
  WriteResult& m_result;
  std::unique_ptr<archive::VolumeWriter> m_volume;
  std::uint64_t m_volume_used = 0;
  std::uint64_t m_limit = 0;  // of the volume being written
  Bytes m_pack;
};

}  // namespace

namespace {

// One chunk on its way through the pipeline. The producer (reading and
// cutting, in file order) fills `data` and `hint`; a worker computes `id` and
// `encoded`; the consumer (dedup, encryption, packing, in order) takes it.
struct Slot {
  // A small file of a solid-block candidate: `size` bytes of `data`, after
  // the members before it; the worker sets `id`.
  struct Member {
    std::uint32_t file = 0;
    std::uint64_t size = 0;
    crypto::Digest id{};
  };
  Bytes data;
  codec::ChunkHint hint;
  std::uint32_t file = 0;
  std::uint64_t seq = 0;      // among the slots the FileHasher sees, in reading order
  bool last_in_file = false;  // the file's whole-file hash is done after this chunk
  // Non-empty: `data` is these whole small files back to back, each one
  // chunk (its SHA-256 is the file's), encoded together; the FileHasher
  // never sees the slot.
  std::vector<Member> members;
  crypto::Digest id{};
  codec::Codec codec = codec::Codec::kStore;
  Bytes encoded;
  // Delta bundles: the chunk is in the base (no frame), or the base chunk
  // of the same tensor place (the producer's find) and, when the XOR with
  // it encoded smaller, that encoding.
  bool in_base = false;
  bool has_base = false;
  crypto::Digest base_id{};
  Bytes base_data;
  bool use_xor = false;
  codec::Codec xor_inner = codec::Codec::kStore;
  Bytes xor_plain;
  Bytes xor_encoded;
};

// Whole-file SHA-256 on a thread of its own. It is the one strictly serial
// pass over every input byte; on the producer's thread it made reading and
// cutting wait for it. The producer hands it each slot in reading order
// (queue()); the consumer, before it lets a slot go back to the producer,
// waits until the hasher is past it (wait_past()), so a slot's bytes stay put
// while they are hashed. It only reads Slot::data, which the workers also
// only read. Slots reach it at most ring-size at a time.
class FileHasher {
 public:
  FileHasher(std::vector<Slot>& ring, std::vector<FileEntry>& files, Timings* timings)
      : m_ring(ring), m_files(files), m_timings(timings), m_thread([this] { run(); }) {}
  ~FileHasher() {
    {
      std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_cv.notify_all();
    m_thread.join();
  }
  FileHasher(const FileHasher&) = delete;
  FileHasher& operator=(const FileHasher&) = delete;

  void queue(std::size_t slot) {
    {
      std::lock_guard lock(m_mutex);
      m_queue.push_back(slot);
    }
    m_cv.notify_all();
  }

  // Blocks until the chunk numbered `seq` has been hashed.
  void wait_past(std::uint64_t seq) {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [&] { return m_done > seq; });
  }

 private:
  void run() {
    for (;;) {
      std::size_t slot = 0;
      {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_stop || !m_queue.empty(); });
        if (m_queue.empty()) {
          return;  // stopping, and nothing left
        }
        slot = m_queue.front();
        m_queue.pop_front();
      }
      const Slot& s = m_ring[slot];
      {
        ScopedTimer t(m_timings, "whole-file hash (hasher)");
        m_hash.update(s.data);
        if (s.last_in_file) {
          m_files[s.file].sha256 = to_hex(m_hash.finish());
        }
      }
      {
        std::lock_guard lock(m_mutex);
        ++m_done;
      }
      m_cv.notify_all();
    }
  }

  std::vector<Slot>& m_ring;
  std::vector<FileEntry>& m_files;
  Timings* m_timings;
  crypto::Sha256 m_hash;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::size_t> m_queue;
  std::uint64_t m_done = 0;
  bool m_stop = false;
  std::thread m_thread;  // last: starts once everything above exists
};

}  // namespace

Result<WriteResult> write_volumes(const std::vector<InputFile>& inputs, const WriteOptions& options) {
  if (!options.volume_limit && options.volume_size < k_min_volume_size) {
    return make_error(ErrorCode::kInvalidArgument, "volume size {} is below the minimum of {} bytes",
                      options.volume_size, k_min_volume_size);
  }
  WriteResult result;
  result.payload.chunking = options.chunking;
  result.payload.chunking.tensor_size = std::min(options.chunking.tensor_size, options.chunking.max_size);
  // Every file entry exists before the pipeline starts: the producer only
  // ever sets a file's sha256, the consumer only its references.
  for (const InputFile& in : inputs) {
    FileEntry entry;
    entry.path = in.path;
    entry.mode = in.mode;
    entry.size = in.size;
    result.payload.files.push_back(std::move(entry));
    result.input_bytes += in.size;
  }
  PackSink sink(options, result);
  std::unordered_map<crypto::Digest, std::uint32_t, DigestHash> seen;
  std::optional<crypto::Aead> aead;
  if (options.data_key) {
    aead.emplace(*options.data_key);
  }
  std::uint64_t done = 0;
  Bytes sealed;

  // Three stages: this thread reads, cuts and hashes files in order; workers
  // compute chunk ids and codec output; the consumer thread deduplicates,
  // numbers, encrypts (nonces follow chunk numbers) and writes, in order.
  const std::size_t threads = OrderedPool::resolve_threads(options.threads);
  std::vector<std::unique_ptr<codec::Encoder>> encoders;
  std::vector<std::unique_ptr<crypto::Sha256>> hashers;
  for (std::size_t i = 0; i < threads; ++i) {
    encoders.push_back(std::make_unique<codec::Encoder>(options.zstd_level));
    hashers.push_back(std::make_unique<crypto::Sha256>());
  }
  std::vector<Slot> ring(4 * threads + 4);
  auto work = [&](std::size_t slot, std::size_t worker) {
    ScopedTimer t(options.timings, "hash + encode (workers)");
    Slot& s = ring[slot];
    std::uint64_t at = 0;
    for (Slot::Member& m : s.members) {
      hashers[worker]->update(ByteSpan(s.data).subspan(at, m.size));
      m.id = hashers[worker]->finish();
      at += m.size;
    }
    s.in_base = false;
    s.use_xor = false;
    if (s.members.empty()) {
      hashers[worker]->update(s.data);
      s.id = hashers[worker]->finish();
      if (options.delta != nullptr && options.delta->chunks.contains(s.id)) {
        s.in_base = true;  // read back from the installed base: nothing to encode
        return;
      }
    }
    s.codec = encoders[worker]->encode(s.data, s.hint, s.encoded);
    if (s.has_base && s.base_data.size() == s.data.size()) {
      hashers[worker]->update(s.base_data);
      if (hashers[worker]->finish() != s.base_id) {
        return;  // the base file changed since it was bundled: no XOR against it
      }
      s.xor_plain.resize(s.data.size());
      for (std::size_t i = 0; i < s.data.size(); ++i) {
        s.xor_plain[i] = s.data[i] ^ s.base_data[i];
      }
      s.xor_inner = encoders[worker]->encode(s.xor_plain, s.hint, s.xor_encoded);
      s.use_xor = s.xor_encoded.size() < s.encoded.size();
    }
  };
  FileHasher hasher(ring, result.payload.files, options.timings);  // outlives the pipeline
  std::vector<ChunkEntry> group;  // the records of the frame being stored
  // Stores one frame: `head` (id, size and codec set) and, for a solid
  // block (head.codec kSolid), the records of `members` after it.
  auto store_frame = [&](ChunkEntry head, ByteSpan encoded, std::span<const ChunkEntry> members) -> Status {
    const std::uint64_t index = result.payload.chunks.size();
    ByteSpan frame = encoded;
    head.stored = encoded.size() + (aead ? crypto::k_aead_tag_size : 0);
    if (aead) {
      group.assign(1, head);
      group.insert(group.end(), members.begin(), members.end());
      aead->seal(frame_nonce(index), frame_aad(options.bundle_id, index, group), encoded, sealed);
      frame = sealed;
    }
    ASSIGN_OR_RETURN(auto where, sink.add_frame(frame));
    head.pack = where.first;
    head.offset = where.second;
    result.stored_bytes += head.stored;
    seen.try_emplace(head.id, static_cast<std::uint32_t>(result.payload.chunks.size()));
    result.payload.chunks.push_back(head);
    for (ChunkEntry m : members) {
      m.codec = codec::Codec::kMember;
      m.pack = head.pack;
      m.offset = head.offset + head.stored;
      m.stored = 0;
      seen.try_emplace(m.id, static_cast<std::uint32_t>(result.payload.chunks.size()));
      result.payload.chunks.push_back(m);
    }
    return ok_status();
  };
  // A chunk the base holds: a record, no frame.
  auto add_base_chunk = [&](const crypto::Digest& id, std::uint64_t size) {
    ChunkEntry ce;
    ce.id = id;
    ce.size = size;
    ce.codec = codec::Codec::kBase;
    ce.pack = k_no_pack;
    seen.try_emplace(id, static_cast<std::uint32_t>(result.payload.chunks.size()));
    result.payload.chunks.push_back(ce);
    ++result.base_chunks;
    result.base_bytes += size;
  };
  auto add_ref = [&](std::uint32_t file, const crypto::Digest& id) {
    FileEntry& entry = result.payload.files[file];
    if (entry.ref_count == 0) {
      entry.first_ref = result.payload.refs.size();
    }
    result.payload.refs.push_back(seen.at(id));
    ++entry.ref_count;
  };
  // Small files, each one chunk: those not in the bundle yet go into one
  // solid block when zstd makes their bytes smaller together, else each
  // into a frame of its own. The worker encoded the whole slot; where some
  // members are already stored (a duplicate), the rest is encoded again here.
  codec::Encoder regroup_encoder(options.zstd_level);
  Bytes regrouped;
  Bytes regrouped_encoded;
  std::unordered_set<crypto::Digest, DigestHash> fresh_ids;
  auto consume_small_files = [&](Slot& s) -> Status {
    std::vector<ChunkEntry> fresh;
    std::vector<ByteSpan> fresh_bytes;
    fresh_ids.clear();
    std::uint64_t at = 0;
    for (const Slot::Member& m : s.members) {
      if (!seen.contains(m.id) && options.delta != nullptr && options.delta->chunks.contains(m.id)) {
        add_base_chunk(m.id, m.size);
      }
      if (!seen.contains(m.id) && fresh_ids.insert(m.id).second) {
        ChunkEntry ce;
        ce.id = m.id;
        ce.size = m.size;
        fresh.push_back(ce);
        fresh_bytes.push_back(ByteSpan(s.data).subspan(at, m.size));
      }
      at += m.size;
    }
    ByteSpan encoded = s.encoded;
    codec::Codec codec = s.codec;
    if (fresh.size() != s.members.size()) {  // encode again without the duplicates
      regrouped.clear();
      for (ByteSpan b : fresh_bytes) {
        regrouped.insert(regrouped.end(), b.begin(), b.end());
      }
      codec = regroup_encoder.encode(regrouped, codec::ChunkHint{}, regrouped_encoded);
      encoded = regrouped_encoded;
    }
    if (fresh.size() == 1 || (fresh.size() > 1 && codec == codec::Codec::kZstd)) {
      fresh.front().codec = fresh.size() == 1 ? codec : codec::Codec::kSolid;
      TRY(store_frame(fresh.front(), encoded, std::span<const ChunkEntry>(fresh).subspan(1)));
    } else {
      for (std::size_t i = 0; i < fresh.size(); ++i) {  // nothing to gain: each stored as it is
        fresh[i].codec = codec::Codec::kStore;
        TRY(store_frame(fresh[i], fresh_bytes[i], {}));
      }
    }
    for (const Slot::Member& m : s.members) {
      add_ref(m.file, m.id);
      result.payload.files[m.file].sha256 = to_hex(m.id);  // one chunk: the file's hash is the chunk id
      done += m.size;
    }
    return ok_status();
  };
  auto consume = [&](std::size_t slot) -> Status {
    Slot& s = ring[slot];
    ScopedTimer t(options.timings, "dedup + encrypt + pack + write (consumer)");
    if (!s.members.empty()) {
      TRY(consume_small_files(s));
    } else {
      if (!seen.contains(s.id) && s.in_base) {
        add_base_chunk(s.id, s.data.size());
      } else if (!seen.contains(s.id)) {
        ChunkEntry ce;
        ce.id = s.id;
        ce.size = s.data.size();
        ce.codec = s.codec;
        if (s.use_xor) {
          ce.codec = codec::Codec::kXor;
          ce.inner = s.xor_inner;
          ce.base_id = s.base_id;
          TRY(store_frame(ce, s.xor_encoded, {}));
          ++result.xor_chunks;
          result.xor_bytes += ce.size;
          result.xor_stored += result.payload.chunks[seen.at(ce.id)].stored;
        } else {
          TRY(store_frame(ce, s.encoded, {}));
        }
      }
      add_ref(s.file, s.id);
      done += s.data.size();
    }
    if (options.progress) {
      options.progress(ProgressEvent{"pack", result.payload.files[s.file].path, done, result.input_bytes});
    }
    t.stop();
    if (s.members.empty()) {
      ScopedTimer w(options.timings, "consumer waits for the file hash");
      hasher.wait_past(s.seq);  // the slot goes back to the producer after this
    }
    return check_interrupt();
  };
  Pipeline pipeline(threads == 1 ? 0 : threads, ring.size(), work, consume);

  std::uint64_t seq = 0;
  // Small files waiting to be handed over as one solid-block slot.
  Bytes small_data;
  std::vector<Slot::Member> small_members;
  auto submit_small_files = [&]() -> Status {
    if (small_members.empty()) {
      return ok_status();
    }
    std::size_t slot = 0;
    {
      ScopedTimer w(options.timings, "producer waits for a free slot");
      ASSIGN_OR_RETURN(slot, pipeline.acquire());
    }
    Slot& s = ring[slot];
    s.data.swap(small_data);  // small_data keeps the slot's old buffer to fill next
    small_data.clear();
    s.members.swap(small_members);
    small_members.clear();
    s.hint = codec::ChunkHint{};
    s.file = s.members.back().file;
    pipeline.submit(slot);
    return ok_status();
  };
  const std::uint64_t solid_max = result.payload.chunking.max_size;
  for (std::uint32_t f = 0; f < inputs.size(); ++f) {
    const InputFile& in = inputs[f];
    ASSIGN_OR_RETURN(fs::File file, fs::File::open_read(in.source));
    ASSIGN_OR_RETURN(std::uint64_t size, file.size());
    if (size != in.size) {
      return make_error(ErrorCode::kIOError, "{}: changed size while bundling ({} -> {} bytes)", in.source.string(),
                        in.size, size);
    }
    if (size == 0) {
      result.payload.files[f].sha256 = to_hex(crypto::Sha256().finish());
      continue;
    }
    ASSIGN_OR_RETURN(chunk::FileChunker chunker, chunk::FileChunker::open(file, size, result.payload.chunking));
    std::uint64_t offset = 0;
    for (;;) {
      TRY(check_interrupt());
      ScopedTimer t(options.timings, "read + chunk (producer)");
      ASSIGN_OR_RETURN(std::optional<chunk::Chunk> c, chunker.next());
      if (!c) {
        break;
      }
      t.stop();
      if (offset == 0 && c->data.size() == size && size <= options.solid_file_max &&
          c->hint.dtype == chunk::DType::kOther) {
        // A small file, one chunk: into the next solid block.
        if (small_data.size() + size > solid_max) {
          TRY(submit_small_files());
        }
        small_data.insert(small_data.end(), c->data.begin(), c->data.end());
        small_members.push_back(Slot::Member{f, size, {}});
        offset = size;
        break;
      }
      std::size_t slot = 0;
      {
        ScopedTimer w(options.timings, "producer waits for a free slot");
        ASSIGN_OR_RETURN(slot, pipeline.acquire());
      }
      Slot& s = ring[slot];
      s.data.assign(c->data.begin(), c->data.end());
      s.members.clear();
      s.hint = c->hint;
      s.file = f;
      s.has_base = options.delta != nullptr && options.delta->xor_base &&
                   options.delta->xor_base(f, c->offset, c->data.size(), s.base_id, s.base_data);
      s.seq = seq++;
      offset += c->data.size();
      s.last_in_file = offset == size;
      hasher.queue(slot);
      pipeline.submit(slot);
    }
    if (offset != size) {
      return make_error(ErrorCode::kIOError, "{}: read {} of {} bytes", in.source.string(), offset, size);
    }
  }
  TRY(submit_small_files());
  TRY(pipeline.finish());
  TRY(sink.finish());
  return result;
}

Result<Bytes> seal_index(const Header& header, const Payload& payload, const std::optional<crypto::AeadKey>& data_key,
                         const std::vector<Signer>& signers) {
  Bytes plain = encode_payload(payload);
  Bytes compressed(ZSTD_compressBound(plain.size()));
  std::size_t n = ZSTD_compress(compressed.data(), compressed.size(), plain.data(), plain.size(), 3);
  if (ZSTD_isError(n)) {
    return make_error(ErrorCode::kIOError, "compressing the payload manifest failed: {}", ZSTD_getErrorName(n));
  }
  compressed.resize(n);
  IndexFile index;
  // A bundle with solid blocks is format version 2 whatever the caller set:
  // a reader of version 1 must refuse it by its header, not misread it.
  Header versioned = header;
  versioned.format_version = std::max(header.format_version, payload.needed_format_version());
  std::string header_text = serialize_header(versioned);
  index.header.assign(header_text.begin(), header_text.end());
  auto id = from_hex(header.bundle_id);
  if (data_key) {
    crypto::Aead aead(*data_key);
    aead.seal(body_nonce(), body_aad(*id), compressed, index.body);
  } else {
    index.body = std::move(compressed);
  }
  if (index.body.size() > k_max_body_size) {
    return make_error(ErrorCode::kInvalidArgument, "payload manifest of {} bytes exceeds the format's cap of {}",
                      index.body.size(), k_max_body_size);
  }
  Bytes message = signed_message(index.header, index.body);
  for (const Signer& s : signers) {
    index.signatures.push_back(SignatureEntry{s.keyid, crypto::ed25519_sign(message, s.secret)});
  }
  return serialize_index(index);
}

}  // namespace airlock::format

#include "core/format/delta.h"

#include <algorithm>
#include <cstring>

namespace airlock::format {

namespace {
constexpr char k_map_magic[8] = {'A', 'L', 'C', 'M', 'A', 'P', '1', '\0'};

std::unexpected<Error> map_corrupt(std::string_view what) {
  return std::unexpected(Error(ErrorCode::kCorruption, fmt::format("chunk map: {}", what)));
}
}  // namespace

crypto::Digest chunk_set_digest(std::vector<crypto::Digest> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  crypto::Sha256 h;
  h.update(as_bytes("airlock-chunk-set-v1"));
  Bytes count;
  put_u64le(count, ids.size());
  h.update(count);
  for (const crypto::Digest& id : ids) {
    h.update(id);
  }
  return h.finish();
}

std::unordered_map<crypto::Digest, ChunkMap::Place, DigestHasher> ChunkMap::index() const {
  std::unordered_map<crypto::Digest, Place, DigestHasher> out;
  for (std::uint32_t f = 0; f < files.size(); ++f) {
    std::uint64_t offset = 0;
    for (const auto& [id, size] : files[f].chunks) {
      out.try_emplace(id, Place{f, offset, size});
      offset += size;
    }
  }
  return out;
}

std::vector<crypto::Digest> ChunkMap::ids() const {
  std::vector<crypto::Digest> out;
  for (const File& f : files) {
    for (const auto& c : f.chunks) {
      out.push_back(c.first);
    }
  }
  return out;
}

ChunkMap chunk_map_of(const Payload& payload) {
  ChunkMap map;
  for (const FileEntry& f : payload.files) {
    ChunkMap::File file;
    file.path = f.path;
    for (std::uint64_t r = f.first_ref; r < f.first_ref + f.ref_count; ++r) {
      const ChunkEntry& c = payload.chunks[payload.refs[r]];
      file.chunks.emplace_back(c.id, static_cast<std::uint32_t>(c.size));
    }
    map.files.push_back(std::move(file));
  }
  return map;
}

Bytes encode_chunk_map(const ChunkMap& map) {
  Bytes out(std::begin(k_map_magic), std::end(k_map_magic));
  put_u64le(out, map.files.size());
  for (const ChunkMap::File& f : map.files) {
    put_u32le(out, static_cast<std::uint32_t>(f.path.size()));
    append(out, as_bytes(f.path));
    put_u64le(out, f.chunks.size());
    for (const auto& [id, size] : f.chunks) {
      append(out, id);
      put_u32le(out, size);
    }
  }
  return out;
}

Result<ChunkMap> decode_chunk_map(ByteSpan bytes) {
  if (bytes.size() < 16 || std::memcmp(bytes.data(), k_map_magic, 8) != 0) {
    return map_corrupt("bad magic");
  }
  std::uint64_t pos = 8;
  auto left = [&] { return bytes.size() - pos; };
  const std::uint64_t files = get_u64le(bytes.data() + pos);
  pos += 8;
  if (files > (1u << 20) || files > left() / 12) {
    return map_corrupt("impossible file count");
  }
  ChunkMap map;
  map.files.resize(files);
  for (ChunkMap::File& f : map.files) {
    if (left() < 4) {
      return map_corrupt("truncated");
    }
    const std::uint32_t len = get_u32le(bytes.data() + pos);
    pos += 4;
    if (len == 0 || len > 4096 || left() < len + 8) {
      return map_corrupt("truncated or impossible path");
    }
    f.path.assign(reinterpret_cast<const char*>(bytes.data() + pos), len);
    pos += len;
    const std::uint64_t n = get_u64le(bytes.data() + pos);
    pos += 8;
    if (n > left() / 36) {
      return map_corrupt("truncated chunk list");
    }
    f.chunks.resize(n);
    for (auto& [id, size] : f.chunks) {
      std::memcpy(id.data(), bytes.data() + pos, 32);
      size = get_u32le(bytes.data() + pos + 32);
      pos += 36;
      if (size == 0 || size > (64u << 20)) {
        return map_corrupt("impossible chunk size");
      }
    }
  }
  if (pos != bytes.size()) {
    return map_corrupt("trailing bytes");
  }
  return map;
}

}  // namespace airlock::format

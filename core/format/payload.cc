#include "core/format/payload.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "core/crypto/sha256.h"
#include "core/names/names.h"
#include "core/manifest/manifest.h"

namespace airlock::format {

using nlohmann::json;

namespace {

constexpr char k_payload_magic[8] = {'A', 'L', 'P', 'A', 'Y', 'L', 'D', '1'};
constexpr std::size_t k_chunk_record_size = 64;
constexpr std::uint64_t k_max_stored_frame = (8u << 20);  // far above any codec output for a 1 MiB max chunk

std::unexpected<Error> payload_corrupt(std::string_view what) {
  return std::unexpected(Error(ErrorCode::kCorruption, fmt::format("payload manifest: {}", what)));
}

// An unsigned JSON number that must fit 32 bits (never silently truncated).
bool is_u32(const json& v) { return v.is_number_unsigned() && v.get<std::uint64_t>() <= UINT32_MAX; }

}  // namespace

std::uint64_t Payload::total_file_bytes() const {
  std::uint64_t total = 0;
  for (const FileEntry& f : files) {
    total += f.size;
  }
  return total;
}

std::size_t Payload::group_end(std::size_t index) const {
  std::size_t end = index + 1;
  if (chunks[index].codec == codec::Codec::kSolid) {
    while (end < chunks.size() && chunks[end].codec == codec::Codec::kMember) {
      ++end;
    }
  }
  return end;
}

bool Payload::has_solid_blocks() const {
  return std::any_of(chunks.begin(), chunks.end(), [](const ChunkEntry& c) { return c.codec == codec::Codec::kSolid; });
}

std::uint32_t Payload::needed_format_version() const {
  if (base) {
    return 3;
  }
  return has_solid_blocks() ? 2 : 1;
}

namespace {
// tensor_size 0 writes what bundles before fixed tensor cuts carried.
json chunking_json(const chunk::ChunkParams& c) {
  json out = {{"algorithm", c.tensor_size == 0 ? "fastcdc-v1" : "fastcdc-v1+tensor-fixed"},
              {"min", c.min_size},
              {"avg", c.avg_size},
              {"max", c.max_size}};
  if (c.tensor_size != 0) {
    out["tensor"] = c.tensor_size;
  }
  return out;
}
}  // namespace

Bytes encode_payload(const Payload& p) {
  json files = json::array();
  for (const FileEntry& f : p.files) {
    files.push_back({{"path", f.path}, {"mode", f.mode}, {"size", f.size}, {"sha256", f.sha256},
                     {"first_ref", f.first_ref}, {"ref_count", f.ref_count}});
  }
  json packs = json::array();
  for (const PackEntry& k : p.packs) {
    packs.push_back({{"volume", k.volume}, {"name", k.name}, {"size", k.size}});
  }
  json meta = {{"deployment", {{"name", p.name}, {"version", p.version}}},
               {"chunking", chunking_json(p.chunking)},
               {"files", std::move(files)},
               {"packs", std::move(packs)},
               {"activate", p.activate}};
  if (!p.sources.is_null()) {
    meta["sources"] = p.sources;  // absent for bundles of local files only, as before
  }
  if (p.base) {
    meta["base"] = {{"name", p.base->name}, {"version", p.base->version}, {"bundle_id", p.base->bundle_id},
                    {"chunk_set", p.base->chunk_set}, {"chunk_count", p.base->chunk_count}};
  }
  std::string text = meta.dump();
  Bytes out;
  out.reserve(32 + text.size() + p.chunks.size() * k_chunk_record_size + p.refs.size() * 4);
  out.insert(out.end(), std::begin(k_payload_magic), std::end(k_payload_magic));
  put_u64le(out, text.size());
  append(out, as_bytes(text));
  put_u64le(out, p.chunks.size());
  for (const ChunkEntry& c : p.chunks) {
    append(out, c.id);
    put_u64le(out, c.size);
    put_u64le(out, c.stored);
    put_u64le(out, c.offset);
    put_u32le(out, c.pack);
    out.push_back(static_cast<std::uint8_t>(c.codec));
    out.push_back(c.codec == codec::Codec::kXor ? static_cast<std::uint8_t>(c.inner) : 0);
    out.insert(out.end(), 2, 0);  // reserved, zero
  }
  put_u64le(out, p.refs.size());
  for (std::uint32_t r : p.refs) {
    put_u32le(out, r);
  }
  if (p.base) {  // format version 3: each XOR chunk's base chunk, in chunk order
    const auto xors = static_cast<std::uint64_t>(std::count_if(
        p.chunks.begin(), p.chunks.end(), [](const ChunkEntry& c) { return c.codec == codec::Codec::kXor; }));
    put_u64le(out, xors);
    for (std::uint32_t i = 0; i < p.chunks.size(); ++i) {
      if (p.chunks[i].codec == codec::Codec::kXor) {
        put_u32le(out, i);
        append(out, p.chunks[i].base_id);
      }
    }
  }
  return out;
}

namespace {

Status parse_meta(const json& meta, Payload& p, std::size_t volume_count, std::uint32_t format_version) {
  if (!meta.is_object() || !meta.contains("deployment") || !meta["deployment"].is_object() ||
      !meta["deployment"].value("name", json()).is_string() || !meta["deployment"].value("version", json()).is_string()) {
    return payload_corrupt("missing deployment");
  }
  p.name = meta["deployment"]["name"].get<std::string>();
  p.version = meta["deployment"]["version"].get<std::string>();
  const json& ch = meta.value("chunking", json());
  if (!ch.is_object() || !is_u32(ch.value("min", json())) || !is_u32(ch.value("avg", json())) ||
      !is_u32(ch.value("max", json()))) {
    return payload_corrupt("missing chunking parameters");
  }
  p.chunking.min_size = ch["min"].get<std::uint32_t>();
  p.chunking.avg_size = ch["avg"].get<std::uint32_t>();
  p.chunking.max_size = ch["max"].get<std::uint32_t>();
  // "tensor" (fixed-size cuts inside tensors) came after the first bundles;
  // a reader needs none of it (a chunk is only checked against max), it
  // records how the writer cut.
  p.chunking.tensor_size = 0;
  if (ch.contains("tensor")) {
    if (!is_u32(ch["tensor"]) || ch["tensor"].get<std::uint32_t>() > p.chunking.max_size) {
      return payload_corrupt("chunking: 'tensor' is not a size up to 'max'");
    }
    p.chunking.tensor_size = ch["tensor"].get<std::uint32_t>();
  }
  const json& packs = meta.value("packs", json());
  if (!packs.is_array()) {
    return payload_corrupt("missing packs");
  }
  std::set<std::string> pack_names;
  for (const json& k : packs) {
    if (!k.is_object() || !is_u32(k.value("volume", json())) || !k.value("name", json()).is_string() ||
        !k.value("size", json()).is_number_unsigned()) {
      return payload_corrupt("malformed pack entry");
    }
    PackEntry e{k["volume"].get<std::uint32_t>(), k["name"].get<std::string>(), k["size"].get<std::uint64_t>()};
    if (e.volume >= volume_count || !pack_names.insert(e.name).second || !e.name.starts_with("packs/") ||
        !manifest::is_safe_relative_path(e.name)) {
      return payload_corrupt(fmt::format("pack '{}' is duplicated, badly named or in a volume that does not exist", e.name));
    }
    p.packs.push_back(std::move(e));
  }
  const json& files = meta.value("files", json());
  if (!files.is_array()) {
    return payload_corrupt("missing files");
  }
  std::set<std::string> paths;
  for (const json& f : files) {
    if (!f.is_object() || !f.value("path", json()).is_string() || !is_u32(f.value("mode", json())) ||
        !f.value("size", json()).is_number_unsigned() || !f.value("sha256", json()).is_string() ||
        !f.value("first_ref", json()).is_number_unsigned() || !f.value("ref_count", json()).is_number_unsigned()) {
      return payload_corrupt("malformed file entry");
    }
    FileEntry e;
    e.path = f["path"].get<std::string>();
    e.mode = f["mode"].get<std::uint32_t>();
    e.size = f["size"].get<std::uint64_t>();
    e.sha256 = f["sha256"].get<std::string>();
    e.first_ref = f["first_ref"].get<std::uint64_t>();
    e.ref_count = f["ref_count"].get<std::uint64_t>();
    if (!manifest::is_safe_relative_path(e.path) || !names::has_no_control(e.path)) {
      return payload_corrupt(fmt::format("file path '{}' is absolute, empty, contains '..' or a control character",
                                 names::printable(e.path)));
    }
    // Files the installer links into ROOT/apt and ROOT/wheels by name.
    for (auto [dir, target] : {std::pair{std::string_view("debs/"), "ROOT/apt"}, std::pair{std::string_view("wheels/"), "ROOT/wheels"}}) {
      const std::string_view rest = std::string_view(e.path).substr(e.path.starts_with(dir) ? dir.size() : 0);
      if (e.path.starts_with(dir) && rest.find('/') == std::string_view::npos && !names::is_target_file_name(rest)) {
        return payload_corrupt(fmt::format("file '{}' cannot be an entry of {} (a name starting with '.')",
                                   names::printable(e.path), target));
      }
    }
    if (e.mode != 0644 && e.mode != 0755) {
      return payload_corrupt(fmt::format("file '{}' has mode {:o}; only 644 and 755 are allowed", e.path, e.mode));
    }
    if (!paths.insert(e.path).second) {
      return payload_corrupt(fmt::format("file '{}' is listed twice", e.path));
    }
    p.files.push_back(std::move(e));
  }
  // A path may not be both a file and a directory ("a" and "a/b").
  for (const std::string& path : paths) {
    auto it = paths.lower_bound(path + "/");
    if (it != paths.end() && it->starts_with(path + "/")) {
      return payload_corrupt(fmt::format("'{}' is both a file and a directory", path));
    }
  }
  p.activate = meta.value("activate", json());
  p.sources = meta.value("sources", json());
  if (meta.contains("base")) {
    const json& b = meta["base"];
    auto hex = [](const json& v, std::size_t n) {
      return v.is_string() && v.get<std::string>().size() == n &&
             v.get<std::string>().find_first_not_of("0123456789abcdef") == std::string::npos;
    };
    if (format_version < 3 || !b.is_object() || !b.value("name", json()).is_string() ||
        !b.value("version", json()).is_string() || !hex(b.value("bundle_id", json()), 32) ||
        !hex(b.value("chunk_set", json()), 64) || !b.value("chunk_count", json()).is_number_unsigned()) {
      return payload_corrupt("'base' is malformed or in a bundle of format version below 3");
    }
    BaseRef ref{b["name"].get<std::string>(), b["version"].get<std::string>(), b["bundle_id"].get<std::string>(),
                b["chunk_set"].get<std::string>(), b["chunk_count"].get<std::uint64_t>()};
    if (!manifest::is_valid_name(ref.name) || !manifest::is_valid_version(ref.version)) {
      return payload_corrupt(fmt::format("base '{}' '{}' is not a valid deployment name and version",
                                         names::printable(ref.name), names::printable(ref.version)));
    }
    p.base = std::move(ref);
  }
  // The installer lays out tool-specific targets from `sources`: decoded
  // here, every field's type checked and every file it names one of the
  // (checked) files above, so nothing later reads the raw JSON.
  std::map<std::string, ListedFile> listed;
  for (const FileEntry& f : p.files) {
    listed.emplace(f.path, ListedFile{f.size, f.sha256});
  }
  auto decoded = decode_sources(p.sources, listed);
  if (!decoded) {
    return payload_corrupt(decoded.error().message());
  }
  p.typed_sources = std::move(*decoded);
  return ok_status();
}

}  // namespace

Result<Payload> decode_payload(ByteSpan bytes, std::size_t volume_count, std::uint32_t format_version) {
  if (bytes.size() < 16 || std::memcmp(bytes.data(), k_payload_magic, 8) != 0) {
    return payload_corrupt("bad magic");
  }
  std::uint64_t pos = 8;
  auto need = [&](std::uint64_t n) { return n <= bytes.size() - pos; };
  std::uint64_t json_len = get_u64le(bytes.data() + pos);
  pos += 8;
  if (!need(json_len)) {
    return payload_corrupt("truncated metadata");
  }
  json meta = json::parse(as_chars(bytes.subspan(pos, json_len)), nullptr, false);
  pos += json_len;
  if (meta.is_discarded()) {
    return payload_corrupt("metadata is not valid JSON");
  }
  Payload p;
  TRY(parse_meta(meta, p, volume_count, format_version));
  if (!need(8)) {
    return payload_corrupt("truncated chunk table");
  }
  std::uint64_t chunk_count = get_u64le(bytes.data() + pos);
  pos += 8;
  if (chunk_count > (bytes.size() - pos) / k_chunk_record_size) {
    return payload_corrupt("truncated chunk table");
  }
  p.chunks.resize(chunk_count);
  std::vector<std::uint64_t> pack_fill(p.packs.size(), 0);
  std::uint64_t solid_bytes = 0;  // of the solid block being read
  for (std::uint64_t i = 0; i < chunk_count; ++i) {
    const std::uint8_t* r = bytes.data() + pos;
    ChunkEntry& c = p.chunks[i];
    std::memcpy(c.id.data(), r, 32);
    c.size = get_u64le(r + 32);
    c.stored = get_u64le(r + 40);
    c.offset = get_u64le(r + 48);
    c.pack = get_u32le(r + 56);
    std::uint8_t codec = r[60];
    pos += k_chunk_record_size;
    const auto last_codec = p.base              ? codec::Codec::kBase
                            : format_version >= 2 ? codec::Codec::kMember
                                                  : codec::Codec::kBytePlane;
    const std::uint8_t inner = r[61];
    if (codec > static_cast<std::uint8_t>(last_codec) || r[62] != 0 || r[63] != 0 ||
        (codec == static_cast<std::uint8_t>(codec::Codec::kXor)
             ? inner > static_cast<std::uint8_t>(codec::Codec::kBytePlane)
             : inner != 0)) {
      return payload_corrupt(fmt::format("chunk {} has an unknown codec or reserved bits set", i));
    }
    c.codec = static_cast<codec::Codec>(codec);
    c.inner = static_cast<codec::Codec>(inner);
    if (c.codec == codec::Codec::kBase) {
      // Read back from the installed base: no frame, in no pack.
      if (c.size == 0 || c.size > p.chunking.max_size || c.stored != 0 || c.offset != 0 || c.pack != k_no_pack) {
        return payload_corrupt(fmt::format("chunk {} is read from the base but has a frame or a pack", i));
      }
      continue;
    }
    if (c.size == 0 || c.size > p.chunking.max_size || c.stored > k_max_stored_frame || c.pack >= p.packs.size()) {
      return payload_corrupt(fmt::format("chunk {} has impossible sizes or pack", i));
    }
    if (c.codec == codec::Codec::kXor && c.stored == 0) {
      return payload_corrupt(fmt::format("XOR chunk {} has no frame", i));
    }
    // A solid block: a head with a frame, then members with none, in the
    // same pack; all of its plaintext together within one chunk's maximum,
    // so a reader's buffer is what it is for any chunk.
    if (c.codec == codec::Codec::kSolid) {
      if (c.stored == 0) {
        return payload_corrupt(fmt::format("solid block at chunk {} has no frame", i));
      }
      solid_bytes = c.size;
    } else if (c.codec == codec::Codec::kMember) {
      const ChunkEntry* prev = i > 0 ? &p.chunks[i - 1] : nullptr;
      if (prev == nullptr || (prev->codec != codec::Codec::kSolid && prev->codec != codec::Codec::kMember) ||
          prev->pack != c.pack || c.stored != 0) {
        return payload_corrupt(fmt::format("chunk {} is a solid-block member that follows no solid block", i));
      }
      solid_bytes += c.size;
      if (solid_bytes > p.chunking.max_size) {
        return payload_corrupt(fmt::format("solid block ending at chunk {} holds more than {} bytes", i,
                                           p.chunking.max_size));
      }
    }
    // Frames are laid out back to back in each pack, in chunk order.
    if (c.offset != pack_fill[c.pack]) {
      return payload_corrupt(fmt::format("chunk {} is not where its pack's previous frame ends", i));
    }
    pack_fill[c.pack] += c.stored;
  }
  for (std::size_t k = 0; k < p.packs.size(); ++k) {
    if (pack_fill[k] != p.packs[k].size) {
      return payload_corrupt(fmt::format("pack '{}' size does not match its frames", p.packs[k].name));
    }
  }
  if (!need(8)) {
    return payload_corrupt("truncated reference table");
  }
  std::uint64_t ref_count = get_u64le(bytes.data() + pos);
  pos += 8;
  if (ref_count > (bytes.size() - pos) / 4) {
    return payload_corrupt("truncated reference table");
  }
  p.refs.resize(ref_count);
  for (std::uint64_t i = 0; i < ref_count; ++i) {
    p.refs[i] = get_u32le(bytes.data() + pos);
    pos += 4;
    if (p.refs[i] >= chunk_count) {
      return payload_corrupt(fmt::format("reference {} points at chunk {} of {}", i, p.refs[i], chunk_count));
    }
  }
  if (p.base) {
    if (!need(8)) {
      return payload_corrupt("truncated XOR table");
    }
    const std::uint64_t xor_count = get_u64le(bytes.data() + pos);
    pos += 8;
    if (xor_count > (bytes.size() - pos) / 36) {
      return payload_corrupt("truncated XOR table");
    }
    std::uint64_t expected = 0;
    std::int64_t last = -1;
    for (const ChunkEntry& c : p.chunks) {
      expected += c.codec == codec::Codec::kXor ? 1 : 0;
    }
    if (xor_count != expected) {
      return payload_corrupt(fmt::format("XOR table lists {} chunks, the chunk table {}", xor_count, expected));
    }
    for (std::uint64_t i = 0; i < xor_count; ++i) {
      const std::uint32_t index = get_u32le(bytes.data() + pos);
      if (index >= chunk_count || static_cast<std::int64_t>(index) <= last ||
          p.chunks[index].codec != codec::Codec::kXor) {
        return payload_corrupt(fmt::format("XOR table entry {} names chunk {}, not the next XOR chunk", i, index));
      }
      last = index;
      std::memcpy(p.chunks[index].base_id.data(), bytes.data() + pos + 4, 32);
      pos += 36;
    }
  }
  if (pos != bytes.size()) {
    return payload_corrupt("trailing bytes");
  }
  for (const FileEntry& f : p.files) {
    if (f.first_ref > ref_count || f.ref_count > ref_count - f.first_ref) {
      return payload_corrupt(fmt::format("file '{}' references past the reference table", f.path));
    }
    std::uint64_t sum = 0;
    for (std::uint64_t r = f.first_ref; r < f.first_ref + f.ref_count; ++r) {
      sum += p.chunks[p.refs[r]].size;
    }
    if (sum != f.size) {
      return payload_corrupt(fmt::format("file '{}' is {} bytes but its chunks add up to {}", f.path, f.size, sum));
    }
    // The installer takes a file's SHA-256 from here (ledger, HF blob
    // names) and never hashes the assembled file: where the chunk ids
    // already decide it, they must agree.
    static const std::string k_empty_sha256 = to_hex(crypto::Sha256().finish());
    const bool hex64 = f.sha256.size() == 64 && std::all_of(f.sha256.begin(), f.sha256.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
    if (!hex64 || (f.ref_count == 0 && f.sha256 != k_empty_sha256) ||
        (f.ref_count == 1 && f.sha256 != to_hex(p.chunks[p.refs[f.first_ref]].id))) {
      return payload_corrupt(fmt::format("file '{}' has a SHA-256 its chunks contradict or that is not 64 lowercase hex digits", f.path));
    }
  }
  return p;
}

}  // namespace airlock::format

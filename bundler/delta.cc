#include "bundler/delta.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/format/bundle_reader.h"
#include "core/format/delta.h"
#include "core/fs/dir.h"
#include "core/fs/file.h"
#include "core/manifest/manifest.h"
#include "core/safetensors/safetensors.h"

namespace airlock::bundler {

namespace stdfs = std::filesystem;
using nlohmann::json;

namespace {
constexpr std::uint64_t k_max_record_size = 1ull << 30;

bool is_hex(const std::string& s, std::size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The safetensors segments of a file (one kOther segment when it is not one).
Result<std::vector<chunk::Segment>> file_segments(const stdfs::path& path, std::uint64_t size) {
  ASSIGN_OR_RETURN(fs::File file, fs::File::open_regular(path, fs::File::Symlinks::kFollow));
  Bytes first(std::min<std::uint64_t>(size, 8));
  TRY(file.pread_exact(first, 0));
  const std::uint64_t need = chunk::header_bytes_needed(first, size);
  if (need == 0) {
    return chunk::plan_segments(first, size);
  }
  Bytes prefix(need);
  TRY(file.pread_exact(prefix, 0));
  return chunk::plan_segments(prefix, size);
}
}  // namespace

stdfs::path records_dir(const stdfs::path& cache_dir) { return cache_dir / "records"; }

BundleRecord make_record(const format::Header& header, const format::Payload& payload,
                         const std::vector<format::InputFile>& inputs) {
  BundleRecord r;
  r.name = header.name;
  r.version = header.version;
  r.bundle_id = header.bundle_id;
  r.sequence = header.sequence;
  r.created = header.created;
  const format::ChunkMap map = format::chunk_map_of(payload);
  std::vector<crypto::Digest> ids = map.ids();
  r.chunk_set = to_hex(format::chunk_set_digest(ids));
  std::sort(ids.begin(), ids.end());
  r.chunk_count = static_cast<std::uint64_t>(std::unique(ids.begin(), ids.end()) - ids.begin());
  for (std::size_t i = 0; i < payload.files.size(); ++i) {
    BundleRecord::File f;
    f.path = payload.files[i].path;
    f.sha256 = payload.files[i].sha256;
    f.size = payload.files[i].size;
    std::error_code ec;
    const stdfs::path abs = i < inputs.size() ? stdfs::absolute(inputs[i].source, ec) : stdfs::path();
    f.source = abs.string();
    f.chunks = map.files[i].chunks;
    r.files.push_back(std::move(f));
  }
  return r;
}

Status write_record(const stdfs::path& cache_dir, const BundleRecord& r) {
  json files = json::array();
  for (const BundleRecord::File& f : r.files) {
    json chunks = json::array();
    for (const auto& [id, size] : f.chunks) {
      chunks.push_back(json::array({to_hex(id), size}));
    }
    files.push_back({{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}, {"source", f.source},
                     {"chunks", std::move(chunks)}});
  }
  json j = {{"airlock_bundle_record", 1}, {"deployment", {{"name", r.name}, {"version", r.version}}},
            {"bundle_id", r.bundle_id}, {"sequence", r.sequence}, {"created", r.created},
            {"chunk_set", r.chunk_set}, {"chunk_count", r.chunk_count}, {"files", std::move(files)}};
  const stdfs::path dir = records_dir(cache_dir);
  TRY(fs::make_dirs(dir));
  const std::string text = j.dump() + "\n";
  return fs::write_file_atomic(dir / (r.bundle_id + ".json"), as_bytes(text), 0644);
}

Result<BundleRecord> read_record(const stdfs::path& path) {
  ASSIGN_OR_RETURN(std::string text, fs::read_text_file(path, k_max_record_size));
  const json j = json::parse(text, nullptr, false);
  auto bad = [&](std::string_view what) {
    return make_error(ErrorCode::kInvalidArgument, "{}: not a bundle record written by airlock-bundler create ({})",
                      path.string(), what);
  };
  if (!j.is_object() || j.value("airlock_bundle_record", 0) != 1 || !j.contains("deployment") ||
      !j["deployment"].is_object()) {
    return bad("no airlock_bundle_record 1");
  }
  BundleRecord r;
  try {
    r.name = j["deployment"].at("name").get<std::string>();
    r.version = j["deployment"].at("version").get<std::string>();
    r.bundle_id = j.at("bundle_id").get<std::string>();
    r.sequence = j.at("sequence").get<std::uint64_t>();
    r.created = j.at("created").get<std::int64_t>();
    r.chunk_set = j.at("chunk_set").get<std::string>();
    r.chunk_count = j.at("chunk_count").get<std::uint64_t>();
    for (const json& f : j.at("files")) {
      BundleRecord::File file;
      file.path = f.at("path").get<std::string>();
      file.sha256 = f.at("sha256").get<std::string>();
      file.size = f.at("size").get<std::uint64_t>();
      file.source = f.at("source").get<std::string>();
      for (const json& c : f.at("chunks")) {
        auto id = from_hex(c.at(0).get<std::string>());
        if (!id || id->size() != 32) {
          return bad("a chunk id is not 64 hex digits");
        }
        crypto::Digest d{};
        std::copy(id->begin(), id->end(), d.begin());
        file.chunks.emplace_back(d, c.at(1).get<std::uint32_t>());
      }
      r.files.push_back(std::move(file));
    }
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  if (!manifest::is_valid_name(r.name) || !manifest::is_valid_version(r.version) || !is_hex(r.bundle_id, 32) ||
      !is_hex(r.chunk_set, 64)) {
    return bad("bad name, version, bundle id or chunk set");
  }
  // The digest is recomputed, so a record cannot name a chunk set it does not list.
  std::vector<crypto::Digest> ids;
  for (const BundleRecord::File& f : r.files) {
    for (const auto& c : f.chunks) {
      ids.push_back(c.first);
    }
  }
  if (to_hex(format::chunk_set_digest(ids)) != r.chunk_set) {
    return bad("its chunk list does not give its chunk set digest");
  }
  return r;
}

Result<BundleRecord> find_base_record(const stdfs::path& arg, const stdfs::path& cache_dir) {
  std::error_code ec;
  if (stdfs::is_regular_file(arg, ec) && arg.extension() == ".json") {
    return read_record(arg);
  }
  auto header = format::read_unverified_header(arg);
  if (!header) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--base {}: neither a bundle record (.json) nor a bundle directory or index ({})", arg.string(),
                      header.error().message());
  }
  const stdfs::path path = records_dir(cache_dir) / (header->bundle_id + ".json");
  if (!stdfs::exists(path, ec)) {
    return make_error(ErrorCode::kNotFound,
                      "--base {}: no record of bundle {} ({} {}) in {}: it was made with another cache; give its "
                      "record file (CACHE/records/{}.json from that cache) instead",
                      arg.string(), header->bundle_id, header->name, header->version, records_dir(cache_dir).string(),
                      header->bundle_id);
  }
  return read_record(path);
}

std::vector<BundleRecord> all_records(const stdfs::path& cache_dir) {
  std::vector<BundleRecord> out;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(records_dir(cache_dir), ec)) {
    if (e.path().extension() == ".json") {
      if (auto r = read_record(e.path())) {
        out.push_back(std::move(*r));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- DeltaPlan

struct DeltaPlan::Impl {
  struct BaseFile {
    stdfs::path source;
    std::uint64_t size = 0;
    std::unordered_map<std::uint64_t, std::pair<crypto::Digest, std::uint32_t>> at;  // offset -> chunk
    std::optional<fs::File> file;  // opened on first use (producer thread only)
  };
  struct Range {
    std::uint64_t begin = 0;  // in the new file
    std::uint64_t end = 0;
    std::uint32_t base_file = 0;
    std::uint64_t base_begin = 0;
  };
  std::vector<BaseFile> base_files;
  std::vector<std::vector<Range>> ranges;  // per input file, sorted by begin
};

DeltaPlan::~DeltaPlan() = default;

format::BaseRef DeltaPlan::base_ref() const {
  return format::BaseRef{m_base.name, m_base.version, m_base.bundle_id, m_base.chunk_set, m_base.chunk_count};
}

Result<std::unique_ptr<DeltaPlan>> DeltaPlan::make(const BundleRecord& base, const std::vector<format::InputFile>& inputs,
                                                  bool xor_tensors) {
  std::unique_ptr<DeltaPlan> plan(new DeltaPlan());
  plan->m_base = base;
  plan->m_impl = std::make_unique<Impl>();
  Impl& impl = *plan->m_impl;
  for (const BundleRecord::File& f : base.files) {
    for (const auto& c : f.chunks) {
      plan->m_input.chunks.insert(c.first);
    }
  }
  // The base's tensors, by name + dtype + shape, from its sources as they are
  // now; a source that changed size (or is gone) offers none.
  struct BaseTensor {
    std::uint32_t file = 0;
    std::uint64_t begin = 0;
    std::uint64_t length = 0;
  };
  std::map<std::string, BaseTensor> tensors;
  for (const BundleRecord::File& f : base.files) {
    if (!xor_tensors || !f.path.ends_with(".safetensors")) {
      continue;
    }
    std::error_code ec;
    const auto size = stdfs::file_size(f.source, ec);
    if (ec || size != f.size) {
      plan->m_unreadable.push_back(f.path);
      continue;
    }
    auto segments = file_segments(f.source, f.size);
    if (!segments) {
      plan->m_unreadable.push_back(f.path);
      continue;
    }
    Impl::BaseFile bf;
    bf.source = f.source;
    bf.size = f.size;
    std::uint64_t offset = 0;
    for (const auto& [id, csize] : f.chunks) {
      bf.at.emplace(offset, std::make_pair(id, csize));
      offset += csize;
    }
    const auto index = static_cast<std::uint32_t>(impl.base_files.size());
    impl.base_files.push_back(std::move(bf));
    for (const chunk::Segment& s : *segments) {
      if (s.tensor && !s.key.empty()) {
        tensors.try_emplace(s.key, BaseTensor{index, s.offset, s.length});
      }
    }
  }
  impl.ranges.resize(inputs.size());
  for (std::size_t i = 0; i < inputs.size() && !tensors.empty(); ++i) {
    if (!inputs[i].path.ends_with(".safetensors")) {
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<chunk::Segment> segments, file_segments(inputs[i].source, inputs[i].size));
    for (const chunk::Segment& s : segments) {
      auto it = s.tensor ? tensors.find(s.key) : tensors.end();
      if (it != tensors.end() && it->second.length == s.length) {
        impl.ranges[i].push_back(Impl::Range{s.offset, s.offset + s.length, it->second.file, it->second.begin});
      }
    }
  }
  if (!xor_tensors) {
    return plan;
  }
  Impl* state = plan->m_impl.get();
  plan->m_input.xor_base = [state](std::uint32_t file, std::uint64_t offset, std::uint64_t size, crypto::Digest& id,
                                   Bytes& bytes) -> bool {
    if (file >= state->ranges.size()) {
      return false;
    }
    const auto& ranges = state->ranges[file];
    auto it = std::upper_bound(ranges.begin(), ranges.end(), offset,
                               [](std::uint64_t o, const Impl::Range& r) { return o < r.begin; });
    if (it == ranges.begin()) {
      return false;
    }
    --it;
    if (offset >= it->end || offset + size > it->end) {
      return false;
    }
    Impl::BaseFile& bf = state->base_files[it->base_file];
    auto chunk = bf.at.find(it->base_begin + (offset - it->begin));
    if (chunk == bf.at.end() || chunk->second.second != size) {
      return false;
    }
    if (!bf.file) {
      auto opened = fs::File::open_regular(bf.source, fs::File::Symlinks::kFollow);
      if (!opened) {
        return false;
      }
      bf.file.emplace(std::move(*opened));
    }
    bytes.resize(size);
    if (!bf.file->pread_exact(bytes, chunk->first)) {
      return false;
    }
    id = chunk->second.first;  // the worker checks the bytes against it
    return true;
  };
  return plan;
}

}  // namespace airlock::bundler

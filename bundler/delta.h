#pragma once
// Delta bundles on the connected side (docs/FORMAT.md §12). The bundler
// cannot read a bundle it made (the body is encrypted to the site), so
// `create` keeps a record of every bundle in the cache (CACHE/records/
// BUNDLE_ID.json): its identity, its chunk set and, per file, where its
// bytes came from and the chunks they were cut into. `create --base` reads
// that record; the new bundle leaves out every chunk the base holds and
// ships tensors that changed as XOR frames against the same tensor of the
// base, read back from the base's sources and checked against the record.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/format/bundle_writer.h"
#include "core/format/index.h"
#include "core/format/payload.h"

namespace airlock::bundler {

struct BundleRecord {
  struct File {
    std::string path;    // in the deployment
    std::string sha256;
    std::uint64_t size = 0;
    std::string source;  // where create read it (absolute), for XOR deltas
    std::vector<std::pair<crypto::Digest, std::uint32_t>> chunks;  // in order: id, size
  };
  std::string name;
  std::string version;
  std::string bundle_id;
  std::uint64_t sequence = 0;
  std::int64_t created = 0;
  std::string chunk_set;  // format::chunk_set_digest of every chunk, hex
  std::uint64_t chunk_count = 0;
  std::vector<File> files;
};

std::filesystem::path records_dir(const std::filesystem::path& cache_dir);
BundleRecord make_record(const format::Header& header, const format::Payload& payload,
                         const std::vector<format::InputFile>& inputs);
// CACHE/records/BUNDLE_ID.json, written atomically.
Status write_record(const std::filesystem::path& cache_dir, const BundleRecord& record);
Result<BundleRecord> read_record(const std::filesystem::path& path);
// --base ARG: a record file (*.json), or a bundle directory or index whose
// record is in the cache (looked up by the bundle id its header states).
Result<BundleRecord> find_base_record(const std::filesystem::path& arg, const std::filesystem::path& cache_dir);
// Every record kept in the cache (unreadable ones skipped).
std::vector<BundleRecord> all_records(const std::filesystem::path& cache_dir);

// The writer's view of a base (format::DeltaInput) and what the XOR search
// needs: the base's tensors by name, dtype and shape. Lives as long as the
// write.
class DeltaPlan {
 public:
  // xor false: chunks the base holds are left out, nothing is XORed.
  static Result<std::unique_ptr<DeltaPlan>> make(const BundleRecord& base, const std::vector<format::InputFile>& inputs,
                                                 bool xor_tensors = true);
  ~DeltaPlan();
  const format::DeltaInput& input() const { return m_input; }
  format::BaseRef base_ref() const;
  // Base files whose source could not be read as recorded (their tensors get
  // no XOR; their chunks are still left out).
  const std::vector<std::string>& unreadable() const { return m_unreadable; }

 private:
  struct Impl;
  DeltaPlan() = default;
  format::DeltaInput m_input;
  std::unique_ptr<Impl> m_impl;
  BundleRecord m_base;
  std::vector<std::string> m_unreadable;
};

}  // namespace airlock::bundler

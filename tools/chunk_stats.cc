// airlock-chunk-stats: how many bytes of a new version a chunk-deduplicating
// bundle would still have to ship, given an old version. Cuts every regular
// file under both directories with the bundler's own chunker
// (core/chunk/chunker.h) and SHA-256 chunk ids, and prints one JSON object.
// For bench/dedup.sh; not installed.
//
//   airlock-chunk-stats [--tensor-size BYTES] OLD_DIR NEW_DIR
//
// --tensor-size 0 cuts tensors with FastCDC too (the chunking of the first
// bundles); the default is the bundler's (fixed 1 MiB cuts inside tensors).

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "core/chunk/chunker.h"
#include "core/crypto/sha256.h"

namespace {

namespace stdfs = std::filesystem;
using airlock::chunk::ChunkParams;
using airlock::chunk::FileChunker;

struct Tally {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  std::uint64_t chunks = 0;
  std::uint64_t unique_chunks = 0;
  std::uint64_t new_bytes = 0;  // unique chunks the old set lacks
  double cpu_s = 0;             // cutting and hashing this tree, this process
};

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Adds every chunk of every file under `dir` to `seen`; counts the bytes of
// those not already there.
bool cut_tree(const stdfs::path& dir, const ChunkParams& params, std::set<airlock::crypto::Digest>& seen, Tally& t) {
  std::vector<stdfs::path> files;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && !it->is_symlink()) {
      files.push_back(it->path());
    }
  }
  if (ec) {
    fmt::print(stderr, "airlock-chunk-stats: {}: {}\n", dir.string(), ec.message());
    return false;
  }
  std::sort(files.begin(), files.end());
  const double start = cpu_seconds();
  airlock::crypto::Sha256 hash;
  for (const stdfs::path& p : files) {
    auto file = airlock::fs::File::open_read(p);
    if (!file) {
      fmt::print(stderr, "airlock-chunk-stats: {}: {}\n", p.string(), file.error().message());
      return false;
    }
    auto size = file->size();
    if (!size) {
      fmt::print(stderr, "airlock-chunk-stats: {}: {}\n", p.string(), size.error().message());
      return false;
    }
    auto chunker = FileChunker::open(*file, *size, params);
    if (!chunker) {
      fmt::print(stderr, "airlock-chunk-stats: {}: {}\n", p.string(), chunker.error().message());
      return false;
    }
    ++t.files;
    t.bytes += *size;
    for (;;) {
      auto c = chunker->next();
      if (!c) {
        fmt::print(stderr, "airlock-chunk-stats: {}: {}\n", p.string(), c.error().message());
        return false;
      }
      if (!*c) {
        break;
      }
      hash.update((*c)->data);
      ++t.chunks;
      if (seen.insert(hash.finish()).second) {
        ++t.unique_chunks;
        t.new_bytes += (*c)->data.size();
      }
    }
  }
  t.cpu_s = cpu_seconds() - start;
  return true;
}

int usage(int code) {
  std::fputs("usage: airlock-chunk-stats [--tensor-size BYTES] OLD_DIR NEW_DIR\n", code == 0 ? stdout : stderr);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  ChunkParams params;
  std::vector<std::string_view> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      return usage(0);
    }
    if (a == "--tensor-size" && i + 1 < argc) {
      const std::string_view v = argv[++i];
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), params.tensor_size);
      if (ec != std::errc{} || p != v.data() + v.size() || params.tensor_size > params.max_size) {
        fmt::print(stderr, "airlock-chunk-stats: --tensor-size: a number of bytes up to {}\n", params.max_size);
        return 2;
      }
      continue;
    }
    dirs.push_back(a);
  }
  if (dirs.size() != 2) {
    return usage(2);
  }
  std::set<airlock::crypto::Digest> seen;
  Tally old_t;
  Tally new_t;
  if (!cut_tree(stdfs::path(dirs[0]), params, seen, old_t) || !cut_tree(stdfs::path(dirs[1]), params, seen, new_t)) {
    return 1;
  }
  fmt::print(
      "{{\"tensor_size\": {}, \"old\": {{\"files\": {}, \"bytes\": {}, \"chunks\": {}, \"cpu_s\": {:.3f}}}, "
      "\"new\": {{\"files\": {}, \"bytes\": {}, \"chunks\": {}, \"unique_chunks\": {}, \"new_bytes\": {}, "
      "\"cpu_s\": {:.3f}}}}}\n",
      params.tensor_size, old_t.files, old_t.bytes, old_t.chunks, old_t.cpu_s, new_t.files, new_t.bytes, new_t.chunks,
      new_t.unique_chunks, new_t.new_bytes, new_t.cpu_s);
  return 0;
}

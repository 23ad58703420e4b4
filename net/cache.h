#pragma once
// The fetch cache: downloaded files stored by SHA-256, shared by every
// command and every deployment on the connected machine.
//
//   CACHE/sha256/ab/abcdef…     complete, verified files (read-only, 0444)
//   CACHE/partial/KEY.part      downloads in progress; resumed with Range
//
// A file enters sha256/ only after its size, its SHA-256 (and, for Hugging
// Face git files, its git blob SHA-1) have been checked; so a lookup by hash
// is a verified hit. Downloads of the same item by two processes serialize on
// an flock of the .part file. CACHE defaults to $AIRLOCK_CACHE, else
// $XDG_CACHE_HOME/airlock, else ~/.cache/airlock.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/base/progress.h"
#include "net/http.h"

namespace airlock::net {

class Cache {
 public:
  static Result<Cache> open(const std::filesystem::path& dir);  // directories are created on first use
  static std::filesystem::path default_dir();

  const std::filesystem::path& dir() const { return m_dir; }
  std::filesystem::path path_for(std::string_view sha256_hex) const;
  // The cached file when present with the expected size.
  std::optional<std::filesystem::path> find(std::string_view sha256_hex, std::uint64_t size) const;
  // Stores bytes already in memory (a manifest, a generated file); returns the SHA-256.
  Result<std::string> put(ByteSpan bytes);

 private:
  explicit Cache(std::filesystem::path dir) : m_dir(std::move(dir)) {}
  std::filesystem::path m_dir;
};

struct FetchItem {
  std::string what;       // names the item in errors and progress: "hf://org/name: model.safetensors"
  std::string url;
  std::string sha256;     // expected, lowercase hex; empty when not yet known (git_sha1 must then be set)
  std::string git_sha1;   // optional: also check sha1("blob SIZE\0" + bytes), as git does
  std::uint64_t size = 0;
  bool size_known = true;
  std::string authorization;  // origin-bound, see Request::authorization
  std::vector<std::pair<std::string, std::string>> headers;
  bool allow_insecure_http = false;
  // Called once when the server answers 401 (an expired registry token):
  // returns a fresh authorization value.
  std::function<Result<std::string>()> reauthorize;
};

struct FetchResult {
  std::string sha256;
  std::filesystem::path path;  // in the cache
  std::uint64_t size = 0;
  std::uint64_t transferred = 0;  // bytes that came over the network this time
  bool was_cached = false;
};

struct FetchOptions {
  const HttpConnector* http = nullptr;  // required: each worker opens its own client
  std::size_t parallel = 4;  // concurrent downloads
  NetOptions net;            // retries and backoff apply to each download
  ProgressFn progress;       // stage "fetch": bytes done / total over all items
};

struct FetchStats {
  std::size_t downloaded = 0;   // items that were not in the cache
  std::uint64_t transferred = 0;
  std::uint64_t resumed_from = 0;  // bytes of partial downloads reused
};

// Fetches one item (resuming a partial download, retrying with backoff).
Result<FetchResult> fetch_one(Cache& cache, HttpClient& http, const FetchItem& item, const NetOptions& net,
                              const std::function<void(std::uint64_t)>& on_bytes = {});
// Fetches every item with options.parallel workers. Items already in the cache
// cost nothing. On the first failure the others stop; completed files stay
// cached and partial ones stay resumable.
Result<std::vector<FetchResult>> fetch_all(Cache& cache, const std::vector<FetchItem>& items,
                                           const FetchOptions& options, FetchStats* stats = nullptr);

}  // namespace airlock::net

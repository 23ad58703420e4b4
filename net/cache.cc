#include "net/cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include <openssl/evp.h>

#include "core/base/interrupt.h"
#include "core/base/text.h"
#include "core/crypto/sha256.h"
#include "core/fs/file.h"

namespace airlock::net {

namespace stdfs = std::filesystem;

namespace {

bool is_hex(std::string_view s, std::size_t n) { return text::is_lower_hex(s, n); }

// git's blob id: SHA-1 over "blob SIZE\0" and the bytes (what the Hub calls oid).
class GitSha1 {
 public:
  explicit GitSha1(std::uint64_t size) : m_ctx(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex2(m_ctx, EVP_sha1(), nullptr);
    std::string prefix = fmt::format("blob {}", size);
    EVP_DigestUpdate(m_ctx, prefix.data(), prefix.size() + 1);  // with the NUL
  }
  ~GitSha1() { EVP_MD_CTX_free(m_ctx); }
  GitSha1(const GitSha1&) = delete;
  GitSha1& operator=(const GitSha1&) = delete;
  void update(ByteSpan data) { EVP_DigestUpdate(m_ctx, data.data(), data.size()); }
  std::string finish() {
    std::uint8_t out[20];
    unsigned int len = 0;
    EVP_DigestFinal_ex(m_ctx, out, &len);
    return to_hex(ByteSpan(out, len));
  }

 private:
  EVP_MD_CTX* m_ctx;
};

// An open, flock'ed .part file; the lock serializes two processes fetching
// the same item.
class PartFile {
 public:
  static Result<PartFile> open(const stdfs::path& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
      return make_error(ErrorCode::kIOError, "{}: cannot open: {}", path.string(), std::strerror(errno));
    }
    if (::flock(fd, LOCK_EX) != 0) {
      int e = errno;
      ::close(fd);
      return make_error(ErrorCode::kIOError, "{}: cannot lock: {}", path.string(), std::strerror(e));
    }
    return PartFile(fd, path);
  }
  PartFile(PartFile&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)), m_path(std::move(o.m_path)) {}
  ~PartFile() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  int fd() const { return m_fd; }
  const stdfs::path& path() const { return m_path; }
  std::uint64_t size() const {
    struct stat st{};
    return ::fstat(m_fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  }
  Status truncate() {
    if (::ftruncate(m_fd, 0) != 0) {
      return make_error(ErrorCode::kIOError, "{}: cannot truncate: {}", m_path.string(), std::strerror(errno));
    }
    return ok_status();
  }
  Status pwrite_all(ByteSpan data, std::uint64_t offset) {
    while (!data.empty()) {
      ssize_t n = ::pwrite(m_fd, data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return make_error(ErrorCode::kIOError, "{}: write failed: {}", m_path.string(), std::strerror(errno));
      }
      data = data.subspan(static_cast<std::size_t>(n));
      offset += static_cast<std::uint64_t>(n);
    }
    return ok_status();
  }

 private:
  PartFile(int fd, stdfs::path path) : m_fd(fd), m_path(std::move(path)) {}
  int m_fd;
  stdfs::path m_path;
};

// Hashes of the bytes [0, position) of a download in progress.
struct Hashes {
  Hashes(const FetchItem& item, std::uint64_t size) {
    if (!item.git_sha1.empty()) {
      git.emplace(size);
    }
  }
  void update(ByteSpan data) {
    sha.update(data);
    if (git) {
      git->update(data);
    }
    position += data.size();
  }
  crypto::Sha256 sha;
  std::optional<GitSha1> git;
  std::uint64_t position = 0;
};

Status hash_existing(PartFile& part, Hashes& hashes, std::uint64_t upto) {
  Bytes buf(1u << 20);
  while (hashes.position < upto) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), upto - hashes.position));
    ssize_t n = ::pread(part.fd(), buf.data(), want, static_cast<off_t>(hashes.position));
    if (n <= 0) {
      return make_error(ErrorCode::kIOError, "{}: cannot read back: {}", part.path().string(),
                        n < 0 ? std::strerror(errno) : "short file");
    }
    hashes.update(ByteSpan(buf.data(), static_cast<std::size_t>(n)));
  }
  return ok_status();
}

std::string parse_content_range_start(const std::string& value, std::uint64_t* start) {
  // "bytes START-END/TOTAL"
  if (!value.starts_with("bytes ")) {
    return "no 'bytes' unit";
  }
  char* end = nullptr;
  unsigned long long v = std::strtoull(value.c_str() + 6, &end, 10);
  if (end == value.c_str() + 6 || *end != '-') {
    return "unparseable";
  }
  *start = v;
  return {};
}

bool transient(const Error& e) { return e.code() == ErrorCode::kIOError; }

}  // namespace

Result<Cache> Cache::open(const stdfs::path& dir) {
  // Directories are made on first use: a bundle of local files only leaves no cache behind.
  std::error_code ec;
  if (stdfs::exists(dir, ec) && !stdfs::is_directory(dir, ec)) {
    return make_error(ErrorCode::kInvalidArgument, "fetch cache {}: exists and is not a directory", dir.string());
  }
  return Cache(dir);
}

stdfs::path Cache::default_dir() {
  if (const char* d = std::getenv("AIRLOCK_CACHE"); d != nullptr && *d != '\0') {
    return d;
  }
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d != nullptr && *d != '\0') {
    return stdfs::path(d) / "airlock";
  }
  const char* home = std::getenv("HOME");
  return stdfs::path(home != nullptr && *home != '\0' ? home : "/tmp") / ".cache" / "airlock";
}

stdfs::path Cache::path_for(std::string_view sha256_hex) const {
  return m_dir / "sha256" / std::string(sha256_hex.substr(0, 2)) / std::string(sha256_hex);
}

std::optional<stdfs::path> Cache::find(std::string_view sha256_hex, std::uint64_t size) const {
  if (!is_hex(sha256_hex, 64)) {
    return std::nullopt;
  }
  stdfs::path p = path_for(sha256_hex);
  std::error_code ec;
  auto s = stdfs::file_size(p, ec);
  if (ec || s != size) {
    return std::nullopt;
  }
  return p;
}

Result<std::string> Cache::put(ByteSpan bytes) {
  std::string sha = crypto::sha256_hex(bytes);
  if (find(sha, bytes.size())) {
    return sha;
  }
  stdfs::path p = path_for(sha);
  std::error_code ec;
  stdfs::create_directories(p.parent_path(), ec);
  if (ec) {
    return make_error(ErrorCode::kIOError, "{}: cannot create: {}", p.parent_path().string(), ec.message());
  }
  TRY(fs::write_file_atomic(p, bytes, 0444));
  return sha;
}

Result<FetchResult> fetch_one(Cache& cache, HttpClient& http, const FetchItem& item, const NetOptions& net,
                              const std::function<void(std::uint64_t)>& on_bytes) {
  const bool sha_known = !item.sha256.empty();
  if (sha_known && !is_hex(item.sha256, 64)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: '{}' is not a SHA-256", item.what, item.sha256);
  }
  if (!sha_known && !is_hex(item.git_sha1, 40)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: neither a SHA-256 nor a git SHA-1 to check it against",
                      item.what);
  }
  if (sha_known && item.size_known) {
    if (auto hit = cache.find(item.sha256, item.size)) {
      return FetchResult{item.sha256, *hit, item.size, 0, true};
    }
  }
  const std::string key = sha_known ? item.sha256 : "git-sha1-" + item.git_sha1;
  {
    std::error_code ec;
    stdfs::create_directories(cache.dir() / "partial", ec);
    if (ec) {
      return make_error(ErrorCode::kIOError, "fetch cache {}: cannot create: {}", (cache.dir() / "partial").string(),
                        ec.message());
    }
  }
  ASSIGN_OR_RETURN(PartFile part, PartFile::open(cache.dir() / "partial" / (key + ".part")));
  if (sha_known && item.size_known) {
    if (auto hit = cache.find(item.sha256, item.size)) {  // another process finished it meanwhile
      (void)::unlink(part.path().c_str());
      return FetchResult{item.sha256, *hit, item.size, 0, true};
    }
  }

  std::string authorization = item.authorization;
  bool reauthorized = false;
  std::uint64_t transferred = 0;
  int wait_ms = net.backoff_ms;
  int failures = 0;
  std::optional<Hashes> hashes;
  hashes.emplace(item, item.size);
  auto discard = [&] { (void)::unlink(part.path().c_str()); };
  for (;;) {
    TRY(check_interrupt());
    std::uint64_t offset = part.size();
    if (item.size_known && offset > item.size) {
      TRY(part.truncate());
      offset = 0;
    }
    if (item.size_known && offset == item.size && offset > 0) {
      break;  // complete from an earlier run; verify below
    }
    // The hashes cover [0, offset) before new bytes arrive.
    if (hashes->position != offset) {
      hashes.emplace(item, item.size);
      TRY(hash_existing(part, *hashes, offset));
    }
    std::uint64_t position = offset;
    Request req;
    req.url = item.url;
    req.headers = item.headers;
    req.authorization = authorization;
    req.allow_insecure_http = item.allow_insecure_http;
    req.range_from = offset;
    req.on_body_start = [&](long status, const Headers& headers) -> Status {
      if (status == 206) {
        std::uint64_t start = 0;
        auto range = headers.get("content-range");
        std::string why = range ? parse_content_range_start(*range, &start) : "missing";
        if (!why.empty() || start != offset) {
          return make_error(ErrorCode::kIOError, "206 answer with a Content-Range that does not start at {} ({})",
                            offset, range.value_or(why));
        }
        return ok_status();
      }
      // 200: the server sent the whole file; start over.
      if (offset > 0) {
        TRY(part.truncate());
        position = 0;
        hashes.emplace(item, item.size);
      }
      return ok_status();
    };
    BodySink sink = [&](ByteSpan data) -> Status {
      if (item.size_known && position + data.size() > item.size) {
        return make_error(ErrorCode::kCorruption, "the server sent more than the advertised {} bytes", item.size);
      }
      TRY(part.pwrite_all(data, position));
      position += data.size();
      transferred += data.size();
      hashes->update(data);
      if (on_bytes) {
        on_bytes(data.size());
      }
      return check_interrupt();
    };
    auto r = http.send(req, sink);
    if (!r) {
      if (!transient(r.error()) || failures >= net.retries) {
        if (r.error().code() == ErrorCode::kCorruption) {
          discard();
        }
        return std::unexpected(std::move(r).error().with_context(
            transient(r.error()) ? fmt::format("{} (after {} attempts; run again to resume from byte {})", item.what,
                                               failures + 1, part.size())
                                 : item.what));
      }
      ++failures;
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      wait_ms = std::min(wait_ms * 2, 30000);
      continue;
    }
    const long status = r->status;
    if (status == 200 || status == 206) {
      if (item.size_known && position != item.size) {
        // The connection ended early without a transport error: resume.
        if (failures >= net.retries) {
          return make_error(ErrorCode::kIOError, "{}: {} ended after {} of {} bytes; run again to resume", item.what,
                            url_for_display(item.url), position, item.size);
        }
        ++failures;
        continue;
      }
      break;
    }
    if (status == 416 && offset > 0) {
      TRY(part.truncate());  // our partial file is not a prefix the server knows: start over
      continue;
    }
    if (status == 401 && item.reauthorize && !reauthorized) {
      reauthorized = true;
      ASSIGN_OR_RETURN(authorization, item.reauthorize());
      continue;
    }
    if ((status == 429 || status >= 500) && failures < net.retries) {
      ++failures;
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      wait_ms = std::min(wait_ms * 2, 30000);
      continue;
    }
    const ErrorCode code = status == 404 ? ErrorCode::kNotFound : ErrorCode::kIOError;
    return std::unexpected(Error(code, fmt::format("{}: {} answered {}", item.what, url_for_display(r->url), describe_status(status))));
  }

  // Verify everything before the file may enter the cache.
  const std::uint64_t size = part.size();
  if (hashes->position != size) {
    hashes.emplace(item, size);
    TRY(hash_existing(part, *hashes, size));
  }
  const std::string got = to_hex(hashes->sha.finish());
  if (item.size_known && size != item.size) {
    discard();
    return make_error(ErrorCode::kCorruption, "{}: {} sent {} bytes, the source advertises {}; download discarded",
                      item.what, url_for_display(item.url), size, item.size);
  }
  if (hashes->git) {
    const std::string git = hashes->git->finish();
    if (git != item.git_sha1) {
      discard();
      return make_error(ErrorCode::kCorruption,
                        "{}: the bytes from {} do not match the advertised git blob SHA-1 (expected {}, got {}); "
                        "download discarded",
                        item.what, url_for_display(item.url), item.git_sha1, git);
    }
  }
  if (sha_known && got != item.sha256) {
    discard();
    return make_error(ErrorCode::kCorruption,
                      "{}: the bytes from {} do not match the advertised SHA-256 (expected {}, got {}); download "
                      "discarded",
                      item.what, url_for_display(item.url), item.sha256, got);
  }
  if (::fsync(part.fd()) != 0) {
    return make_error(ErrorCode::kIOError, "{}: fsync failed: {}", part.path().string(), std::strerror(errno));
  }
  (void)::fchmod(part.fd(), 0444);
  stdfs::path final_path = cache.path_for(got);
  std::error_code ec;
  stdfs::create_directories(final_path.parent_path(), ec);
  if (ec) {
    return make_error(ErrorCode::kIOError, "{}: cannot create: {}", final_path.parent_path().string(), ec.message());
  }
  stdfs::rename(part.path(), final_path, ec);
  if (ec) {
    return make_error(ErrorCode::kIOError, "{}: cannot move into the cache: {}", final_path.string(), ec.message());
  }
  TRY(fs::fsync_dir(final_path.parent_path()));
  return FetchResult{got, final_path, size, transferred, false};
}

Result<std::vector<FetchResult>> fetch_all(Cache& cache, const std::vector<FetchItem>& items,
                                           const FetchOptions& options, FetchStats* stats) {
  std::vector<FetchResult> results(items.size());
  // One download per distinct content; duplicates (a blob two images share) wait for it.
  std::map<std::string, std::size_t> first;
  std::vector<std::size_t> todo;
  std::uint64_t total = 0;
  FetchStats local;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const FetchItem& it = items[i];
    const std::string key = it.sha256.empty() ? "git-sha1-" + it.git_sha1 + it.url : it.sha256;
    if (first.contains(key)) {
      continue;
    }
    first[key] = i;
    if (!it.sha256.empty() && it.size_known) {
      if (auto hit = cache.find(it.sha256, it.size)) {
        results[i] = FetchResult{it.sha256, *hit, it.size, 0, true};
        continue;
      }
    }
    todo.push_back(i);
    total += it.size_known ? it.size : 0;
  }
  if (!todo.empty() && options.http == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "fetch: {} downloads but no HTTP connector", todo.size());
  }

  std::mutex mu;
  std::optional<Error> failure;
  std::size_t next = 0;
  std::uint64_t done = 0;
  auto last_report = std::chrono::steady_clock::time_point();
  auto report = [&](std::uint64_t n, std::string_view what) {
    std::lock_guard lock(mu);
    done += n;
    auto now = std::chrono::steady_clock::now();
    if (options.progress && (now - last_report > std::chrono::milliseconds(100) || done == total)) {
      last_report = now;
      options.progress(ProgressEvent{"fetch", what, done, total});
    }
  };
  auto worker = [&] {
    std::unique_ptr<HttpClient> client = options.http->open(options.net);
    HttpClient& http = *client;
    for (;;) {
      std::size_t i = 0;
      {
        std::lock_guard lock(mu);
        if (failure || next == todo.size()) {
          return;
        }
        i = todo[next++];
      }
      const FetchItem& it = items[i];
      auto r = fetch_one(cache, http, it, options.net, [&](std::uint64_t n) { report(n, it.what); });
      std::lock_guard lock(mu);
      if (!r) {
        if (!failure) {
          failure = r.error();
        }
        return;
      }
      results[i] = *r;
      local.downloaded += r->was_cached ? 0 : 1;
      local.transferred += r->transferred;
      if (!r->was_cached && it.size_known && r->size > r->transferred) {
        local.resumed_from += r->size - r->transferred;
      }
    }
  };
  const std::size_t n_threads = std::max<std::size_t>(1, std::min(options.parallel, todo.size()));
  if (!todo.empty()) {
    std::vector<std::thread> threads;
    for (std::size_t t = 1; t < n_threads; ++t) {
      threads.emplace_back(worker);
    }
    worker();
    for (std::thread& t : threads) {
      t.join();
    }
  }
  if (failure) {
    return std::unexpected(std::move(*failure));
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (results[i].path.empty()) {  // a duplicate: same content as its first item
      const FetchItem& it = items[i];
      const std::string key = it.sha256.empty() ? "git-sha1-" + it.git_sha1 + it.url : it.sha256;
      results[i] = results[first[key]];
      results[i].was_cached = true;
      results[i].transferred = 0;
    }
  }
  if (stats != nullptr) {
    *stats = local;
  }
  return results;
}

}  // namespace airlock::net

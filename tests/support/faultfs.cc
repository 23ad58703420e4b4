// A fault-injecting shim for the e2e tests, loaded with LD_PRELOAD: it counts
// the write-class calls (write, pwrite, pwrite64, writev, pwritev) and the
// sync calls (fsync, fdatasync, syncfs) made on files under one directory,
// and makes the Nth of each fail with an errno, as a failing disk would.
//
//   AIRLOCK_FAULT_DIR=/abs/dir      only descriptors on files under this path count
//   AIRLOCK_FAULT_WRITE_N=N         the Nth counted write fails (0: none)
//   AIRLOCK_FAULT_SYNC_N=N          the Nth counted sync fails (0: none)
//   AIRLOCK_FAULT_ERRNO=5           errno to fail with (default EIO)
//   AIRLOCK_FAULT_REPORT=/file      at exit, write "writes W syncs S" there
//
// Every later call succeeds again (one fault per run). Used by
// tests/e2e/fault_writes.sh.
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

std::atomic<long> g_writes{0};
std::atomic<long> g_syncs{0};

struct Config {
  const char* dir = nullptr;
  std::size_t dir_len = 0;
  long write_n = 0;
  long sync_n = 0;
  int err = EIO;
  const char* report = nullptr;
};

const Config& config() {
  static const Config c = [] {
    Config x;
    x.dir = std::getenv("AIRLOCK_FAULT_DIR");
    x.dir_len = x.dir != nullptr ? std::strlen(x.dir) : 0;
    if (const char* v = std::getenv("AIRLOCK_FAULT_WRITE_N")) x.write_n = std::atol(v);
    if (const char* v = std::getenv("AIRLOCK_FAULT_SYNC_N")) x.sync_n = std::atol(v);
    if (const char* v = std::getenv("AIRLOCK_FAULT_ERRNO")) x.err = std::atoi(v);
    x.report = std::getenv("AIRLOCK_FAULT_REPORT");
    return x;
  }();
  return c;
}

bool counted(int fd) {
  const Config& c = config();
  if (c.dir == nullptr) {
    return false;
  }
  char link[64];
  char target[PATH_MAX];
  std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(link, target, sizeof(target) - 1);
  if (n <= 0) {
    return false;
  }
  target[n] = '\0';
  return static_cast<std::size_t>(n) >= c.dir_len && std::strncmp(target, c.dir, c.dir_len) == 0;
}

// True when this call is the one to fail.
bool fault(std::atomic<long>& counter, long nth, int fd) {
  if (!counted(fd)) {
    return false;
  }
  const long k = ++counter;
  if (nth > 0 && k == nth) {
    errno = config().err;
    return true;
  }
  return false;
}

template <typename F>
F next(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

struct Reporter {
  ~Reporter() {
    const Config& c = config();
    if (c.report != nullptr) {
      if (FILE* f = std::fopen(c.report, "w")) {
        std::fprintf(f, "writes %ld syncs %ld\n", g_writes.load(), g_syncs.load());
        std::fclose(f);
      }
    }
  }
} g_reporter;

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t n) {
  static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  return fault(g_writes, config().write_n, fd) ? -1 : real(fd, buf, n);
}
ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  return fault(g_writes, config().write_n, fd) ? -1 : real(fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  return fault(g_writes, config().write_n, fd) ? -1 : real(fd, buf, n, off);
}
ssize_t writev(int fd, const struct iovec* iov, int cnt) {
  static auto real = next<ssize_t (*)(int, const struct iovec*, int)>("writev");
  return fault(g_writes, config().write_n, fd) ? -1 : real(fd, iov, cnt);
}
ssize_t pwritev(int fd, const struct iovec* iov, int cnt, off_t off) {
  static auto real = next<ssize_t (*)(int, const struct iovec*, int, off_t)>("pwritev");
  return fault(g_writes, config().write_n, fd) ? -1 : real(fd, iov, cnt, off);
}
int fsync(int fd) {
  static auto real = next<int (*)(int)>("fsync");
  return fault(g_syncs, config().sync_n, fd) ? -1 : real(fd);
}
int fdatasync(int fd) {
  static auto real = next<int (*)(int)>("fdatasync");
  return fault(g_syncs, config().sync_n, fd) ? -1 : real(fd);
}
int syncfs(int fd) {
  static auto real = next<int (*)(int)>("syncfs");
  return fault(g_syncs, config().sync_n, fd) ? -1 : real(fd);
}

}  // extern "C"

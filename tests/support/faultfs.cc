// A fault-injecting shim for the e2e tests, loaded with LD_PRELOAD: it counts
// the write-class calls (write, pwrite, pwrite64, writev, pwritev) and the
// sync calls (fsync, fdatasync, syncfs) made on files under one directory,
// and makes the Nth of each fail with an errno, as a failing disk would; or
// it cuts the power at the Nth of them.
//
//   AIRLOCK_FAULT_DIR=/abs/dir      only descriptors on files under this path count
//   AIRLOCK_FAULT_WRITE_N=N         the Nth counted write fails (0: none)
//   AIRLOCK_FAULT_SYNC_N=N          the Nth counted sync fails (0: none)
//   AIRLOCK_FAULT_ERRNO=5           errno to fail with (default EIO)
//   AIRLOCK_FAULT_CUT_N=N           power cut just before the Nth counted write
//                                   or sync (counted together): every byte
//                                   written to a file since its last fsync /
//                                   fdatasync / syncfs is put back as it was,
//                                   file sizes too, then the process SIGKILLs
//                                   itself. This is the loss a power cut
//                                   causes on a journaling file system that
//                                   keeps metadata but not unsynced data
//                                   (ext4 data=ordered with delayed
//                                   allocation): renames and new files stay,
//                                   their unsynced contents do not. Writes
//                                   through mmap are not seen (SQLite's -shm,
//                                   which is rebuilt on open).
//   AIRLOCK_FAULT_REPORT=/file      at exit, write "writes W syncs S" there
//
// Every later call succeeds again (one fault per run). Used by
// tests/e2e/fault_writes.sh and tests/e2e/power_cut.sh.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <utility>
#include <vector>

namespace {

std::atomic<long> g_writes{0};
std::atomic<long> g_syncs{0};

struct Config {
  const char* dir = nullptr;
  std::size_t dir_len = 0;
  long write_n = 0;
  long sync_n = 0;
  long cut_n = 0;
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
    if (const char* v = std::getenv("AIRLOCK_FAULT_CUT_N")) x.cut_n = std::atol(v);
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

// ---- power cut: an undo log of unsynced data, per file (device, inode)

using InodeKey = std::pair<dev_t, ino_t>;
struct Undo {
  int fd = -1;             // our own descriptor on the file, to put it back
  off_t size_before = 0;   // the size at its last sync
  std::vector<std::pair<off_t, std::vector<char>>> old;  // (offset, bytes before a write), in order
};
std::mutex g_undo_mutex;
// Counted writes and syncs hold it shared while they run; the power cut takes
// it alone, so no write lands after the undo and before the SIGKILL.
std::shared_mutex g_cut;
std::map<InodeKey, Undo>* g_undo = nullptr;  // never freed: used up to the SIGKILL
std::atomic<long> g_ops{0};

bool cutting() { return config().cut_n > 0; }

// Called with the mutex held.
Undo* undo_for(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return nullptr;
  }
  if (g_undo == nullptr) {
    g_undo = new std::map<InodeKey, Undo>();
  }
  auto [it, fresh] = g_undo->try_emplace(InodeKey{st.st_dev, st.st_ino});
  if (fresh) {
    // A descriptor of our own, readable and writable whatever the caller's
    // is (the installer writes through O_WRONLY ones).
    char path[64];
    std::snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    it->second.fd = ::open(path, O_RDWR | O_CLOEXEC);
    it->second.size_before = st.st_size;
  }
  if (it->second.fd < 0) {
    return nullptr;
  }
  return &it->second;
}

// Puts every unsynced byte back and dies, as the machine would.
[[noreturn]] void cut_power() {
  std::unique_lock cut(g_cut);
  std::lock_guard lock(g_undo_mutex);
  // The real calls: ours would count these and take the locks again.
  static auto real_pwrite = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  static auto real_ftruncate = next<int (*)(int, off_t)>("ftruncate");
  if (g_undo != nullptr) {
    for (auto& [key, u] : *g_undo) {
      for (auto it = u.old.rbegin(); it != u.old.rend(); ++it) {
        (void)real_pwrite(u.fd, it->second.data(), it->second.size(), it->first);
      }
      (void)real_ftruncate(u.fd, u.size_before);
    }
  }
  ::kill(::getpid(), SIGKILL);
  for (;;) {
    ::pause();
  }
}

// After a successful sync: what it covered is durable now.
void after_sync(int fd, bool everything) {
  if (!cutting()) {
    return;
  }
  std::lock_guard lock(g_undo_mutex);
  if (g_undo == nullptr) {
    return;
  }
  if (everything) {
    for (auto& [key, u] : *g_undo) {
      ::close(u.fd);
    }
    g_undo->clear();
    return;
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0) {
    auto it = g_undo->find(InodeKey{st.st_dev, st.st_ino});
    if (it != g_undo->end()) {
      ::close(it->second.fd);
      g_undo->erase(it);
    }
  }
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


// Runs a counted write of `len` bytes at `off` (-1: the current offset),
// saving the bytes it overwrites first; cuts the power instead when it is
// the chosen operation.
template <typename Call>
auto guarded_write(int fd, std::size_t len, off_t off, Call&& call) {
  if (!cutting() || !counted(fd)) {
    return call();
  }
  if (++g_ops == config().cut_n) {
    cut_power();
  }
  std::shared_lock cut(g_cut);
  {
    std::lock_guard lock(g_undo_mutex);
    if (Undo* u = undo_for(fd)) {
      if (off < 0) {
        off = (::fcntl(fd, F_GETFL) & O_APPEND) != 0 ? ::lseek(fd, 0, SEEK_END) : ::lseek(fd, 0, SEEK_CUR);
      }
      std::vector<char> old(len);
      const ssize_t n = ::pread(u->fd, old.data(), len, off);
      old.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
      u->old.emplace_back(off, std::move(old));
    }
  }
  return call();
}

// Runs a counted sync; on success what it covered (the file, or everything
// for syncfs) is durable and leaves the undo log.
template <typename Call>
int guarded_sync(int fd, bool everything, Call&& call) {
  if (!cutting() || !counted(fd)) {
    return call();
  }
  if (++g_ops == config().cut_n) {
    cut_power();
  }
  std::shared_lock cut(g_cut);
  const int rc = call();
  if (rc == 0) {
    after_sync(fd, everything);
  }
  return rc;
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t n) {
  static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  if (fault(g_writes, config().write_n, fd)) return -1;
  return guarded_write(fd, n, -1, [&] { return real(fd, buf, n); });
}
ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  if (fault(g_writes, config().write_n, fd)) return -1;
  return guarded_write(fd, n, off, [&] { return real(fd, buf, n, off); });
}
ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  if (fault(g_writes, config().write_n, fd)) return -1;
  return guarded_write(fd, n, off, [&] { return real(fd, buf, n, off); });
}
ssize_t writev(int fd, const struct iovec* iov, int cnt) {
  static auto real = next<ssize_t (*)(int, const struct iovec*, int)>("writev");
  if (fault(g_writes, config().write_n, fd)) return -1;
  std::size_t len = 0;
  for (int i = 0; i < cnt; ++i) len += iov[i].iov_len;
  return guarded_write(fd, len, -1, [&] { return real(fd, iov, cnt); });
}
ssize_t pwritev(int fd, const struct iovec* iov, int cnt, off_t off) {
  static auto real = next<ssize_t (*)(int, const struct iovec*, int, off_t)>("pwritev");
  if (fault(g_writes, config().write_n, fd)) return -1;
  std::size_t len = 0;
  for (int i = 0; i < cnt; ++i) len += iov[i].iov_len;
  return guarded_write(fd, len, off, [&] { return real(fd, iov, cnt, off); });
}
int ftruncate(int fd, off_t len) {
  static auto real = next<int (*)(int, off_t)>("ftruncate");
  // Shrinking loses bytes a power cut would bring back: save them like a write.
  struct stat st {};
  const bool shrinks = cutting() && ::fstat(fd, &st) == 0 && st.st_size > len;
  if (!shrinks) {
    return real(fd, len);
  }
  return guarded_write(fd, static_cast<std::size_t>(st.st_size - len), len, [&] { return real(fd, len); });
}
int ftruncate64(int fd, off64_t len) { return ftruncate(fd, static_cast<off_t>(len)); }
int fsync(int fd) {
  static auto real = next<int (*)(int)>("fsync");
  if (fault(g_syncs, config().sync_n, fd)) return -1;
  return guarded_sync(fd, false, [&] { return real(fd); });
}
int fdatasync(int fd) {
  static auto real = next<int (*)(int)>("fdatasync");
  if (fault(g_syncs, config().sync_n, fd)) return -1;
  return guarded_sync(fd, false, [&] { return real(fd); });
}
int syncfs(int fd) {
  static auto real = next<int (*)(int)>("syncfs");
  if (fault(g_syncs, config().sync_n, fd)) return -1;
  return guarded_sync(fd, true, [&] { return real(fd); });
}

}  // extern "C"

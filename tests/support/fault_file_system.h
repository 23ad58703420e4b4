#pragma once
// A FileSystem (core/os/file_system.h) over the real one that injects the
// faults a disk and a power cut bring, after leveldb's FaultInjectionTestEnv
// (db/fault_injection_test.cc):
//   - crash_after(n): the process "dies" after n changing calls: call n + 1
//     and every call after it fail (nothing more reaches the disk), as when
//     the installer is killed there;
//   - drop_unsynced(): what the reboot after such a crash loses is undone on
//     the real files: data written since the last sync_file_system() reads
//     as zeros again, names (files, directories, links, renames) not yet made
//     durable by fsync_dir() of their directory or sync_file_system() are
//     gone (a rename goes back), newest first;
//   - fail_write(n): the n-th pwrite_all fails once, with EIO;
//   - fill_disk_at(bytes): reservations and writes past `bytes` in total fail
//     with ENOSPC.
// Changing calls: everything but open_write, pread_exact and start_writeback.
// Paths must be absolute. One thread at a time, like the install transaction.

#include <cstdint>
#include <optional>
#include <vector>

#include "core/os/file_system.h"

namespace airlock::test {

namespace stdfs = std::filesystem;

class FaultFileSystem final : public os::FileSystem {
 public:
  explicit FaultFileSystem(os::FileSystem& base) : m_base(base) {}

  void crash_after(std::size_t changing_calls) { m_crash_after = changing_calls; }
  void fail_write(std::size_t nth) { m_fail_write = nth; }
  void fill_disk_at(std::uint64_t bytes) { m_disk_limit = bytes; }
  std::size_t changing_calls() const { return m_calls; }
  bool crashed() const { return m_crashed; }
  // Simulates the reboot after a crash (see above), then forgets every
  // fault and all tracking: the object is as new.
  Status drop_unsynced();

  Result<std::unique_ptr<os::StagedFile>> create_new(const stdfs::path& path, std::uint32_t mode) override;
  Result<std::unique_ptr<os::StagedFile>> open_write(const stdfs::path& path) override;
  Status make_dirs(const stdfs::path& dir, std::uint32_t mode) override;
  Status sync_file_system(const stdfs::path& dir) override;
  Status fsync_dir(const stdfs::path& dir) override;
  Status rename(const stdfs::path& from, const stdfs::path& to) override;
  Status hardlink(const stdfs::path& from, const stdfs::path& to) override;
  Status chmod(const stdfs::path& path, std::uint32_t mode) override;
  Status remove_tree(const stdfs::path& path) override;
  Status replace_symlink(const stdfs::path& link, const std::string& target) override;

 private:
  class File;
  enum class Kind { kCreate, kMkdir, kLink, kRename, kWrite };
  struct Pending {
    Kind kind;
    stdfs::path path;  // where it is now (renames after it move it)
    stdfs::path from;  // kRename: where it was
    std::uint64_t offset = 0;  // kWrite
    std::uint64_t length = 0;
    bool durable = false;
  };

  // Counts a changing call; the crash error once past crash_after().
  Status step(const stdfs::path& path);
  Status check_alive(const stdfs::path& path) const;
  Status use_space(const stdfs::path& path, std::uint64_t bytes);
  void record(Kind kind, const stdfs::path& path, const stdfs::path& from = {});
  void record_write(const stdfs::path& path, std::uint64_t offset, std::uint64_t length);
  void move_prefix(const stdfs::path& from, const stdfs::path& to, std::size_t before);

  os::FileSystem& m_base;
  std::optional<std::size_t> m_crash_after;
  std::optional<std::size_t> m_fail_write;
  std::optional<std::uint64_t> m_disk_limit;
  std::size_t m_calls = 0;
  std::size_t m_writes = 0;
  std::uint64_t m_used = 0;
  bool m_crashed = false;
  std::vector<Pending> m_pending;
};

}  // namespace airlock::test

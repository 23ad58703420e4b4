#pragma once
// The running installer as every ledger event records it: its version and
// the SHA-256 of its own executable, so the audit trail says which binary
// did what (a site runs whichever static installer came on the media).
//
// The executable is opened once per process, on the first call to
// running() (the ledger calls it when it opens): /proc/self/exe, which names
// the running file even if its path was replaced since, or, where /proc is
// not mounted (an empty chroot), the path the program was started by
// (getauxval(AT_EXECFN)). It is hashed lazily, on the first sha256() call,
// i.e. the first event written. Never fails: when neither can be read,
// sha256() says so ("unavailable: ...") instead of a hash.
// Not thread-safe; the ledger is used from one thread.

#include <optional>
#include <string>

namespace airlock::installer {

class SelfIdentity {
 public:
  static SelfIdentity& running();
  ~SelfIdentity();
  SelfIdentity(const SelfIdentity&) = delete;
  SelfIdentity& operator=(const SelfIdentity&) = delete;

  // The project version, as CMakeLists.txt's project() gives it.
  const std::string& version() const { return m_version; }
  // 64 lowercase hex digits, or "unavailable: WHY".
  const std::string& sha256();

 private:
  SelfIdentity();

  std::string m_version;
  int m_fd = -1;
  std::string m_open_error;
  std::optional<std::string> m_sha256;
};

}  // namespace airlock::installer

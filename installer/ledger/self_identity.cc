#include "installer/ledger/self_identity.h"

#include <fcntl.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "core/base/bytes.h"
#include "core/crypto/sha256.h"
#include "core/fs/file.h"

#ifndef AIRLOCK_VERSION_STRING
#error "AIRLOCK_VERSION_STRING must be defined by the build (installer/CMakeLists.txt)"
#endif

namespace airlock::installer {

SelfIdentity& SelfIdentity::running() {
  static SelfIdentity self;
  return self;
}

SelfIdentity::SelfIdentity() : m_version(AIRLOCK_VERSION_STRING) {
  m_fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (m_fd >= 0) {
    return;
  }
  m_open_error = fmt::format("/proc/self/exe: {}", fs::errno_text(errno));
  // No /proc (an empty chroot): the path the kernel was asked to run.
  const auto* started_as = reinterpret_cast<const char*>(::getauxval(AT_EXECFN));
  if (started_as != nullptr && *started_as != '\0') {
    m_fd = ::open(started_as, O_RDONLY | O_CLOEXEC);
    if (m_fd < 0) {
      m_open_error += fmt::format("; {}: {}", started_as, fs::errno_text(errno));
    }
  }
}

SelfIdentity::~SelfIdentity() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

const std::string& SelfIdentity::sha256() {
  if (m_sha256) {
    return *m_sha256;
  }
  if (m_fd < 0) {
    m_sha256 = "unavailable: " + m_open_error;
    return *m_sha256;
  }
  crypto::Sha256 h;
  Bytes buffer(1 << 20);
  std::uint64_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(m_fd, buffer.data(), buffer.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      m_sha256 = fmt::format("unavailable: reading the executable: {}", fs::errno_text(errno));
      return *m_sha256;
    }
    if (n == 0) {
      break;
    }
    h.update(ByteSpan(buffer.data(), static_cast<std::size_t>(n)));
    offset += static_cast<std::uint64_t>(n);
  }
  m_sha256 = to_hex(h.finish());
  return *m_sha256;
}

}  // namespace airlock::installer

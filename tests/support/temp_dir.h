#pragma once
// A uniquely named directory under the system temp dir, removed (with
// everything in it, read-only parts included) when the object goes away.

#include <cstdint>
#include <filesystem>
#include <random>
#include <string_view>

#include <fmt/core.h>

namespace airlock::test {

class TempDir {
 public:
  explicit TempDir(std::string_view tag = "test") {
    std::random_device rd;
    m_path = std::filesystem::temp_directory_path() /
             fmt::format("airlock-{}-{:016x}", tag, (std::uint64_t{rd()} << 32) | rd());
    std::filesystem::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(m_path, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add | std::filesystem::perm_options::nofollow, ec);
    }
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

}  // namespace airlock::test

#pragma once
// Small file helpers for unit tests: write a file (making its parent
// directories), read one back whole. One copy for every test file: the unit
// tests are compiled one folder at a time (cmake/Unity.cmake), so helpers of
// the same name in two files of a folder would clash.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "core/base/bytes.h"

namespace airlock::test {

inline void write_text(const std::filesystem::path& p, std::string_view text) {
  if (p.has_parent_path()) {
    std::filesystem::create_directories(p.parent_path());
  }
  std::ofstream(p, std::ios::binary) << text;
}

// The file's bytes; empty when it cannot be read.
inline Bytes read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace airlock::test

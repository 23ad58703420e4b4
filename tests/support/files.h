#pragma once
// Small file helpers for unit tests: write a file (making its parent
// directories), read one back whole, seeded random bytes. One copy for every test file: the unit
// tests are compiled one folder at a time (cmake/Unity.cmake), so helpers of
// the same name in two files of a folder would clash.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
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

inline void write_bytes(const std::filesystem::path& p, ByteSpan data) {
  if (p.has_parent_path()) {
    std::filesystem::create_directories(p.parent_path());
  }
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// n bytes from mt19937_64(seed), one byte (the low 8 bits) per draw: the
// same bytes on every platform.
inline Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes out(n);
  for (auto& b : out) {
    b = static_cast<std::uint8_t>(rng());
  }
  return out;
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

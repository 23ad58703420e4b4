// The tar subset reader (core/archive/tar.h) straight on the input, without
// the file and hashing of the volume harness, so more inputs a second reach
// its header, octal and pax record parsing. The first byte picks the read
// pattern (how much of each entry's data is read before next()), so the
// skip-the-rest path is covered too. Then a writer round trip: entries named
// and sized from the input must read back exactly.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/archive/tar.h"

using namespace airlock;
using namespace airlock::archive;

namespace {

void read_all(ByteSpan in, std::uint8_t pattern) {
  std::size_t pos = 0;
  tar::Reader r(
      [&](std::span<std::uint8_t> out) -> Result<std::size_t> {
        const std::size_t n = std::min(out.size(), in.size() - pos);
        std::memcpy(out.data(), in.data() + pos, n);
        pos += n;
        return n;
      },
      "fuzz.vol001.tar", in.size());
  Bytes buf(4096);
  for (int entries = 0; entries < 1000; ++entries) {
    auto e = r.next();
    if (!e || !*e) {
      break;
    }
    std::uint64_t want = (pattern & 1) ? (*e)->size : (*e)->size / (1 + (pattern >> 1));
    while (want > 0) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(want, buf.size()));
      if (!r.read(std::span(buf.data(), n))) {
        return;
      }
      want -= n;
    }
    if (pattern & 0x80) {
      (void)r.read(std::span(buf.data(), 1));  // one byte too many, at times
    }
  }
  if (r.consumed() != pos) {
    __builtin_trap();
  }
}

void round_trip(ByteSpan in) {
  // Names and sizes from the input: byte 0 = count, then (len, size) pairs.
  std::vector<std::pair<std::string, std::size_t>> files;
  std::size_t i = 1;
  while (i + 2 <= in.size() && files.size() < (in[0] % 8)) {
    const std::size_t len = 1 + in[i] * 2;  // up to 511: ustar and pax path
    const std::size_t size = in[i + 1] * 37;
    std::string name(len, 'a');
    for (std::size_t k = 0; k < len; ++k) {
      name[k] = static_cast<char>('a' + (k + i) % 26);
      if (k % 17 == 16) {
        name[k] = '/';
      }
    }
    name.back() = 'z';
    files.emplace_back(std::move(name), size);
    i += 2;
  }
  Bytes out;
  tar::Writer w([&](ByteSpan d) {
    append(out, d);
    return ok_status();
  });
  for (const auto& [name, size] : files) {
    if (!w.add_entry(name, Bytes(size, 0x5a))) {
      __builtin_trap();
    }
  }
  if (!w.finish()) {
    __builtin_trap();
  }
  std::size_t pos = 0;
  tar::Reader r(
      [&](std::span<std::uint8_t> o) -> Result<std::size_t> {
        const std::size_t n = std::min(o.size(), out.size() - pos);
        std::memcpy(o.data(), out.data() + pos, n);
        pos += n;
        return n;
      },
      "rt", out.size());
  for (const auto& [name, size] : files) {
    auto e = r.next();
    if (!e || !*e || (*e)->name != name || (*e)->size != size) {
      __builtin_trap();
    }
  }
  auto end = r.next();
  if (!end || *end || pos != out.size()) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  read_all(ByteSpan(data + 1, size - 1), data[0]);
  round_trip(ByteSpan(data, std::min<std::size_t>(size, 64)));
  return 0;
}

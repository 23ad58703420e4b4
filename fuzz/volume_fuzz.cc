// The volume reader (the tar subset reader behind our bounded, hashed reads) on an
// arbitrary file: list every entry, read its data in bounded pieces, hash the
// rest. Must fail cleanly on anything malformed.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "core/archive/volume.h"

using namespace airlock;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = memfd_create("volume", 0);
  if (fd < 0) {
    return 0;
  }
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) {
      close(fd);
      return 0;
    }
    done += static_cast<std::size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  auto file = airlock::fs::File::open_read(path);
  if (!file) {
    close(fd);
    return 0;
  }
  auto reader = airlock::archive::VolumeReader::open(std::move(*file), "fuzz.vol001.tar", size);
  if (reader) {
    Bytes buf(64 * 1024);
    for (int entries = 0; entries < 1000; ++entries) {
      auto entry = (*reader)->next();
      if (!entry || !*entry) {
        break;
      }
      std::uint64_t left = (*entry)->size;
      bool ok = true;
      while (ok && left > 0) {
        const std::size_t n = left < buf.size() ? static_cast<std::size_t>(left) : buf.size();
        ok = static_cast<bool>((*reader)->read_exact(std::span<std::uint8_t>(buf.data(), n)));
        left -= n;
      }
      if (!ok) {
        break;
      }
    }
    (void)(*reader)->finish();
  }
  close(fd);
  return 0;
}

#include "core/archive/decompress.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace airlock::archive {

Result<std::string> decompress(std::string_view data, std::uint64_t limit, std::string_view what) {
  std::unique_ptr<struct archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  if (!a) {
    return make_error(ErrorCode::kIOError, "{}: out of memory", what);
  }
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  auto fail = [&](std::string_view stage) {
    return make_error(ErrorCode::kCorruption, "{}: cannot decompress ({}: {})", what, stage,
                      archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown error");
  };
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) {
    return fail("open");
  }
  archive_entry* entry = nullptr;
  int rc = archive_read_next_header(a.get(), &entry);
  if (rc == ARCHIVE_EOF) {
    return std::string();
  }
  if (rc != ARCHIVE_OK) {
    return fail("header");
  }
  std::string out;
  char buf[65536];
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
    if (n < 0) {
      return fail("data");
    }
    if (n == 0) {
      break;
    }
    if (out.size() + static_cast<std::uint64_t>(n) > limit) {
      return make_error(ErrorCode::kCorruption, "{}: decompresses to more than {} bytes", what, limit);
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace airlock::archive

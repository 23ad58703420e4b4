// The deployment manifest parser (TOML, strict keys, names, paths, sizes).
#include <cstdint>
#include <string_view>

#include "core/manifest/manifest.h"

using namespace airlock;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)manifest::parse_manifest_text(text, "fuzz.toml");
  (void)manifest::is_safe_relative_path(text);
  (void)manifest::parse_duration_seconds(text);
  return 0;
}

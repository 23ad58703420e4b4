#pragma once
// Core reports progress through this callback; the CLI decides how to draw
// it (a bar on a terminal, plain lines elsewhere, nothing with -q).

#include <cstdint>
#include <functional>
#include <string_view>

namespace airlock {

struct ProgressEvent {
  std::string_view stage;  // "pack", "verify", "install", ...
  std::string_view item;   // current file or volume, may be empty
  std::uint64_t done = 0;  // bytes
  std::uint64_t total = 0;
};

using ProgressFn = std::function<void(const ProgressEvent&)>;

}  // namespace airlock

#pragma once
// The process environment, read as std::string.

#include <cstdlib>
#include <string>

namespace airlock {

// The value of the environment variable NAME; empty when it is unset.
inline std::string getenv_str(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace airlock

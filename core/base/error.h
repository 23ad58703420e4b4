#pragma once
// Error values and Result<T> = std::expected<T, Error>, after leveldb's Status.
// Every fallible function in airlock returns Result; nothing in core throws
// or prints. The code decides the exit status (see cli/exit_codes.h).

#include <expected>
#include <string>
#include <utility>

#include <fmt/core.h>

namespace airlock {

enum class ErrorCode {
  kInvalidArgument,  // bad input from the user: manifest, option, name
  kNotFound,         // a file, key, deployment or version that is not there
  kIOError,          // the operating system said no (disk full, permissions)
  kCorruption,       // bytes that do not match what was signed / hashed
  kBadSignature,     // a signature that does not verify
  kUntrusted,        // signed, but by no key this site trusts
  kReplayed,         // an older or equal sequence for a deployment
  kExpired,          // past its expiry, or the clock is behind the time floor
  kNotForThisSite,   // encrypted to other recipients / wrong passphrase
  kUnsupported,      // valid but not implemented (yet)
  kInterrupted,      // SIGINT / SIGTERM
  kUsage,            // options that do not fit together (exit 2)
  kActivationFailed, // an [activate] command or health check failed (exit 1)
};

class Error {
 public:
  Error(ErrorCode code, std::string message) : m_code(code), m_message(std::move(message)) {}

  ErrorCode code() const { return m_code; }
  const std::string& message() const { return m_message; }

  // Prefix context, e.g. the file or volume being processed:
  // "vol002.tar: SHA-256 mismatch".
  Error&& with_context(std::string_view context) && {
    m_message = fmt::format("{}: {}", context, m_message);
    return std::move(*this);
  }

  // True for every failure that means "do not trust these bytes" (exit 3).
  bool is_verification_failure() const {
    switch (m_code) {
      case ErrorCode::kCorruption:
      case ErrorCode::kBadSignature:
      case ErrorCode::kUntrusted:
      case ErrorCode::kReplayed:
      case ErrorCode::kExpired:
      case ErrorCode::kNotForThisSite:
        return true;
      default:
        return false;
    }
  }

 private:
  ErrorCode m_code;
  std::string m_message;
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

template <typename... Args>
std::unexpected<Error> make_error(ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  return std::unexpected(Error(code, fmt::format(f, std::forward<Args>(args)...)));
}

// Success, for functions returning Status.
inline Status ok_status() { return {}; }

}  // namespace airlock

// TRY(expr): evaluate a Result/Status; on error return it from the caller.
// ASSIGN_OR_RETURN(lhs, expr): as TRY, binding the value to lhs.
#define AIRLOCK_CONCAT_INNER(a, b) a##b
#define AIRLOCK_CONCAT(a, b) AIRLOCK_CONCAT_INNER(a, b)

#define TRY_IMPL(tmp, expr)                                \
  do {                                                     \
    auto&& tmp = (expr);                                   \
    if (!tmp) {                                            \
      return std::unexpected(std::move(tmp).error());      \
    }                                                      \
  } while (false)

#define TRY(expr) TRY_IMPL(AIRLOCK_CONCAT(airlock_try_, __COUNTER__), expr)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)              \
  auto tmp = (expr);                                       \
  if (!tmp) {                                              \
    return std::unexpected(std::move(tmp).error());        \
  }                                                        \
  lhs = std::move(*tmp)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(AIRLOCK_CONCAT(airlock_aor_, __COUNTER__), lhs, expr)

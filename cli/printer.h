#pragma once
// What the programs print: errors ("PROGRAM: error: ..."), notes, and
// progress. Progress is a self-overwriting line on a terminal whose TERM is
// not "dumb" (bytes, rate, ETA); elsewhere (serial consoles, logs, CI) a
// plain line at most every 10% of the work; nothing with -q.
// Exit codes: EXIT STATUS in bundler/manual.md and installer/manual.md (the man pages).
// Every message is written through text::escape_untrusted: whatever a
// message quotes (a key id from an envelope, a volume or file name from the
// media, a child's output), no control byte or escape sequence reaches the
// terminal, and no message spans more than one line.

#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/core.h>

#include "core/base/error.h"
#include "core/base/progress.h"
#include "core/base/text.h"
#include "core/base/timings.h"

namespace airlock::cli {

enum ExitCode : int {
  k_exit_ok = 0,
  k_exit_error = 1,
  k_exit_usage = 2,
  k_exit_verification = 3,
  k_exit_interrupted = 130,
};

int exit_code_for(const Error& error);

std::string human_bytes(std::uint64_t bytes);
// "2026-11-23T22:40:43Z" for unix seconds.
std::string iso_time(std::int64_t unix_seconds);

class Printer {
 public:
  Printer(std::string program, bool quiet);

  // Always printed (stderr), whatever -q says.
  int fail(const Error& error);
  template <typename... Args>
  void note(fmt::format_string<Args...> f, Args&&... args) {
    if (!m_quiet) {
      clear_line();
      fmt::print(stderr, "{}: {}\n", m_program, text::escape_untrusted(fmt::format(f, std::forward<Args>(args)...)));
    }
  }
  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... args) {
    clear_line();
    fmt::print(stderr, "{}: warning: {}\n", m_program,
               text::escape_untrusted(fmt::format(f, std::forward<Args>(args)...)));
  }

  ProgressFn progress();
  // Prints the stages to stderr with their share of the wall time.
  void print_timings(const Timings& timings, double wall_seconds);
  void end_progress();
  void set_quiet(bool quiet) { m_quiet = quiet; }

 private:
  void draw(const ProgressEvent& e);
  void clear_line();

  std::string m_program;
  bool m_quiet;
  bool m_smart_terminal;
  bool m_line_dirty = false;
  std::string m_stage;
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_last_draw;
  int m_last_decile = -1;
};

}  // namespace airlock::cli

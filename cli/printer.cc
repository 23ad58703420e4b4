#include "cli/printer.h"

#include <cstdlib>
#include <ctime>
#include <cstring>
#include <unistd.h>

namespace airlock::cli {

int exit_code_for(const Error& error) {
  if (error.code() == ErrorCode::kInterrupted) {
    return k_exit_interrupted;
  }
  if (error.code() == ErrorCode::kUsage) {
    return k_exit_usage;
  }
  return error.is_verification_failure() ? k_exit_verification : k_exit_error;
}

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string iso_time(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Printer::Printer(std::string program, bool quiet) : m_program(std::move(program)), m_quiet(quiet) {
  const char* term = std::getenv("TERM");
  m_smart_terminal = ::isatty(STDERR_FILENO) == 1 && term != nullptr && std::strcmp(term, "dumb") != 0;
}

int Printer::fail(const Error& error) {
  clear_line();
  fmt::print(stderr, "{}: error: {}\n", m_program, text::escape_untrusted(error.message()));
  return exit_code_for(error);
}

void Printer::clear_line() {
  if (m_line_dirty) {
    fmt::print(stderr, "\r\033[K");
    m_line_dirty = false;
  }
}

ProgressFn Printer::progress() {
  if (m_quiet) {
    return {};
  }
  m_start = std::chrono::steady_clock::now();
  m_last_draw = {};
  m_last_decile = -1;
  return [this](const ProgressEvent& e) { draw(e); };
}

void Printer::draw(const ProgressEvent& e) {
  auto now = std::chrono::steady_clock::now();
  if (m_stage != e.stage) {
    m_stage = std::string(e.stage);
    m_start = now;
    m_last_decile = -1;
  }
  double elapsed = std::chrono::duration<double>(now - m_start).count();
  double rate = elapsed > 0 ? static_cast<double>(e.done) / elapsed : 0;
  std::string eta = rate > 0 && e.total >= e.done
                        ? fmt::format("{:.0f}s", static_cast<double>(e.total - e.done) / rate)
                        : "?";
  int percent = e.total == 0 ? 100 : static_cast<int>(100.0 * static_cast<double>(e.done) / static_cast<double>(e.total));
  if (m_smart_terminal) {
    bool final_event = e.done == e.total;
    if (!final_event && now - m_last_draw < std::chrono::milliseconds(100)) {
      return;
    }
    m_last_draw = now;
    fmt::print(stderr, "\r\033[K{}: {} {:3}% {} / {}  {}/s  ETA {}  {}", m_program, e.stage, percent,
               human_bytes(e.done), human_bytes(e.total), human_bytes(static_cast<std::uint64_t>(rate)), eta, text::escape_untrusted(e.item));
    m_line_dirty = true;
  } else {
    int decile = percent / 10;
    if (decile == m_last_decile) {
      return;
    }
    m_last_decile = decile;
    fmt::print(stderr, "{}: {} {}% {} / {} ({}/s) {}\n", m_program, e.stage, percent, human_bytes(e.done),
               human_bytes(e.total), human_bytes(static_cast<std::uint64_t>(rate)), text::escape_untrusted(e.item));
  }
}

void Printer::end_progress() { clear_line(); }

void Printer::print_timings(const Timings& timings, double wall_seconds) {
  clear_line();
  fmt::print(stderr, "{}: timings (worker stages add CPU time across threads)\n", m_program);
  for (const auto& [stage, seconds] : timings.entries()) {
    fmt::print(stderr, "  {:<44} {:8.3f} s  {:5.1f}%\n", stage, seconds,
               wall_seconds > 0 ? 100.0 * seconds / wall_seconds : 0.0);
  }
  fmt::print(stderr, "  {:<44} {:8.3f} s\n", "wall", wall_seconds);
}

}  // namespace airlock::cli

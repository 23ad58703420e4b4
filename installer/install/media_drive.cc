#include "installer/install/media_drive.h"

#include <algorithm>
#include <memory>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/base/interrupt.h"
#include "core/format/media_files.h"

namespace airlock::installer {

namespace stdfs = std::filesystem;

namespace {

// Volume numbers for people: "volume 3", "volumes 7-9", "volumes 2, 5".
std::string volume_list(const std::vector<std::size_t>& vs) {
  if (vs.size() == 1) {
    return fmt::format("volume {}", vs.front() + 1);
  }
  bool run = true;
  for (std::size_t i = 1; i < vs.size(); ++i) {
    run = run && vs[i] == vs[i - 1] + 1;
  }
  if (run) {
    return fmt::format("volumes {}-{}", vs.front() + 1, vs.back() + 1);
  }
  std::vector<std::size_t> one_based;
  for (std::size_t v : vs) {
    one_based.push_back(v + 1);
  }
  return fmt::format("volumes {}", fmt::join(one_based, ", "));
}

// The terminal to ask the operator on: stdin when it is one, else
// /dev/tty (opened once, closed with this).
class Terminal {
 public:
  Terminal() = default;
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;
  ~Terminal() {
    if (m_owned) {
      ::close(m_fd);
    }
  }
  bool available() {
    if (m_fd < 0) {
      if (isatty(STDIN_FILENO)) {
        m_fd = STDIN_FILENO;
      } else {
        m_fd = ::open("/dev/tty", O_RDONLY | O_CLOEXEC);
        m_owned = m_fd >= 0;
      }
    }
    return m_fd >= 0;
  }
  // Until Enter (kInterrupted on Ctrl-C, kNotFound when the terminal closes).
  Status wait_for_enter() {
    for (;;) {
      char c = 0;
      const ssize_t n = ::read(m_fd, &c, 1);
      if (n < 0 && errno == EINTR) {
        TRY(check_interrupt());
        continue;
      }
      if (n <= 0) {
        return make_error(ErrorCode::kNotFound, "the terminal closed while waiting for a medium");
      }
      if (c == '\n') {
        return ok_status();
      }
    }
  }

 private:
  int m_fd = -1;
  bool m_owned = false;
};

class Drive {
 public:
  Drive(const format::OpenedIndex& opened, const format::Payload& payload, DriveOptions options)
      : m_opened(opened), m_payload(payload), m_options(std::move(options)) {}

  Result<format::VolumeAt> next(const std::vector<bool>& read) {
    std::string last_state;
    for (;;) {
      TRY(check_interrupt());
      ASSIGN_OR_RETURN(Look look, look_at(read));
      if (look.ready) {
        if (look.state != m_announced) {
          say(look.state);
          m_announced = look.state;
        }
        return look.at;
      }
      const std::string ask = ask_for(read);
      if (m_options.wait) {
        // Said once per change of what is in the drive, not every poll.
        const std::string line = look.state.empty() ? fmt::format("waiting for {}", ask)
                                                    : fmt::format("{}; waiting for {}", look.state, ask);
        if (line != last_state) {
          say(line);
          last_state = line;
        }
        std::this_thread::sleep_for(m_options.poll);
        continue;
      }
      if (!look.state.empty()) {
        say(look.state);
      }
      TRY(prompt(fmt::format("insert {} into {} and press Enter (Ctrl-C stops; the next install resumes)", ask,
                             m_options.dir.string())));
    }
  }

 private:
  struct Look {
    bool ready = false;
    format::VolumeAt at;
    std::string state;  // what is in the drive, when worth saying
  };

  void say(const std::string& line) {
    if (m_options.say) {
      m_options.say(line);
    }
  }

  std::string medium_text(std::uint32_t m) const {
    return fmt::format("{} (medium {} of {})", format::medium_dir_name(m), m, m_opened.header.media->count);
  }

  // The medium to ask for: the first one holding a volume not yet read.
  std::string ask_for(const std::vector<bool>& read) const {
    std::vector<std::size_t> unread;
    for (std::size_t v = 0; v < read.size(); ++v) {
      if (!read[v]) {
        unread.push_back(v);
      }
    }
    if (!m_opened.header.media) {
      return fmt::format("the medium holding {} ({})", m_opened.header.volumes[unread.front()].name,
                         volume_list({unread.front()}));
    }
    const format::MediaPlan& plan = *m_opened.header.media;
    const std::uint32_t m = plan.volume_media[unread.front()];
    std::vector<std::size_t> on_it;
    for (std::size_t v : unread) {
      if (plan.volume_media[v] == m) {
        on_it.push_back(v);
      }
    }
    return fmt::format("{}, {}", medium_text(m), volume_list(on_it));
  }

  Result<Look> look_at(const std::vector<bool>& read) {
    Look look;
    const stdfs::path& dir = m_options.dir;
    std::error_code ec;
    if (!stdfs::is_directory(dir, ec)) {
      return look;  // not mounted (yet)
    }
    auto index = format::locate_index(dir);
    if (!index) {
      if (index.error().code() == ErrorCode::kNotFound) {
        return look;  // empty drive, or a medium still being copied in
      }
      look.state = fmt::format("{}: {}", dir.string(), index.error().message());
      return look;
    }
    auto sha = format::index_file_sha256(*index);
    if (!sha) {
      look.state = fmt::format("{}: {}", dir.string(), sha.error().message());
      return look;
    }
    if (*sha != m_opened.index_sha256) {
      look.state = fmt::format("{} holds a medium of another bundle ({}, index SHA-256 {}), not of {} {}",
                               dir.string(), index->filename().string(), sha->substr(0, 16), m_opened.header.name,
                               m_opened.header.version);
      return look;
    }
    // This bundle's medium: which of its volumes are here, under their own
    // names or under names its file system made.
    if (!m_scratch) {
      m_scratch = std::make_unique<format::OpenedIndex>(m_opened);
      m_scratch->more_dirs.clear();
    }
    m_scratch->dir = dir;
    m_scratch->renamed.clear();
    TRY(format::check_no_extra_volumes_in(*m_scratch, dir));
    ASSIGN_OR_RETURN(std::vector<std::string> notes, format::find_renamed_volumes(*m_scratch, &m_payload));
    for (const std::string& n : notes) {
      if (std::find(m_noted.begin(), m_noted.end(), n) == m_noted.end()) {
        say(n);
        m_noted.push_back(n);
      }
    }
    const auto& vols = m_opened.header.volumes;
    std::vector<std::size_t> here;
    std::vector<std::size_t> arriving;
    std::optional<format::VolumeAt> pick;
    for (std::size_t v = 0; v < vols.size(); ++v) {
      const stdfs::path at = m_scratch->volume_path(v);
      if (!stdfs::exists(stdfs::symlink_status(at, ec))) {
        continue;
      }
      here.push_back(v);
      if (read[v] || pick) {
        continue;
      }
      // A landing directory fills while we look: a volume short of its
      // signed size is still arriving (one longer is read, and refused).
      const std::uint64_t size = stdfs::file_size(at, ec);
      if (m_options.wait && !ec && size < vols[v].size) {
        arriving.push_back(v);
        continue;
      }
      pick = format::VolumeAt{static_cast<std::uint32_t>(v), at};
    }
    std::string which = dir.string();
    if (m_opened.header.media && !here.empty()) {
      which = fmt::format("{} ({} is in)", dir.string(), medium_text(m_opened.header.media->volume_media[here.front()]));
    }
    if (pick) {
      look.ready = true;
      look.at = *pick;
      look.state = fmt::format("reading {}", which);
      return look;
    }
    if (!arriving.empty()) {
      look.state = fmt::format("{}: {} still arriving", which, volume_list(arriving));
    } else if (here.empty()) {
      look.state = fmt::format("{} holds no volume of {} {} (the first medium, or a medium without volumes)",
                               dir.string(), m_opened.header.name, m_opened.header.version);
    } else {
      look.state = fmt::format("{}: already read ({})", which, volume_list(here));
    }
    return look;
  }

  // Asks on the terminal and waits for Enter; with no terminal, prompting
  // is impossible and the operator is told what to use instead.
  Status prompt(const std::string& text) {
    if (!m_tty.available()) {
      return make_error(ErrorCode::kUsage,
                        "no terminal to ask for the next medium on: give --wait (polls {} for it), or give the "
                        "directory of every medium",
                        m_options.dir.string());
    }
    say(text);
    return m_tty.wait_for_enter();
  }

 private:
  const format::OpenedIndex& m_opened;
  const format::Payload& m_payload;
  DriveOptions m_options;
  std::unique_ptr<format::OpenedIndex> m_scratch;
  std::vector<std::string> m_noted;
  std::string m_announced;
  Terminal m_tty;
};

}  // namespace

Result<stdfs::path> wait_for_first_medium(const DriveOptions& options) {
  bool said = false;
  Terminal tty;
  for (;;) {
    TRY(check_interrupt());
    std::error_code ec;
    if (stdfs::is_directory(options.dir, ec)) {
      auto index = format::locate_index(options.dir);
      if (index || index.error().code() != ErrorCode::kNotFound) {
        return index;
      }
    }
    const std::string ask = fmt::format("any medium of the bundle (the first is best) into {}", options.dir.string());
    if (options.wait) {
      if (!said && options.say) {
        options.say(fmt::format("waiting for {}", ask));
      }
      said = true;
      std::this_thread::sleep_for(options.poll);
      continue;
    }
    if (!tty.available()) {
      return make_error(ErrorCode::kUsage,
                        "{} holds no bundle index and there is no terminal to ask for a medium on: give --wait "
                        "(polls for it), or give the directory of every medium",
                        options.dir.string());
    }
    if (options.say) {
      options.say(fmt::format("insert {} and press Enter", ask));
    }
    TRY(tty.wait_for_enter());
  }
}

format::VolumeSource drive_source(const format::OpenedIndex& opened, const format::Payload& payload,
                                  DriveOptions options) {
  auto drive = std::make_shared<Drive>(opened, payload, std::move(options));
  return [drive](const std::vector<bool>& read) { return drive->next(read); };
}

}  // namespace airlock::installer

#include "bundler/media.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

#include "cli/sizes.h"
#include "core/format/bundle_writer.h"

namespace airlock::bundler {

namespace {

constexpr std::uint64_t k_fat32_max_file = (4ull << 30) - 1;
constexpr std::uint64_t k_mib = 1ull << 20;

struct Preset {
  const char* name;
  std::uint64_t raw;
  std::uint64_t overhead;  // the file system's structures, kept free
  std::uint64_t granule;
  const char* file_system;
};

// Optical: raw = sectors x 2048 of the recordable disc (CD-R 80 min,
// DVD±R, DVD+R DL, BD-R SL/DL, BD-R XL TL, unformatted: no spare area).
// The overhead covers what an ISO 9660 + Joliet + Rock Ridge or UDF image
// builder adds (system area, descriptors, path tables, directory records,
// xorriso's 300 KiB tail padding) with room to spare. USB: the label's
// decimal gigabytes, less 5 % for sticks that hold less than their label
// and for the FAT and the allocation bitmap.
constexpr std::array k_presets = {
    Preset{"cd", 360'000ull * 2048, 8 * k_mib, 2048, "ISO 9660 (level 3) + Rock Ridge/Joliet, or UDF"},
    Preset{"dvd", 2'295'104ull * 2048, 16 * k_mib, 2048, "ISO 9660 (level 3) + UDF"},
    Preset{"dvd-dl", 4'171'712ull * 2048, 16 * k_mib, 2048, "ISO 9660 (level 3) + UDF"},
    Preset{"bd25", 12'219'392ull * 2048, 64 * k_mib, 2048, "UDF 2.50, or ISO 9660 (level 3) + UDF"},
    Preset{"bd50", 24'438'784ull * 2048, 64 * k_mib, 2048, "UDF 2.50, or ISO 9660 (level 3) + UDF"},
    Preset{"bd100", 48'878'592ull * 2048, 128 * k_mib, 2048, "UDF 2.50, or ISO 9660 (level 3) + UDF"},
    Preset{"usb8g", 8'000'000'000ull, 400'000'000ull, 128 << 10, "FAT32 or exFAT"},
    Preset{"usb16g", 16'000'000'000ull, 800'000'000ull, 128 << 10, "FAT32 or exFAT"},
    Preset{"usb32g", 32'000'000'000ull, 1'600'000'000ull, 128 << 10, "FAT32 or exFAT"},
    Preset{"usb64g", 64'000'000'000ull, 3'200'000'000ull, 128 << 10, "FAT32 or exFAT"},
    Preset{"usb128g", 128'000'000'000ull, 6'400'000'000ull, 128 << 10, "FAT32 or exFAT"},
};

constexpr std::uint64_t round_up(std::uint64_t n, std::uint64_t unit) { return (n + unit - 1) / unit * unit; }

}  // namespace

std::string medium_preset_names() {
  std::string out;
  for (const Preset& p : k_presets) {
    out += out.empty() ? p.name : fmt::format(", {}", p.name);
  }
  return out;
}

Result<MediumSpec> parse_medium(std::string_view text) {
  std::string t;
  for (char c : text) {
    t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  for (const Preset& p : k_presets) {
    if (t == p.name) {
      return MediumSpec{p.name, p.raw, p.raw - p.overhead, k_fat32_max_file, p.granule, p.file_system};
    }
  }
  // A size: the usable bytes of a medium we know nothing else about. Files
  // stay under 4 GiB and round to 4 KiB, which suits every file system.
  auto size = cli::parse_size(text);
  if (!size || t == "fat32") {  // a file system's limit, not a medium
    return make_error(ErrorCode::kUsage, "--media '{}': not a medium (use a preset: {}; or a size such as 700M)", text,
                      medium_preset_names());
  }
  const std::uint64_t smallest = format::k_min_volume_size + 4 * k_mib;
  if (*size < smallest) {
    return make_error(ErrorCode::kUsage, "--media '{}': {} bytes is below the smallest medium, {} (8M)", text, *size,
                      smallest);
  }
  return MediumSpec{"custom", *size, *size, k_fat32_max_file, 4096, "any file system: the size is taken as usable"};
}

std::uint64_t on_medium(const MediumSpec& spec, std::uint64_t size) { return round_up(size, spec.granule); }

MediaPacker::MediaPacker(MediumSpec spec, std::uint64_t reserve, std::uint64_t first_extra, std::uint64_t volume_cap,
                         std::uint32_t max_media)
    : m_spec(std::move(spec)),
      m_reserve(reserve),
      m_first_extra(first_extra),
      m_volume_cap(volume_cap),
      m_max_media(max_media) {}

std::uint64_t MediaPacker::room(std::uint32_t n) const {
  const std::uint64_t kept = m_reserve + (n == 1 ? m_first_extra : 0);
  return m_spec.usable > kept ? m_spec.usable - kept : 0;
}

MediaPacker::Place MediaPacker::replay(const std::vector<format::VolumeInfo>& done,
                                      std::vector<std::uint32_t>* media) const {
  Place p{1, room(1)};
  for (const format::VolumeInfo& v : done) {
    if (p.free < format::k_min_volume_size) {
      p = Place{p.medium + 1, room(p.medium + 1)};
    }
    const std::uint64_t taken = on_medium(m_spec, v.size);
    p.free = p.free > taken ? p.free - taken : 0;
    if (media) {
      media->push_back(p.medium);
    }
  }
  return p;
}

Result<std::uint64_t> MediaPacker::next_limit(const std::vector<format::VolumeInfo>& done) const {
  Place p = replay(done, nullptr);
  if (p.free < format::k_min_volume_size) {
    p = Place{p.medium + 1, room(p.medium + 1)};
  }
  if (p.medium > m_max_media) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the bundle needs more than {} {} media (--media-count-max); allow more, or use larger media",
                      m_max_media, m_spec.preset);
  }
  if (p.free < format::k_min_volume_size) {
    return make_error(ErrorCode::kInvalidArgument,
                      "a {} medium ({} usable bytes) cannot hold a smallest volume ({} bytes) next to the {} bytes "
                      "kept on each medium for the index and its label{}",
                      m_spec.preset, m_spec.usable, format::k_min_volume_size, m_reserve,
                      p.medium == 1 && m_first_extra ? " and the shipped installers" : "");
  }
  std::uint64_t limit = std::min(m_spec.max_file, p.free / m_spec.granule * m_spec.granule);
  if (m_volume_cap != 0) {
    limit = std::min(limit, m_volume_cap);
  }
  return limit;
}

format::MediaPlan MediaPacker::plan(const std::vector<format::VolumeInfo>& done) const {
  format::MediaPlan plan;
  plan.preset = m_spec.preset;
  plan.capacity = m_spec.usable;
  replay(done, &plan.volume_media);
  plan.count = plan.volume_media.empty() ? 1 : plan.volume_media.back();
  return plan;
}

std::uint64_t index_reserve(std::uint64_t input_bytes, std::size_t files, std::uint64_t usable,
                            std::uint64_t volume_limit) {
  // A 64-byte chunk record and a 4-byte reference per chunk (a chunk is at
  // least 64 KiB unless it ends a file or a tensor), rounded up; a file
  // record with its path; about 200 bytes of header per volume, a medium
  // holding its full-size volumes and one shorter last one.
  const std::uint64_t chunks = input_bytes / (64 << 10) + 2 * files + 16;
  const std::uint64_t media = input_bytes / usable + 2;
  const std::uint64_t volumes = media * (usable / std::max<std::uint64_t>(volume_limit, 1) + 2);
  const std::uint64_t bound = (256 << 10) + 80 * chunks + 2048 * files + 200 * std::min<std::uint64_t>(volumes, 100000);
  return round_up(bound, 64 << 10);
}

std::string medium_label(const format::Header& header, const MediumSpec& spec, std::uint32_t n,
                         const std::string& index_name, const std::string& index_sha256) {
  const format::MediaPlan& plan = *header.media;
  const std::vector<std::size_t> here = format::volumes_on_medium(plan, n);
  std::string out = fmt::format(
      "Airlock bundle {} {}\n"
      "bundle id {}\n"
      "medium {} of {} ({}, {} usable bytes each: {})\n\n"
      "index (a copy on every medium, signed):\n  {}  sha256 {}\n\n",
      header.name, header.version, header.bundle_id, n, plan.count, spec.preset, spec.usable, spec.file_system,
      index_name, index_sha256);
  if (here.empty()) {
    out += "volumes on this medium: none\n";
  } else {
    out += fmt::format("volumes on this medium ({} of {}):\n", here.size(), header.volumes.size());
    for (std::size_t v : here) {
      const format::VolumeInfo& info = header.volumes[v];
      out += fmt::format("  {}  {} bytes  sha256 {}\n", info.name, info.size, info.sha256);
    }
  }
  out += fmt::format(
      "\ncheck this medium alone:   airlock-installer verify --medium DIR\n"
      "                           (connected side, after writing it: airlock-bundler verify-medium DIR)\n"
      "install from all {} media: airlock-installer install DIR1 DIR2 ... (any order)\n",
      plan.count);
  return out;
}

std::uint64_t label_reserve(std::uint64_t usable, std::uint64_t volume_limit) {
  return round_up(4096 + 200 * (usable / std::max<std::uint64_t>(volume_limit, 1) + 2), 4096);
}

}  // namespace airlock::bundler

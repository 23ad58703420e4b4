#pragma once
// Removable media for `create --media`: what each preset holds, and how the
// volumes are packed onto media as they are written.
//
// A medium's *usable* capacity is its raw capacity less the file system's
// own structures (docs/FORMAT.md §2, "Media", gives the figures per preset).
// Every file also rounds up to the file system's allocation unit, and no
// file may exceed the largest the file system stores (4 GiB - 1 for FAT32,
// and for ISO 9660, whose single extent ends there; UDF and exFAT do not
// mind, but a disc is read by whatever the site's machine has).
//
// The packer fills the media in order. Each medium keeps room for a copy of
// the index and its MEDIUM.txt label (a bound computed from the inputs
// before any volume is written, checked against the real sizes after);
// medium 1 also for the shipped installers. The next volume's limit is what
// is left on the current medium, at most the largest file; when less than a
// smallest volume is left, the next medium begins.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "core/format/index.h"

namespace airlock::bundler {

struct MediumSpec {
  std::string preset;            // "bd25", ..., or "custom" for a size
  std::uint64_t raw = 0;         // what the medium holds
  std::uint64_t usable = 0;      // raw less the file system's structures
  std::uint64_t max_file = 0;    // the largest file the file system stores
  std::uint64_t granule = 0;     // allocation unit every file rounds up to
  std::string file_system;       // for people: "ISO 9660 + UDF", "FAT32 or exFAT", ...
};

// A preset (cd, dvd, dvd-dl, bd25, bd50, bd100, usb8g, usb16g, usb32g,
// usb64g, usb128g; any case) or a size as cli::parse_size reads it, taken
// as the usable bytes of a custom medium. kUsage naming the text otherwise,
// or when a custom size is below the smallest volume plus its overhead.
Result<MediumSpec> parse_medium(std::string_view text);
// "cd, dvd, dvd-dl, ...": for help texts and errors.
std::string medium_preset_names();

// Bytes a file of `size` takes on the medium (rounded up to the granule).
std::uint64_t on_medium(const MediumSpec& spec, std::uint64_t size);

class MediaPacker {
 public:
  // reserve: room kept on every medium (index copy, label); first_extra:
  // more room on medium 1 (shipped installers); volume_cap: a volume is
  // never larger (the --volume-size option; 0: no cap of its own).
  MediaPacker(MediumSpec spec, std::uint64_t reserve, std::uint64_t first_extra, std::uint64_t volume_cap,
              std::uint32_t max_media);

  // The limit for the next volume, given the sizes of those written so
  // far; kInvalidArgument when it would need more than max_media media or
  // when a medium cannot hold even a smallest volume.
  Result<std::uint64_t> next_limit(const std::vector<format::VolumeInfo>& done) const;
  // The plan for the volumes written (medium of each), with `count` the
  // media used.
  format::MediaPlan plan(const std::vector<format::VolumeInfo>& done) const;
  // Room for volumes on medium n (1-based).
  std::uint64_t room(std::uint32_t n) const;
  const MediumSpec& spec() const { return m_spec; }
  std::uint64_t reserve() const { return m_reserve; }
  std::uint64_t first_extra() const { return m_first_extra; }

 private:
  struct Place {
    std::uint32_t medium = 1;
    std::uint64_t free = 0;
  };
  Place replay(const std::vector<format::VolumeInfo>& done, std::vector<std::uint32_t>* media) const;

  MediumSpec m_spec;
  std::uint64_t m_reserve;
  std::uint64_t m_first_extra;
  std::uint64_t m_volume_cap;
  std::uint32_t m_max_media;
};

// Room for the index on each medium, from what is known before writing: at
// 256 KiB, plus at most one chunk record per 64 KiB of input (the smallest chunk) plus two
// per file, file records, and the header's volume list, for volumes of at
// most volume_limit bytes. create checks the sealed index against it.
std::uint64_t index_reserve(std::uint64_t input_bytes, std::size_t files, std::uint64_t usable,
                            std::uint64_t volume_limit);

// MEDIUM.txt of medium n (1-based): which bundle, which medium of how
// many, the index's SHA-256, and each volume on it with its size and
// SHA-256; what to run with it. For people: the installer goes by the
// signed header, not by this label.
std::string medium_label(const format::Header& header, const MediumSpec& spec, std::uint32_t n,
                         const std::string& index_name, const std::string& index_sha256);
// A bound on medium_label's size for a medium of volumes of at most
// volume_limit bytes.
std::uint64_t label_reserve(std::uint64_t usable, std::uint64_t volume_limit);

}  // namespace airlock::bundler

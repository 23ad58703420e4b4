#pragma once
// install --media-path DIR: one drive (or a landing directory) that the
// media of a bundle pass through one at a time. Tells which medium is in
// from its index (byte for byte the one admitted) and the volumes on it,
// reads the volumes still needed from it in any order, and asks for the
// next medium: on the terminal ("insert disc03 (medium 3 of 6, volumes
// 7-9) into DIR and press Enter"), or with `wait` by polling DIR (an
// automounter, a data diode's landing directory). A wrong, repeated or
// foreign medium is named and asked again; nothing of it is read.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>

#include "core/format/bundle_reader.h"

namespace airlock::installer {

struct DriveOptions {
  std::filesystem::path dir;
  bool wait = false;
  std::chrono::milliseconds poll{500};
  // Lines for the operator (prompts, what was found in the drive).
  std::function<void(const std::string&)> say;
};

// Until DIR holds a bundle's index (any medium of it): asks for one, or
// with `wait` polls. Returns the index's path.
Result<std::filesystem::path> wait_for_first_medium(const DriveOptions& options);

// The source lives as long as the stream that calls it; `opened` and
// `payload` must outlive it.
format::VolumeSource drive_source(const format::OpenedIndex& opened, const format::Payload& payload,
                                  DriveOptions options);

}  // namespace airlock::installer

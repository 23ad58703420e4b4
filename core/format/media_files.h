#pragma once
// Finding a bundle's files on a medium whose file system renamed them. An
// ISO 9660 image read without its Rock Ridge or Joliet extensions shows
// upper-case names with '-' and extra dots turned into '_' (levels 2 and 3),
// or names cut to 8.3 (level 1: "LLAMA_30.TAR"), sometimes with a ";1"
// version. A name found this way is only a hint: the file is still checked
// against the signed size and SHA-256 (and every frame in it against the
// signed manifest) before a byte of it is used. docs/FORMAT.md §2, "Media".

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "core/format/payload.h"

namespace airlock::format {

struct OpenedIndex;

// Upper-case, a trailing ";N" dropped, every run of characters other than
// A-Z and 0-9 made one '_': "llama-3.1.vol001.tar" and
// "LLAMA_3_1_VOL001.TAR;1" fold alike.
std::string fold_medium_name(std::string_view name);

// A name as plain ISO 9660 shows it: d-characters (A-Z, 0-9, '_'), at most
// one dot, maybe a ";N" version. Only such names are taken for another
// file's: one the operator renamed by hand (lower case) stays missing.
bool iso9660_name(std::string_view name);

// The entry of `dir` that stands for `name`: `name` itself, else the one
// entry with an ISO 9660 name whose folded name is name's. Empty when neither is there.
std::string find_entry_folded(const std::filesystem::path& dir, const std::string& name);

// Records in opened.renamed where each volume missing under its own name is
// in opened.all_dirs() under a name plain ISO 9660 made (A-Z, 0-9, '_', one
// dot, maybe ";N"; a name with a lower-case letter is never taken for a
// volume's): by folded name first; the files left
// (8.3 names) by content. With the payload, a file of the volume's signed
// size whose first tar entry names one of that volume's packs (512 bytes
// read); without it (no key: verify --medium), a file of the signed size and
// SHA-256 (read whole). Returns one note per volume found so, for the
// operator ("LLAMA_30.TAR is volume x.vol001.tar: ...").
Result<std::vector<std::string>> find_renamed_volumes(OpenedIndex& opened, const Payload* payload);

}  // namespace airlock::format

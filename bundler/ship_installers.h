#pragma once
// create --with-installer DIR: the static installers that travel with a
// bundle so the isolated side needs nothing else (file names and header key
// in core/format/shipped_installers.h, docs/FORMAT.md §2).
//   load_installers: reads DIR/airlock-installer-linux-x86_64 and
//     -aarch64 once each, refusing a missing DIR or binary, a symlink, a
//     non-regular file and anything that is not a 64-bit little-endian ELF
//     executable for that machine (e_machine).
//   stage_installers: writes the checked bytes, a detached Ed25519 signature
//     of each by every signer, each signer's public key as PEM, SHA256SUMS
//     and README.txt into the staging directory; returns the list the signed
//     header carries.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/format/bundle_writer.h"
#include "core/format/shipped_installers.h"

namespace airlock::bundler {

inline constexpr std::uint16_t k_elf_machine_x86_64 = 62;    // EM_X86_64
inline constexpr std::uint16_t k_elf_machine_aarch64 = 183;  // EM_AARCH64

struct ElfInfo {
  std::uint16_t machine = 0;
  bool dynamic = false;  // has a PT_INTERP program header (needs a loader and shared libraries)
};

// The ELF header and program headers of `bytes` (a whole file): a 64-bit,
// little-endian, version-1 executable (ET_EXEC, or ET_DYN as static-pie
// makes) whose program headers lie inside the file. kInvalidArgument naming
// `what` and the first thing that is wrong.
Result<ElfInfo> read_elf(ByteSpan bytes, const std::string& what);

struct InstallerBinary {
  std::string name;     // airlock-installer-linux-ARCH
  std::string arch;     // as `uname -m` prints it
  std::uint16_t machine = 0;
  Bytes bytes;
  bool dynamic = false;
};

// The binaries every --with-installer bundle carries, in this order.
struct InstallerTarget {
  const char* arch;
  std::uint16_t machine;
  const char* machines;  // for README.txt: what runs it
};
const std::vector<InstallerTarget>& installer_targets();

// kInvalidArgument naming DIR or the binary and what to do.
Result<std::vector<InstallerBinary>> load_installers(const std::filesystem::path& dir);

struct ReadmeFacts {
  std::string deployment;
  std::string version;
  std::string index_name;  // NAME-VERSION.airlock
  bool on_media = false;   // create --media: this is disc01 of a set
};

// Every file written is listed in the result, binaries first (mode 0755;
// the others 0644). Fails without cleaning up: the caller owns `staging`.
Result<format::ShippedInstallers> stage_installers(const std::vector<InstallerBinary>& binaries,
                                                   const std::vector<format::Signer>& signers,
                                                   const std::filesystem::path& staging, const ReadmeFacts& facts);

// README.txt for the operator on the isolated side.
std::string installer_readme(const std::vector<InstallerBinary>& binaries, const std::vector<std::string>& signer_ids,
                             const ReadmeFacts& facts);

}  // namespace airlock::bundler

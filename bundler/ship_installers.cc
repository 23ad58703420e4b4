#include "bundler/ship_installers.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/crypto/pem.h"
#include "core/crypto/sha256.h"
#include "core/crypto/sodium.h"
#include "core/fs/file.h"

namespace airlock::bundler {

namespace stdfs = std::filesystem;

namespace {

std::uint16_t u16(ByteSpan b, std::size_t at) { return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8)); }
std::uint32_t u32(ByteSpan b, std::size_t at) {
  return u16(b, at) | (static_cast<std::uint32_t>(u16(b, at + 2)) << 16);
}
std::uint64_t u64(ByteSpan b, std::size_t at) {
  return u32(b, at) | (static_cast<std::uint64_t>(u32(b, at + 4)) << 32);
}

constexpr std::size_t k_ehdr_size = 64;
constexpr std::size_t k_phdr_size = 56;
constexpr std::uint32_t k_pt_interp = 3;

crypto::SignPublicKey public_key_of(const format::Signer& s) {
  crypto::SignPublicKey pub{};
  std::memcpy(pub.data(), s.secret.data() + 32, pub.size());  // libsodium's secret key is seed || public key
  return pub;
}

std::string machine_name(std::uint16_t machine) {
  switch (machine) {
    case k_elf_machine_x86_64:
      return "x86-64";
    case k_elf_machine_aarch64:
      return "AArch64";
    default:
      return fmt::format("ELF machine {}", machine);
  }
}

}  // namespace

Result<ElfInfo> read_elf(ByteSpan b, const std::string& what) {
  auto refuse = [&what](std::string_view why) {
    return make_error(ErrorCode::kInvalidArgument, "{}: not an installer binary: {}", what, why);
  };
  if (b.size() < k_ehdr_size || std::memcmp(b.data(), "\x7f" "ELF", 4) != 0) {
    return refuse("not an ELF file");
  }
  if (b[4] != 2) {
    return refuse("not a 64-bit ELF file");
  }
  if (b[5] != 1) {
    return refuse("not a little-endian ELF file");
  }
  if (b[6] != 1 || u32(b, 20) != 1) {
    return refuse("unknown ELF version");
  }
  const std::uint16_t type = u16(b, 16);
  if (type != 2 && type != 3) {  // ET_EXEC, ET_DYN (static-pie)
    return refuse("not an executable (ELF type is neither EXEC nor DYN)");
  }
  ElfInfo info;
  info.machine = u16(b, 18);
  const std::uint64_t phoff = u64(b, 32);
  const std::uint16_t phentsize = u16(b, 54);
  const std::uint16_t phnum = u16(b, 56);
  if (phnum == 0 || phentsize != k_phdr_size || phoff < k_ehdr_size || phoff > b.size() ||
      static_cast<std::uint64_t>(phnum) * k_phdr_size > b.size() - phoff) {
    return refuse("its program headers are missing or lie outside the file");
  }
  for (std::uint16_t i = 0; i < phnum; ++i) {
    if (u32(b, static_cast<std::size_t>(phoff) + i * k_phdr_size) == k_pt_interp) {
      info.dynamic = true;
    }
  }
  return info;
}

const std::vector<InstallerTarget>& installer_targets() {
  static const std::vector<InstallerTarget> targets = {
      {"x86_64", k_elf_machine_x86_64, "x86-64 servers (DGX H100/H200/B200, most others)"},
      {"aarch64", k_elf_machine_aarch64, "Arm servers (Grace Hopper GH200, Grace Blackwell GB200)"},
  };
  return targets;
}

Result<std::vector<InstallerBinary>> load_installers(const stdfs::path& dir) {
  std::error_code ec;
  const stdfs::file_status st = stdfs::status(dir, ec);
  if (!stdfs::exists(st)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--with-installer {}: no such directory (build it with 'bash packaging/build-release.sh', "
                      "which writes dist/)",
                      dir.string());
  }
  if (!stdfs::is_directory(st)) {
    return make_error(ErrorCode::kInvalidArgument, "--with-installer {}: not a directory", dir.string());
  }
  std::vector<InstallerBinary> out;
  for (const InstallerTarget& t : installer_targets()) {
    InstallerBinary bin;
    bin.name = std::string(format::k_installer_prefix) + t.arch;
    bin.arch = t.arch;
    bin.machine = t.machine;
    const stdfs::path path = dir / bin.name;
    auto file = fs::File::open_regular(path, fs::File::Symlinks::kRefuse);
    if (!file) {
      if (file.error().code() == ErrorCode::kNotFound) {
        return make_error(ErrorCode::kInvalidArgument,
                          "--with-installer: {} is missing (both {}x86_64 and {}aarch64 are needed)", path.string(),
                          format::k_installer_prefix, format::k_installer_prefix);
      }
      return make_error(ErrorCode::kInvalidArgument, "--with-installer: {}", file.error().message());
    }
    ASSIGN_OR_RETURN(std::uint64_t size, file->size());
    if (size > format::k_max_shipped_binary_size) {
      return make_error(ErrorCode::kInvalidArgument, "--with-installer: {}: {} bytes is more than the {} allowed",
                        path.string(), size, format::k_max_shipped_binary_size);
    }
    bin.bytes.resize(size);
    TRY(file->pread_exact(bin.bytes, 0));
    ASSIGN_OR_RETURN(ElfInfo elf, read_elf(bin.bytes, path.string()));
    if (elf.machine != t.machine) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--with-installer: {}: built for {}, but the name says {} ({}); swapped or misnamed?",
                        path.string(), machine_name(elf.machine), t.arch, machine_name(t.machine));
    }
    bin.dynamic = elf.dynamic;
    out.push_back(std::move(bin));
  }
  return out;
}

std::string installer_readme(const std::vector<InstallerBinary>& binaries, const std::vector<std::string>& signer_ids,
                             const ReadmeFacts& facts) {
  std::string r;
  auto line = [&r](std::string_view text) {
    r += text;
    r += '\n';
  };
  line(fmt::format("Airlock bundle {} {} ({}), with the installer for the isolated side.", facts.deployment,
                   facts.version, facts.index_name));
  line("");
  line("Check everything below with stock tools BEFORE running anything from this medium.");
  line("");
  line("1. Which binary: run `uname -m` on the isolated machine.");
  for (const InstallerBinary& b : binaries) {
    std::string machines;
    for (const InstallerTarget& t : installer_targets()) {
      if (b.arch == t.arch) {
        machines = t.machines;
      }
    }
    line(fmt::format("     {:<8} -> {}   {}{}", b.arch, b.name, machines,
                     b.dynamic ? " (dynamically linked: needs its shared libraries there)" : ""));
  }
  line("   A static binary is one file: no shared libraries, nothing to install first.");
  line("");
  line("2. Is the publisher key the one you expect? publisher.pem came on this same medium, so");
  line("   compare its key id with the one the publisher gave you by another channel (the id");
  line("   `airlock-installer trust add` and `trust list` show for their .pub):");
  for (std::size_t k = 1; k <= signer_ids.size(); ++k) {
    line(fmt::format("     openssl pkey -pubin -in {} -outform DER | tail -c 32 | sha256sum | cut -c1-16",
                     format::public_key_name(k)));
    line(fmt::format("   must print {}", signer_ids[k - 1]));
  }
  line("");
  line("3. Are the files intact and signed by that key? (OpenSSL 3)");
  line("     sha256sum -c SHA256SUMS");
  for (const InstallerBinary& b : binaries) {
    for (std::size_t k = 1; k <= signer_ids.size(); ++k) {
      line(fmt::format("     openssl pkeyutl -verify -pubin -inkey {} -rawin -in {} -sigfile {}",
                       format::public_key_name(k), b.name, format::signature_name(b.name, k)));
    }
  }
  line("   Every line of sha256sum must say OK, and openssl must print \"Signature Verified");
  line("   Successfully\" for the binary you will run. If not, do not run it.");
  line("");
  line("4. Set up the site (once) with that binary, here for x86_64:");
  line("     install -m 0755 airlock-installer-linux-x86_64 /usr/local/bin/airlock-installer");
  line("     airlock-installer init --root /var/lib/airlock");
  line("     airlock-installer trust add PUBLISHER.pub --name publisher   # the .pub you were given");
  line("");
  if (facts.on_media) {
    line("5. This is the first medium of a set (MEDIUM.txt says how many). Check each medium as");
    line("   it arrives, then verify and install from all of them, in any order (DIR1 is this");
    line("   directory, DIR2 ... the others as mounted or copied):");
    line("     airlock-installer verify --medium DIR    # one medium: signatures, its volumes");
    line("     airlock-installer verify DIR1 DIR2 ...   # everything, and these binaries");
    line("     airlock-installer install DIR1 DIR2 ...");
  } else {
    line("5. Verify and install this bundle (DIR is this directory):");
    line("     airlock-installer verify DIR     # signatures, every volume, these binaries");
    line("     airlock-installer install DIR");
  }
  line("");
  line("Files here: the bundle (the .airlock index and its .volNNN.tar volumes), the binaries,");
  line("BINARY.sig (a raw 64-byte Ed25519 signature by the first signing key; BINARY.K.sig by");
  line("key K), publisher.pem (publisher.K.pem: key K), SHA256SUMS, and this README.txt. The");
  line("signed index lists each of them with its size and SHA-256, so `verify` notices any");
  line("file removed, swapped or edited.");
  return r;
}

Result<format::ShippedInstallers> stage_installers(const std::vector<InstallerBinary>& binaries,
                                                   const std::vector<format::Signer>& signers,
                                                   const stdfs::path& staging, const ReadmeFacts& facts) {
  format::ShippedInstallers out;
  std::string sums;
  auto put = [&](const std::string& name, ByteSpan bytes, std::uint32_t mode) -> Status {
    TRY(fs::write_file_atomic(staging / name, bytes, mode));
    const std::string hex = crypto::sha256_hex(bytes);
    out.files.push_back(format::ShippedFile{name, bytes.size(), hex});
    if (name != format::k_sha256sums_name) {
      sums += fmt::format("{}  {}\n", hex, name);
    }
    return ok_status();
  };
  if (signers.empty() || signers.size() > format::k_max_shipped_signers) {
    return make_error(ErrorCode::kUsage, "--with-installer needs 1 to {} --sign keys", format::k_max_shipped_signers);
  }
  for (const format::Signer& s : signers) {
    if (std::find(out.signers.begin(), out.signers.end(), s.keyid) != out.signers.end()) {
      return make_error(ErrorCode::kUsage, "--sign: key {} is given twice", s.keyid);
    }
    out.signers.push_back(s.keyid);
  }
  for (const InstallerBinary& b : binaries) {
    TRY(put(b.name, b.bytes, 0755));
  }
  for (const InstallerBinary& b : binaries) {
    for (std::size_t k = 1; k <= signers.size(); ++k) {
      const crypto::Signature sig = crypto::ed25519_sign(b.bytes, signers[k - 1].secret);
      TRY(put(format::signature_name(b.name, k), sig, 0644));
    }
  }
  for (std::size_t k = 1; k <= signers.size(); ++k) {
    ASSIGN_OR_RETURN(std::string pem, crypto::ed25519_public_key_pem(public_key_of(signers[k - 1])));
    TRY(put(format::public_key_name(k), as_bytes(pem), 0644));
  }
  TRY(put(std::string(format::k_readme_name), as_bytes(installer_readme(binaries, out.signers, facts)), 0644));
  TRY(put(std::string(format::k_sha256sums_name), as_bytes(sums), 0644));
  // The installer's reader is the judge, as for the payload.
  if (auto readable = format::parse_shipped(format::shipped_to_json(out)); !readable) {
    return make_error(ErrorCode::kInvalidArgument, "the installer would refuse this list: {}",
                      readable.error().message());
  }
  return out;
}

}  // namespace airlock::bundler

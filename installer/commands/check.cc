// airlock-installer check [NAME]: re-hash installed files against the ledger.
#include <sys/stat.h>

#include <fmt/format.h>

#include "core/crypto/sha256.h"
#include "core/fs/file.h"
#include "installer/commands/commands.h"

namespace airlock::installer {

namespace {

// Empty when the file matches; else what is wrong with it.
std::string check_file(const stdfs::path& path, const FileRecord& rec, Bytes& buffer) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return "missing";
  }
  if (!S_ISREG(st.st_mode)) {
    return "not a regular file";
  }
  if (static_cast<std::uint64_t>(st.st_size) != rec.size) {
    return fmt::format("size {} (ledger: {})", st.st_size, rec.size);
  }
  auto file = fs::File::open_read(path);
  if (!file) {
    return file.error().message();
  }
  crypto::Sha256 h;
  for (;;) {
    auto n = file->read_some(buffer);
    if (!n) {
      return n.error().message();
    }
    if (*n == 0) {
      break;
    }
    h.update(ByteSpan(buffer.data(), *n));
  }
  std::string got = to_hex(h.finish());
  if (got != rec.sha256) {
    return fmt::format("SHA-256 {} (ledger: {})", got, rec.sha256);
  }
  return {};
}

Status check(Site& site, const std::string& only) {
  ASSIGN_OR_RETURN(auto deps, site.ledger().deployments());
  if (!only.empty() && std::none_of(deps.begin(), deps.end(), [&](const auto& d) { return d.name == only; })) {
    return make_error(ErrorCode::kNotFound, "no deployment named '{}' is installed", only);
  }
  Bytes buffer(1 << 20);
  std::vector<std::string> bad;
  std::size_t checked = 0;
  for (const DeploymentRecord& d : deps) {
    if (!only.empty() && d.name != only) {
      continue;
    }
    ASSIGN_OR_RETURN(auto versions, site.ledger().versions(d.name));
    for (const VersionRecord& v : versions) {
      if (v.state != "installed") {
        continue;
      }
      ASSIGN_OR_RETURN(auto files, site.ledger().files(d.name, v.version));
      for (const FileRecord& f : files) {
        stdfs::path p = site.version_dir(d.name, v.version) / f.path;
        std::string problem = check_file(p, f, buffer);
        ++checked;
        if (!problem.empty()) {
          bad.push_back(fmt::format("{}: {}", p.string(), problem));
        }
      }
    }
  }
  std::string target = only.empty() ? "site" : only;
  if (!bad.empty()) {
    for (const std::string& b : bad) {
      fmt::print("MISMATCH {}\n", b);
    }
    (void)site.log("check", target, "failed", fmt::format("{} of {} files do not match", bad.size(), checked));
    return make_error(ErrorCode::kCorruption, "{} of {} installed files no longer match the ledger", bad.size(), checked);
  }
  TRY(site.log("check", target, "ok", fmt::format("{} files match", checked)));
  fmt::print("ok: {} installed files match the ledger\n", checked);
  return ok_status();
}

}  // namespace

void add_check_command(CLI::App& app, Context& ctx) {
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("check", "Re-hash installed files against the ledger; exit 3 naming every mismatch");
  cmd->add_option("name", *name, "only this deployment");
  cmd->callback([&ctx, name] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      return check(*site, *name);
    });
  });
}

}  // namespace airlock::installer

#include "installer/rehearse/rehearse.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include <fmt/format.h>

#include "core/base/bytes.h"
#include "core/fs/dir.h"
#include "core/fs/file.h"
#include "installer/rehearse/sandbox.h"

namespace airlock::installer {

namespace stdfs = std::filesystem;

namespace {

// The key files a scratch root takes from the site: what decrypts and what
// admits a bundle. Each is copied 0600 (check_private accepts that for all).
Status copy_site_keys(const Site& site, const stdfs::path& scratch_keys) {
  const stdfs::path keys = site.keys_dir();
  for (const char* f : {"site.key", "site.pub", "policy.json", "root-policy.json"}) {
    auto bytes = fs::read_file(keys / f, 1 << 20);
    if (!bytes) {
      if (bytes.error().code() == ErrorCode::kNotFound) {
        continue;
      }
      return std::unexpected(bytes.error());
    }
    TRY(fs::write_file_atomic(scratch_keys / f, *bytes, 0600));
  }
  for (const char* d : {"trusted", "root", "revoked"}) {
    auto dir = fs::Dir::open(keys / d);
    if (!dir) {
      if (dir.error().code() == ErrorCode::kNotFound) {
        continue;
      }
      return std::unexpected(dir.error());
    }
    TRY(fs::make_dirs(scratch_keys / d, 0700));
    ASSIGN_OR_RETURN(auto entries, dir->list());
    for (const fs::DirEntry& e : entries) {
      if (e.type != fs::EntryType::kFile) {
        continue;  // Site::open has refused anything else already
      }
      ASSIGN_OR_RETURN(Bytes bytes, fs::read_file(keys / d / e.name, 1 << 20));
      TRY(fs::write_file_atomic(scratch_keys / d / e.name, bytes, 0600));
    }
  }
  return ok_status();
}

Result<stdfs::path> self_exe() {
  std::error_code ec;
  stdfs::path p = stdfs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return make_error(ErrorCode::kIOError, "/proc/self/exe: {}", ec.message());
  }
  return p;
}

}  // namespace

Result<Rehearsal> rehearse(const Site& site, const Os& os, const RehearseOptions& o) {
  const auto started = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(stdfs::path strace, find_sandbox_tool("strace"));
  ASSIGN_OR_RETURN(stdfs::path ip, find_sandbox_tool("ip"));
  ASSIGN_OR_RETURN(stdfs::path self, self_exe());
  stdfs::path parent = o.scratch_parent;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp && *tmp ? tmp : "/tmp";
  }
  ASSIGN_OR_RETURN(fs::TempDir scratch, fs::TempDir::create(parent, "airlock-rehearse-"));
  const stdfs::path root = scratch.path() / "root";
  {
    ASSIGN_OR_RETURN(auto scratch_site, Site::init(root, os));
    TRY(copy_site_keys(site, scratch_site->keys_dir()));
  }
  const stdfs::path resolv = scratch.path() / "resolv.conf";
  const std::string resolv_text = "# airlock rehearsal: every lookup goes to loopback, where it is seen\n"
                                  "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";
  TRY(fs::write_file_atomic(resolv, as_bytes(resolv_text), 0644));

  SandboxOptions so;
  so.strace = strace;
  so.ip = ip;
  so.trace_log = scratch.path() / "trace.log";
  so.resolv_conf = resolv;
  so.argv = {self.string(), "--root", root.string(), "install"};
  for (const std::string& b : o.bundles) {
    so.argv.push_back(stdfs::absolute(b).string());
  }
  if (!o.passphrase_file.empty()) {
    so.argv.insert(so.argv.end(), {"--passphrase-file", stdfs::absolute(o.passphrase_file).string()});
  }
  if (o.allow_unencrypted) {
    so.argv.push_back("--allow-unencrypted");
  }
  if (!o.load.empty()) {
    so.argv.insert(so.argv.end(), {"--load", o.load});
  }
  if (o.threads != 0) {
    so.argv.insert(so.argv.end(), {"--threads", std::to_string(o.threads)});
  }
  if (o.say) {
    o.say(fmt::format("rehearsal: installing into the scratch root {} in a network-free sandbox, under {}",
                      root.string(), strace.string()));
  }
  ASSIGN_OR_RETURN(SandboxResult run, run_in_sandbox(so));

  Rehearsal r;
  r.install_exit = run.signal ? 128 + run.signal : run.exit_code;
  r.scratch = scratch.path().string();
  auto log = fs::read_text_file(so.trace_log, std::uint64_t{1} << 30);
  if (!log) {
    return std::unexpected(std::move(log.error()).with_context("the rehearsal's strace log"));
  }
  if (!o.keep_trace.empty()) {
    TRY(fs::write_file_atomic(o.keep_trace, as_bytes(*log), 0600));
  }
  r.findings = parse_strace_log(*log);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return r;
}

}  // namespace airlock::installer

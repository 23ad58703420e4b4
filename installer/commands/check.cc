// airlock-installer check [NAME]: re-hash installed files against the ledger.
#include <sys/stat.h>

#include <set>

#include <fmt/format.h>

#include "core/crypto/sha256.h"
#include "core/fs/file.h"
#include "installer/commands/commands.h"
#include "installer/commands/installed_files.h"
#include "installer/targets/targets.h"

namespace airlock::installer {

namespace {

// The install targets: every entry Airlock recorded (blob or file against
// its hash, an HF blob's git name against its bytes, a snapshot symlink
// against its target, a ref against its commit), and anything unrecorded in
// the blobs/, snapshots/ and refs/ of an HF repo Airlock built, which
// huggingface_hub would otherwise load as if it were Airlock's.
Status check_targets(Site& site, Bytes& buffer, std::vector<std::string>& bad, std::size_t& checked) {
  ASSIGN_OR_RETURN(auto entries, site.ledger().target_entries());
  const stdfs::path root = stdfs::absolute(site.root());
  std::set<std::string> hf_paths, hf_repos;
  for (const TargetEntry& e : entries) {
    const stdfs::path p = root / e.target / e.path;
    ++checked;
    std::string problem;
    std::error_code ec;
    if (e.kind == "link") {
      auto target = stdfs::read_symlink(p, ec);
      if (ec) {
        problem = "missing or not a symlink";
      } else if (target.string() != e.value) {
        problem = fmt::format("points to {} (should be {})", target.string(), e.value);
      }
    } else if (e.kind == "ref") {
      auto text = fs::read_text_file(p, 4096);
      struct stat st {};
      if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || !text) {
        problem = "missing or not a regular file";
      } else if (*text != e.value) {
        problem = fmt::format("holds '{}' (should be {})", *text, e.value);
      }
    } else {
      struct stat st {};
      FileRecord rec{e.path, 0, e.value, 0};
      if (::lstat(p.c_str(), &st) == 0) {
        rec.size = static_cast<std::uint64_t>(st.st_size);
      }
      problem = check_installed_file(p, rec, buffer);
      const std::string name = p.filename().string();
      if (problem.empty() && e.target == "hf" && name.size() == 40 && p.parent_path().filename() == "blobs") {
        auto sha1 = git_blob_sha1(p);
        if (!sha1 || *sha1 != name) {
          problem = fmt::format("git blob id {} (its name says {})", sha1 ? *sha1 : sha1.error().message(), name);
        }
      }
    }
    if (!problem.empty()) {
      bad.push_back(fmt::format("{}: {}", p.string(), problem));
    }
    if (e.target == "hf") {
      hf_paths.insert(e.path);
      hf_repos.insert(e.path.substr(0, e.path.find('/')));
    }
  }
  for (const std::string& repo : hf_repos) {
    for (const char* sub : {"blobs", "snapshots", "refs"}) {
      const stdfs::path dir = root / "hf" / repo / sub;
      std::error_code ec;
      if (!stdfs::is_directory(stdfs::symlink_status(dir, ec))) {
        continue;
      }
      for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec)) {
          continue;
        }
        const std::string rel = it->path().lexically_relative(root / "hf").generic_string();
        if (!hf_paths.contains(rel)) {
          bad.push_back(fmt::format("{}: not created by Airlock (planted?); huggingface_hub would load it as part of "
                                    "{}; remove it, then run 'airlock-installer targets'",
                                    it->path().string(), repo));
        }
      }
    }
  }
  return ok_status();
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
      ASSIGN_OR_RETURN(auto version_bad, check_installed_version(site, d.name, v.version, buffer, checked));
      bad.insert(bad.end(), version_bad.begin(), version_bad.end());
    }
  }
  std::vector<std::string> bad_targets;
  std::size_t entries = 0;
  if (only.empty()) {
    TRY(check_targets(site, buffer, bad_targets, entries));
  }
  // The event log too: an edited, removed or reordered event (or its
  // installer identity) breaks the hash chain.
  std::optional<std::string> bad_chain;
  if (only.empty()) {
    if (Status chain = site.ledger().verify_event_chain(); !chain) {
      bad_chain = chain.error().message();
    }
  }
  std::string target = only.empty() ? "site" : only;
  if (!bad.empty() || !bad_targets.empty() || bad_chain) {
    for (const std::string& b : bad) {
      fmt::print("MISMATCH {}\n", b);
    }
    for (const std::string& b : bad_targets) {
      fmt::print("MISMATCH {}\n", b);
    }
    std::vector<std::string> what;
    if (bad_chain) {
      fmt::print("MISMATCH {}\n", *bad_chain);
      what.push_back(*bad_chain);
    }
    if (!bad.empty()) {
      what.push_back(fmt::format("{} of {} installed files no longer match the ledger", bad.size(), checked));
    }
    if (!bad_targets.empty()) {
      what.push_back(fmt::format("{} problem(s) among {} install-target entries (ROOT/hf, images, apt, wheels; "
                                 "'airlock-installer targets' rebuilds Airlock's own)",
                                 bad_targets.size(), entries));
    }
    (void)site.log("check", target, "failed",
                   fmt::format("{} of {} files, {} of {} target entries do not match{}", bad.size(), checked,
                               bad_targets.size(), entries, bad_chain ? "; the event chain is broken" : ""));
    return make_error(ErrorCode::kCorruption, "{}", fmt::join(what, "; "));
  }
  TRY(site.log("check", target, "ok", fmt::format("{} files, {} target entries match", checked, entries)));
  if (only.empty()) {
    fmt::print("ok: {} installed files and {} install-target entries match the ledger; its event chain is intact\n",
               checked, entries);
  } else {
    fmt::print("ok: {} installed files match the ledger\n", checked);
  }
  return ok_status();
}

}  // namespace

void add_check_command(CLI::App& app, Context& ctx) {
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "check", "Re-hash installed files against the ledger and verify its event chain; exit 3 naming every mismatch");
  cmd->add_option("name", *name, "only this deployment");
  cmd->callback([&ctx, name] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      return check(*site, *name);
    });
  });
}

}  // namespace airlock::installer

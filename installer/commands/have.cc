// airlock-installer have --export FILE: the signed have-list of what this
// site holds intact (core/format/have_list.h), for a delta bundle.
#include <fmt/format.h>

#include "core/format/have_list.h"
#include "core/fs/file.h"
#include "installer/commands/commands.h"
#include "installer/commands/installed_files.h"
#include "installer/ledger/self_identity.h"

namespace airlock::installer {

namespace {

struct HaveOptions {
  std::string file;
  bool force = false;
  bool json = false;
};

struct LeftOut {
  std::string name, version;
  std::vector<std::string> problems;
};

Status have_export(Site& site, Context& ctx, const HaveOptions& o) {
  const stdfs::path file = o.file;
  std::error_code ec;
  // Before hashing anything: the refusal costs nothing.
  if (!o.force && stdfs::exists(stdfs::symlink_status(file, ec))) {
    return make_error(ErrorCode::kInvalidArgument, "{} already exists; refusing to overwrite it (--force replaces it)",
                      file.string());
  }
  bool created = false;
  ASSIGN_OR_RETURN(format::Signer signer, site.site_signing_key(&created));
  if (created) {
    ctx.printer.note("made this site's signing key {} ({}); give that .pub to the connected side with the have-list",
                     signer.keyid, site.site_signing_pub_path().string());
  }
  ASSIGN_OR_RETURN(format::SiteKey site_key, site.site_key());

  format::HaveList list;
  list.site_keyid = site_key.keyid;
  list.created = site.clock().now_seconds();
  list.tool = fmt::format("airlock-installer {}", SelfIdentity::running().version());
  std::vector<LeftOut> left_out;
  std::size_t deployments = 0;
  std::size_t checked = 0;
  Bytes buffer(1 << 20);
  ASSIGN_OR_RETURN(auto deps, site.ledger().deployments());
  for (const DeploymentRecord& d : deps) {
    ASSIGN_OR_RETURN(auto versions, site.ledger().versions(d.name));
    bool listed = false;
    for (const VersionRecord& v : versions) {
      if (v.state != "installed") {
        continue;  // removed by gc: nothing to build a delta against
      }
      ASSIGN_OR_RETURN(auto bad, check_installed_version(site, d.name, v.version, buffer, checked));
      if (!bad.empty()) {
        left_out.push_back(LeftOut{d.name, v.version, std::move(bad)});
        continue;
      }
      list.entries.push_back(format::HaveEntry{d.name, v.version, v.bundle_id, v.sequence,
                                               d.active_version && *d.active_version == v.version});
      listed = true;
    }
    deployments += listed ? 1 : 0;
  }
  for (const LeftOut& l : left_out) {
    ctx.printer.warn("left out {} {}: {} file(s) no longer match the ledger (first: {}); 'airlock-installer check' "
                     "names them all",
                     l.name, l.version, l.problems.size(), l.problems.front());
  }
  if (list.entries.size() > format::k_have_max_entries) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{} installed versions, over the have-list's cap of {}; remove old ones with 'airlock-installer "
                      "gc' first",
                      list.entries.size(), format::k_have_max_entries);
  }
  const std::string text = format::write_have_list(list, signer);
  if (text.size() > format::k_have_max_bytes) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the have-list would be {} bytes, over its cap of {}; remove old versions with "
                      "'airlock-installer gc' first",
                      text.size(), format::k_have_max_bytes);
  }
  if (!o.force && stdfs::exists(stdfs::symlink_status(file, ec))) {  // appeared while we hashed
    return make_error(ErrorCode::kInvalidArgument, "{} already exists; refusing to overwrite it (--force replaces it)",
                      file.string());
  }
  // A temporary file beside it, renamed over it: never a half-written have-list.
  TRY(fs::write_file_atomic(file, as_bytes(text), 0644));

  std::string detail = fmt::format("{} version(s) of {} deployment(s), site signing key {}, to {}",
                                   list.entries.size(), deployments, signer.keyid, stdfs::absolute(file, ec).string());
  for (const LeftOut& l : left_out) {
    detail += fmt::format("; left out {}/{} ({} damaged file(s))", l.name, l.version, l.problems.size());
  }
  TRY(site.log("have-export", "site", "ok", detail));

  if (o.json) {
    nlohmann::json jl = nlohmann::json::array();
    for (const LeftOut& l : left_out) {
      jl.push_back({{"name", l.name}, {"version", l.version}, {"problems", l.problems}});
    }
    nlohmann::json j = {{"file", file.string()},
                        {"versions", list.entries.size()},
                        {"deployments", deployments},
                        {"signing_key", signer.keyid},
                        {"signing_pub", site.site_signing_pub_path().string()},
                        {"site_key", site_key.keyid},
                        {"files_checked", checked},
                        {"left_out", jl}};
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("wrote {}: {} version(s) of {} deployment(s), signed by site signing key {}{}\n", file.string(),
               list.entries.size(), deployments, signer.keyid,
               left_out.empty() ? "" : fmt::format("; {} damaged version(s) left out", left_out.size()));
  }
  return ok_status();
}

}  // namespace

void add_have_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<HaveOptions>();
  CLI::App* cmd = app.add_subcommand(
      "have", "Export a signed have-list of the versions installed here, for the bundler to build a delta bundle");
  cmd->add_option("--export", o->file, "write the have-list to FILE (a temporary file renamed into place)")
      ->type_name("FILE")
      ->required();
  cmd->add_flag("--force", o->force, "replace FILE if it exists");
  cmd->add_flag("--json", o->json, "print the summary as JSON");
  cmd->footer(
      "The have-list names every installed version (deployment, version, bundle id, sequence, which is\n"
      "active) whose files still match the ledger (size and SHA-256, as 'check' compares them); a damaged\n"
      "version is left out, with a warning naming it. It is signed with this site's own signing key,\n"
      "ROOT/keys/site-signing.key (made on first use on a root initialised before it existed), and holds\n"
      "no secret. Carry it to the connected side; there\n"
      "  airlock-bundler create --have FILE --site-signing-key site-signing.pub ...\n"
      "builds a delta bundle against what this site holds.\n"
      "Give the bundler ROOT/keys/site-signing.pub once, by a channel you trust, so it can refuse a\n"
      "have-list this site did not make.");
  cmd->callback([&ctx, o] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      return have_export(*site, ctx, *o);
    });
  });
}

}  // namespace airlock::installer

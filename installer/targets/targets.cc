#include "installer/targets/targets.h"

#include <algorithm>
#include <map>
#include <set>

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/crypto/sha1.h"
#include "core/crypto/sha256.h"
#include "core/names/names.h"
#include "core/fs/file.h"
#include "installer/site/crash_point.h"
#include "installer/targets/layout.h"
#include "installer/targets/internal.h"

namespace airlock::installer {

namespace targets_internal {

using namespace layout;

Entries::Entries(Site& site, std::string target)
    : m_site(site), m_target(std::move(target)), m_dir(stdfs::absolute(site.root()) / m_target) {}

Status Entries::load() {
  ASSIGN_OR_RETURN(auto all, m_site.ledger().target_entries());
  for (TargetEntry& e : all) {
    if (e.target == m_target) {
      m_recorded.emplace(e.path, std::move(e));
    }
  }
  return ok_status();
}

const TargetEntry* Entries::recorded(const std::string& path) const {
  auto it = m_recorded.find(path);
  return it == m_recorded.end() ? nullptr : &it->second;
}

void Entries::want(const std::string& path, const std::string& kind, const std::string& value) {
  m_wanted[path] = TargetEntry{m_target, path, kind, value};
}

Status Entries::begin() {
  std::map<std::string, TargetEntry> all = m_recorded;
  for (const auto& [path, e] : m_wanted) {
    all[path] = e;
  }
  std::vector<TargetEntry> rows;
  for (auto& [path, e] : all) {
    rows.push_back(e);
  }
  return m_site.ledger().set_target_entries(m_target, rows);
}

namespace {

// Every file or symlink below dir that is neither wanted nor on the way to
// a wanted entry, as absolute paths (a foreign directory is listed once).
void list_foreign(const stdfs::path& dir, const std::string& rel, const std::set<std::string>& wanted,
                  const std::set<std::string>& ancestors, std::vector<std::string>& out) {
  std::error_code ec;
  std::vector<stdfs::path> children;
  for (const auto& e : stdfs::directory_iterator(rel.empty() ? dir : dir / rel, ec)) {
    children.push_back(e.path());
  }
  std::sort(children.begin(), children.end());
  for (const stdfs::path& p : children) {
    const std::string name = rel.empty() ? p.filename().string() : rel + "/" + p.filename().string();
    if (wanted.contains(name)) {
      continue;
    }
    auto st = stdfs::symlink_status(p, ec);
    if (ancestors.contains(name) && stdfs::is_directory(st)) {
      list_foreign(dir, name, wanted, ancestors, out);
      continue;
    }
    if (stdfs::is_directory(st) && stdfs::is_empty(p, ec)) {
      continue;  // an empty folder (refs/ of a repo with no active version) holds nothing to report
    }
    out.push_back(p.string());
  }
}

}  // namespace

Status Entries::finish(TargetsSummary& sum) {
  std::set<stdfs::path> emptied;
  for (const auto& [path, e] : m_recorded) {
    if (m_wanted.contains(path)) {
      continue;
    }
    TRY(remove_path(m_dir / path));
    for (stdfs::path p = (m_dir / path).parent_path(); p != m_dir && p.string().size() > m_dir.string().size();
         p = p.parent_path()) {
      emptied.insert(p);
    }
  }
  // Deepest first; rmdir leaves any directory that still holds something.
  for (auto it = emptied.rbegin(); it != emptied.rend(); ++it) {
    (void)::rmdir(it->c_str());
  }
  std::vector<TargetEntry> rows;
  std::set<std::string> wanted;
  std::set<std::string> ancestors;
  for (const auto& [path, e] : m_wanted) {
    rows.push_back(e);
    wanted.insert(path);
    for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      ancestors.insert(path.substr(0, slash));
    }
  }
  TRY(m_site.ledger().set_target_entries(m_target, rows));
  m_recorded = m_wanted;
  std::error_code ec;
  if (stdfs::is_directory(stdfs::symlink_status(m_dir, ec))) {
    list_foreign(m_dir, "", wanted, ancestors, sum.left_alone);
    if (m_wanted.empty()) {
      (void)::rmdir(m_dir.c_str());  // only when empty: ours, with nothing left in it
    }
  }
  return ok_status();
}

std::size_t pick_claim(const std::vector<Claim>& claims, const TargetEntry* recorded, const std::string& where,
                       TargetsSummary& sum) {
  std::size_t win = 0;
  if (recorded != nullptr) {
    for (std::size_t i = 0; i < claims.size(); ++i) {
      if (claims[i].value == recorded->value) {
        win = i;
        break;
      }
    }
  }
  std::set<std::string> told;
  for (std::size_t i = 0; i < claims.size(); ++i) {
    if (claims[i].value == claims[win].value || !told.insert(claims[i].by).second) {
      continue;
    }
    sum.conflicts.push_back(fmt::format("{}: {} and {} ship different bytes under this name; {}'s stays, {}'s is "
                                        "not linked",
                                        where, claims[win].by, claims[i].by, claims[win].by, claims[i].by));
    sum.conflict_parties.emplace_back(claims[win].by.substr(0, claims[win].by.find('/')),
                                      claims[i].by.substr(0, claims[i].by.find('/')));
  }
  return win;
}

std::span<const Target* const> all_targets() {
  static const Target* const table[] = {&hf_target(), &images_target(), &apt_target(), &wheels_target()};
  return table;
}

}  // namespace targets_internal

using namespace targets_internal;

namespace {

stdfs::path dirty_marker(const Site& site) { return site.root() / "targets.dirty"; }

}  // namespace

Result<std::string> git_blob_sha1(const stdfs::path& path) {
  ASSIGN_OR_RETURN(fs::File file, fs::File::open_read(path));
  std::error_code ec;
  const std::uint64_t size = stdfs::file_size(path, ec);
  if (ec) {
    return make_error(ErrorCode::kIOError, "{}: {}", path.string(), ec.message());
  }
  crypto::Sha1 sha1;
  const std::string head = fmt::format("blob {}", size) + std::string(1, '\0');
  sha1.update(as_bytes(head));
  Bytes buffer(1 << 20);
  std::uint64_t total = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::size_t n, file.read_some(buffer));
    if (n == 0) {
      break;
    }
    total += n;
    sha1.update(ByteSpan(buffer.data(), n));
  }
  if (total != size) {
    return make_error(ErrorCode::kIOError, "{}: changed while it was read", path.string());
  }
  return to_hex(sha1.finish());
}

std::string local_model_commit(const std::vector<std::pair<std::string, std::string>>& path_and_sha256) {
  auto sorted = path_and_sha256;
  std::sort(sorted.begin(), sorted.end());
  crypto::Sha256 h;
  h.update(as_bytes("airlock local model v1\n"));
  for (const auto& [path, sha] : sorted) {
    h.update(as_bytes(path));
    h.update(as_bytes(std::string_view("\0", 1)));
    h.update(as_bytes(sha));
    h.update(as_bytes("\n"));
  }
  return to_hex(h.finish()).substr(0, 40);
}

Status mark_targets_dirty(const Site& site) {
  const std::string text = fmt::format("rebuild ROOT/{}\n", fmt::join(k_target_names, ", "));
  return fs::write_file_atomic(dirty_marker(site), as_bytes(text), 0644);
}

Status clear_targets_dirty(const Site& site) { return remove_path(dirty_marker(site)); }

std::string targets_retry_text(const Error& error) {
  return fmt::format("rebuilding {} failed: {}; ROOT/targets.dirty stays "
                     "and the next airlock-installer command retries (fix the cause, or run 'airlock-installer "
                     "targets')",
                     target_dirs_text(), error.message());
}

std::string target_dirs_text() {
  std::string out;
  for (std::size_t i = 0; i < k_target_names.size(); ++i) {
    out += i == 0 ? "" : i + 1 == k_target_names.size() ? " and " : ", ";
    out += fmt::format("ROOT/{}", k_target_names[i]);
  }
  return out;
}

bool targets_dirty(const Site& site) {
  std::error_code ec;
  return stdfs::exists(dirty_marker(site), ec);
}

namespace {

// Every installed version, in install order (the first claim on a name wins
// when none is recorded), with `last` (a newcomer) after all others.
// A ledger written before the names and sources were checked where they are
// decoded may hold what no target can be built from: that version is left
// out with a note (in `notes`), never failing the rebuild.
Result<std::vector<Installed>> installed_versions(Site& site, const std::string& last,
                                                  std::vector<std::string>& notes) {
  std::vector<Installed> installed;
  ASSIGN_OR_RETURN(auto deployments, site.ledger().deployments());
  for (const DeploymentRecord& d : deployments) {
    ASSIGN_OR_RETURN(auto versions, site.ledger().versions(d.name));
    for (const VersionRecord& r : versions) {
      if (r.state != "installed") {
        continue;
      }
      if (!format::names::is_deployment_name(d.name) || !format::names::is_version(r.version)) {
        notes.push_back(fmt::format("{}/{}: the name or version cannot be a target entry; left out of the targets",
                                    format::names::printable(d.name), format::names::printable(r.version)));
        continue;
      }
      Installed v;
      v.name = d.name;
      v.version = r.version;
      v.active = d.active_version == r.version;
      v.installed_at = r.installed_at;
      v.dir = site.version_dir(d.name, r.version);
      ASSIGN_OR_RETURN(VersionMeta meta, site.ledger().version_meta(d.name, r.version));
      ASSIGN_OR_RETURN(v.files, site.ledger().files(d.name, r.version));
      std::map<std::string, format::ListedFile> listed;
      for (const FileRecord& f : v.files) {
        listed.emplace(f.path, format::ListedFile{f.size, f.sha256});
      }
      const json raw = json::parse(meta.sources, nullptr, false);
      Result<std::vector<format::Source>> sources = make_error(ErrorCode::kCorruption, "sources is not JSON");
      if (!raw.is_discarded()) {
        sources = format::decode_sources(raw, listed);
      }
      if (!sources) {
        notes.push_back(fmt::format("{}/{}: its recorded sources are malformed ({}); left out of the targets", d.name,
                                    r.version, sources.error().message()));
        continue;
      }
      v.sources = std::move(*sources);
      installed.push_back(std::move(v));
    }
  }
  std::stable_sort(installed.begin(), installed.end(), [&](const Installed& a, const Installed& b) {
    return std::pair(a.name == last, a.installed_at) < std::pair(b.name == last, b.installed_at);
  });
  return installed;
}

}  // namespace

Result<TargetsSummary> sync_targets(Site& site) {
  TRY(mark_targets_dirty(site));
  TargetsSummary sum;
  ASSIGN_OR_RETURN(std::vector<Installed> installed, installed_versions(site, "", sum.notes));
  for (const Target* target : all_targets()) {
    TRY(target->sync(site, installed, sum, true));
    if (target == all_targets().front()) {
      crash_point("targets");  // tests: half rebuilt, the mark still set
    }
  }
  TRY(remove_path(dirty_marker(site)));
  return sum;
}

Status target_conflicts(Site& site, const std::string& name) {
  TargetsSummary sum;
  ASSIGN_OR_RETURN(std::vector<Installed> installed, installed_versions(site, name, sum.notes));
  for (const Target* target : all_targets()) {
    TRY(target->sync(site, installed, sum, false));
  }
  std::vector<std::string> lost;
  for (std::size_t i = 0; i < sum.conflicts.size(); ++i) {
    if (sum.conflict_parties[i].second == name && sum.conflict_parties[i].first != name) {
      lost.push_back(sum.conflicts[i]);
    }
  }
  if (lost.empty()) {
    return ok_status();
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "{} cannot be activated: it ships different bytes under a name another deployment already has "
                    "in the install targets ({}); rename it in one of the manifests, or roll the other back",
                    name, fmt::join(lost, "; "));
}

}  // namespace airlock::installer

#include "bundler/sources/apt_resolve.h"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/core.h>

#include "bundler/sources/debian_version.h"

namespace airlock::bundler::apt {
namespace {

// Whether a package of `pkg_arch` can satisfy `atom` on `arch`.
bool arch_ok(std::string_view pkg_arch, std::string_view multi_arch, const DepAtom& atom, std::string_view arch) {
  if (pkg_arch == "all") {
    return true;
  }
  const std::string& q = atom.arch_qualifier;
  if (q == "any") {
    return true;
  }
  if (q.empty() || q == "native") {
    return pkg_arch == arch || multi_arch == "foreign";
  }
  return pkg_arch == q;
}

// Whether `provided` (an entry of a Provides field) satisfies `atom`.
bool provide_matches(const DepAtom& provided, const DepAtom& atom) {
  if (provided.name != atom.name) {
    return false;
  }
  if (atom.relation == Relation::kAny) {
    return true;
  }
  // Policy §7.5: only a versioned Provides satisfies a versioned relation.
  return provided.relation == Relation::kEqual && relation_satisfied(atom.relation, provided.version, atom.version);
}

std::string clause_text(const DepClause& clause) {
  std::string s;
  for (const DepAtom& a : clause) {
    s += (s.empty() ? "" : " | ") + a.to_string();
  }
  return s;
}

class Resolver {
 public:
  Resolver(const std::vector<RepoIndex>& repos, const std::vector<InstalledPackage>& installed)
      : m_repos(repos), m_installed(installed) {
    for (const RepoIndex& r : repos) {
      for (const DebPackage& p : r.packages) {
        m_by_name[p.name].push_back(&p);
        for (const DepAtom& prov : p.provides) {
          m_providers[prov.name].push_back({&p, &prov});
        }
      }
    }
  }

  Result<Resolution> run(const std::vector<Request>& requests) {
    for (const Request& req : requests) {
      TRY(request(req));
    }
    for (std::size_t i = 0; i < m_res.chosen.size(); ++i) {
      const DebPackage* pkg = m_res.chosen[i].package;
      std::string_view arch = m_repos[pkg->repo].architecture;
      for (const DepClause& clause : pkg->depends) {
        TRY(satisfy(clause, i, arch));
      }
    }
    return std::move(m_res);
  }

 private:
  Status request(const Request& req) {
    const RepoIndex& repo = m_repos[req.repo];
    std::vector<const DebPackage*> found;
    for (const DebPackage* p : lookup(req.name)) {
      if (p->repo == req.repo) {
        found.push_back(p);
      }
    }
    if (found.empty()) {
      return make_error(ErrorCode::kNotFound,
                        "apt repo {}: package '{}' is not in this repository (architecture {}); check the name, "
                        "'components' and 'architecture'",
                        repo.label, req.name, repo.architecture);
    }
    const DebPackage* pick = nullptr;
    if (req.version.empty()) {
      pick = newest(found);
    } else {
      for (const DebPackage* p : found) {
        if (compare_debian_versions(p->version, req.version) == 0) {
          pick = p;
          break;
        }
      }
      if (pick == nullptr) {
        std::string have;
        for (const DebPackage* p : found) {
          have += (have.empty() ? "" : ", ") + p->version;
        }
        return make_error(ErrorCode::kNotFound,
                          "apt repo {}: package '{}' has no version {} (available: {}); fix the version in 'packages'",
                          repo.label, req.name, req.version, have);
      }
    }
    auto it = m_chosen_by_name.find(pick->name);
    if (it != m_chosen_by_name.end()) {
      const DebPackage* other = m_res.chosen[it->second].package;
      if (other != pick) {
        return make_error(ErrorCode::kInvalidArgument, "[[deb]]: package '{}' is requested as both {} and {}",
                          pick->name, other->version, pick->version);
      }
      m_res.chosen[it->second].requested = true;
      return ok_status();
    }
    choose(pick, std::nullopt, true);
    return ok_status();
  }

  const std::vector<const DebPackage*>& lookup(const std::string& name) const {
    static const std::vector<const DebPackage*> k_none;
    auto it = m_by_name.find(name);
    return it == m_by_name.end() ? k_none : it->second;
  }

  // The newest; among equal versions the first (earlier [[deb]] entry).
  static const DebPackage* newest(const std::vector<const DebPackage*>& pkgs) {
    const DebPackage* best = nullptr;
    for (const DebPackage* p : pkgs) {
      if (best == nullptr || compare_debian_versions(p->version, best->version) > 0) {
        best = p;
      }
    }
    return best;
  }

  void choose(const DebPackage* pkg, std::optional<std::size_t> parent, bool requested) {
    Chosen c;
    c.package = pkg;
    c.requested = requested;
    if (parent) {
      c.needed_by = chain(*parent);
    }
    m_chosen_by_name[pkg->name] = m_res.chosen.size();
    m_parent.push_back(parent);
    m_res.chosen.push_back(std::move(c));
  }

  // "root → … → name" for a chosen package.
  std::string chain(std::size_t index) const {
    std::vector<std::string_view> names;
    std::optional<std::size_t> i = index;
    while (i) {
      names.push_back(m_res.chosen[*i].package->name);
      i = m_parent[*i];
    }
    std::string s;
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
      s += (s.empty() ? "" : " → ") + std::string(*it);
    }
    return s;
  }

  bool chosen_satisfies(const DepAtom& atom, std::string_view arch) const {
    auto it = m_chosen_by_name.find(atom.name);
    if (it != m_chosen_by_name.end()) {
      const DebPackage* p = m_res.chosen[it->second].package;
      if (arch_ok(p->architecture, p->multi_arch, atom, arch) &&
          relation_satisfied(atom.relation, p->version, atom.version)) {
        return true;
      }
    }
    for (const Chosen& c : m_res.chosen) {
      for (const DepAtom& prov : c.package->provides) {
        if (provide_matches(prov, atom) && arch_ok(c.package->architecture, c.package->multi_arch, atom, arch)) {
          return true;
        }
      }
    }
    return false;
  }

  const InstalledPackage* installed_satisfies(const DepAtom& atom, std::string_view arch) const {
    for (const InstalledPackage& p : m_installed) {
      if (!arch_ok(p.architecture, p.multi_arch, atom, arch)) {
        continue;
      }
      if (p.name == atom.name && relation_satisfied(atom.relation, p.version, atom.version)) {
        return &p;
      }
      for (const DepAtom& prov : p.provides) {
        if (provide_matches(prov, atom)) {
          return &p;
        }
      }
    }
    return nullptr;
  }

  // The package to choose for one alternative, or null.
  const DebPackage* candidate(const DepAtom& atom, std::string_view arch, std::vector<std::string>& why_not) {
    std::vector<const DebPackage*> real;
    for (const DebPackage* p : lookup(atom.name)) {
      if (arch_ok(p->architecture, p->multi_arch, atom, arch) &&
          relation_satisfied(atom.relation, p->version, atom.version)) {
        real.push_back(p);
      }
    }
    auto taken = m_chosen_by_name.find(atom.name);
    bool conflict = false;
    if (taken != m_chosen_by_name.end()) {
      // Another version of it is already chosen and does not fit: one
      // version of a package can ship, so this alternative is out.
      const Chosen& c = m_res.chosen[taken->second];
      if (!real.empty()) {
        why_not.push_back(fmt::format("{} {} is already chosen ({}) and does not satisfy it", atom.name,
                                      c.package->version, c.requested ? "requested" : "needed by " + c.needed_by));
        conflict = true;
      }
      real.clear();
    }
    if (!real.empty()) {
      return newest(real);
    }
    if (!conflict) {
      for (const DebPackage* p : lookup(atom.name)) {
        why_not.push_back(fmt::format("found {} {} ({}), which does not fit", p->name, p->version, p->architecture));
      }
    }
    std::vector<const DebPackage*> providers;
    auto it = m_providers.find(atom.name);
    if (it != m_providers.end()) {
      for (const auto& [p, prov] : it->second) {
        if (provide_matches(*prov, atom) && arch_ok(p->architecture, p->multi_arch, atom, arch) &&
            !m_chosen_by_name.contains(p->name)) {
          providers.push_back(p);
        }
      }
    }
    if (providers.empty()) {
      return nullptr;
    }
    // Deterministic: the provider with the smallest name, newest version.
    std::stable_sort(providers.begin(), providers.end(), [](const DebPackage* a, const DebPackage* b) {
      if (a->name != b->name) {
        return a->name < b->name;
      }
      return compare_debian_versions(a->version, b->version) > 0;
    });
    if (providers.front()->name != providers.back()->name) {
      std::string names;
      for (const DebPackage* p : providers) {
        if (names.find(p->name) == std::string::npos) {
          names += (names.empty() ? "" : ", ") + p->name;
        }
      }
      m_res.notes.push_back(fmt::format("apt: '{}' is provided by {}; took {} (list the one you want in "
                                        "'packages' to choose)",
                                        atom.name, names, providers.front()->name));
    }
    return providers.front();
  }

  Status satisfy(const DepClause& clause, std::size_t parent, std::string_view arch) {
    std::vector<const DepAtom*> atoms;
    for (const DepAtom& a : clause) {
      if (a.applies_to(arch)) {
        atoms.push_back(&a);
      }
    }
    for (const DepAtom* a : atoms) {
      if (chosen_satisfies(*a, arch)) {
        return ok_status();
      }
    }
    for (const DepAtom* a : atoms) {
      if (const InstalledPackage* p = installed_satisfies(*a, arch)) {
        m_res.satisfied_on_target.push_back(
            fmt::format("{} (target has {} {})", a->to_string(), p->name, p->version));
        return ok_status();
      }
    }
    std::vector<std::string> why_not;
    for (const DepAtom* a : atoms) {
      if (const DebPackage* pick = candidate(*a, arch, why_not)) {
        choose(pick, parent, false);
        return ok_status();
      }
    }
    if (atoms.empty()) {
      return ok_status();
    }
    std::string detail;
    for (const std::string& w : why_not) {
      detail += "; " + w;
    }
    std::string on_target;
    for (const DepAtom* a : atoms) {
      for (const InstalledPackage& p : m_installed) {
        if (p.name == a->name) {
          on_target += fmt::format("; the target has {} {}", p.name, p.version);
        }
      }
    }
    std::string searched;
    for (const RepoIndex& r : m_repos) {
      searched += (searched.empty() ? "" : ", ") + r.label;
    }
    return make_error(ErrorCode::kNotFound,
                      "{} → {}: not in any [[deb]] repository (searched {}){}{}; add a [[deb]] entry for a "
                      "repository that has it, or pass --target-status with the target's dpkg status if it is "
                      "installed there",
                      chain(parent), clause_text(clause), searched, detail, on_target);
  }

  const std::vector<RepoIndex>& m_repos;
  const std::vector<InstalledPackage>& m_installed;
  std::map<std::string, std::vector<const DebPackage*>> m_by_name;
  std::map<std::string, std::vector<std::pair<const DebPackage*, const DepAtom*>>> m_providers;
  std::map<std::string, std::size_t> m_chosen_by_name;
  std::vector<std::optional<std::size_t>> m_parent;
  Resolution m_res;
};

}  // namespace

Request parse_request(std::string_view text, std::size_t repo) {
  Request r;
  r.repo = repo;
  std::size_t eq = text.find('=');
  r.name = std::string(text.substr(0, eq));
  if (eq != std::string_view::npos) {
    r.version = std::string(text.substr(eq + 1));
  }
  return r;
}

Result<std::vector<InstalledPackage>> parse_dpkg_status(std::string_view text, std::string_view what) {
  auto stanzas = parse_stanzas(text);
  if (!stanzas) {
    return std::unexpected(std::move(stanzas).error().with_context(what));
  }
  std::vector<InstalledPackage> out;
  for (const Stanza& s : *stanzas) {
    // "Status: WANT ok installed" (want: install, hold, deinstall…): on disk and configured.
    std::string status = s.get_or("Status");
    std::vector<std::string> words;
    std::size_t p = 0;
    while (p < status.size()) {
      std::size_t q = status.find(' ', p);
      if (q == std::string::npos) {
        q = status.size();
      }
      if (q > p) {
        words.push_back(status.substr(p, q - p));
      }
      p = q + 1;
    }
    if (words.size() != 3 || words[1] != "ok" || words[2] != "installed") {
      continue;
    }
    InstalledPackage pkg;
    pkg.name = s.get_or("Package");
    pkg.version = s.get_or("Version");
    pkg.architecture = s.get_or("Architecture");
    pkg.multi_arch = s.get_or("Multi-Arch");
    if (pkg.name.empty() || pkg.version.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "{}: line {}: installed package without Package or Version",
                        what, s.line);
    }
    if (auto v = s.get("Provides")) {
      auto clauses = parse_dependencies(*v);
      if (!clauses) {
        return std::unexpected(std::move(clauses).error().with_context(fmt::format("{}: {}", what, pkg.name)));
      }
      for (DepClause& c : *clauses) {
        pkg.provides.insert(pkg.provides.end(), c.begin(), c.end());
      }
    }
    out.push_back(std::move(pkg));
  }
  return out;
}

Result<Resolution> resolve_packages(const std::vector<RepoIndex>& repos, const std::vector<Request>& requests,
                                    const std::vector<InstalledPackage>& installed) {
  Resolver r(repos, installed);
  return r.run(requests);
}

}  // namespace airlock::bundler::apt

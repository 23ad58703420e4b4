#pragma once
// Shared by the install targets (targets.cc and one file per target:
// hf.cc, images.cc, apt.cc, wheels.cc); not used elsewhere.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/format/sources.h"
#include "installer/ledger/ledger.h"
#include "installer/site/site.h"
#include "installer/targets/targets.h"

namespace airlock::installer::targets_internal {

using nlohmann::json;

inline constexpr std::uint64_t k_max_index_bytes = 64 << 20;

// One installed version as the targets see it.
struct Installed {
  std::string name;
  std::string version;
  bool active = false;
  std::int64_t installed_at = 0;
  stdfs::path dir;
  std::vector<format::Source> sources;  // decoded from the ledger (empty for versions installed before ledger schema 2)
  std::vector<FileRecord> files;
};

using format::find_source;

// What Airlock created in one target (ROOT/<target>) as the ledger records
// it (schema 3), and the set one rebuild wants. A rebuild:
//   1. adds every entry it wants (want()), then begin(): the ledger records
//      old + wanted, so a crash part way leaves nothing unrecorded;
//   2. creates/updates the wanted entries (only names it wants: an entry of
//      the same name is Airlock's by definition, being named by its hash or
//      being one of Airlock's generated files);
//   3. finish(): removes the recorded entries no longer wanted (and the
//      directories that leaves empty), records the wanted set, and lists
//      everything else under ROOT/<target> as left alone.
// Nothing that was never recorded is ever removed.
class Entries {
 public:
  Entries(Site& site, std::string target);
  Status load();
  const stdfs::path& dir() const { return m_dir; }
  // The recorded entry at path, or null.
  const TargetEntry* recorded(const std::string& path) const;
  void want(const std::string& path, const std::string& kind, const std::string& value);
  void drop(const std::string& path) { m_wanted.erase(path); }
  Status begin();
  Status finish(TargetsSummary& sum);

 private:
  Site& m_site;
  std::string m_target;
  stdfs::path m_dir;
  std::map<std::string, TargetEntry> m_recorded;
  std::map<std::string, TargetEntry> m_wanted;
};

// Two claims on one name (a blob, a ref, a .deb, a wheel, an image ref):
// who keeps it. The recorded (already linked) value wins, else the first
// claim (install order); every other claim with different bytes loses, is
// not linked, and is reported by name.
struct Claim {
  std::string value;
  std::string by;  // "NAME/VERSION"
};
// Index of the winning claim; a note per losing claim (where = "ROOT/wheels/x.whl").
std::size_t pick_claim(const std::vector<Claim>& claims, const TargetEntry* recorded, const std::string& where,
                       TargetsSummary& sum);

// One install target: the folder ROOT/<name()> that a standard tool reads
// (targets.h lists them) and the builder that fills it from the installed
// versions. With apply = false a builder only works out what it would link
// and the conflicts (target_conflicts), touching nothing; with apply = true
// it rebuilds its folder through Entries. The table (all_targets() in
// targets.cc, as ccache keeps its storage backends) is the only list of them.
class Target {
 public:
  virtual ~Target() = default;
  // The folder under ROOT, and the ledger's target_entries.target.
  virtual std::string_view name() const = 0;
  virtual Status sync(Site& site, const std::vector<Installed>& installed, TargetsSummary& sum,
                      bool apply) const = 0;
};

// One per file: hf.cc (a snapshot per installed version, refs from the
// active ones), images.cc, apt.cc, wheels.cc (what the active versions ship).
const Target& hf_target();
const Target& images_target();
const Target& apt_target();
const Target& wheels_target();

// The table, in rebuild order; its names are site.h's k_target_names.
std::span<const Target* const> all_targets();

}  // namespace airlock::installer::targets_internal

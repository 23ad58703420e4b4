// ROOT/wheels: the active versions' wheels, flat, for pip --no-index
// --find-links (targets.h).
#include <map>

#include <fmt/format.h>

#include "core/names/names.h"
#include "core/fs/file.h"
#include "installer/targets/internal.h"
#include "installer/targets/layout.h"

namespace airlock::installer::targets_internal {

using namespace layout;

namespace {

Status sync_wheels(Site& site, const std::vector<Installed>& installed, TargetsSummary& sum, bool apply) {
  std::map<std::string, std::vector<std::pair<Claim, stdfs::path>>> claims;  // file name -> (sha256, by), src
  for (const Installed& v : installed) {
    if (!v.active) {
      continue;
    }
    for (const FileRecord& f : v.files) {
      if (!f.path.starts_with("wheels/") || f.path.find('/', 7) != std::string::npos) {
        continue;
      }
      const std::string file = f.path.substr(7);
      if (!format::names::is_target_file_name(file)) {  // an old ledger's: decode_payload refuses these now
        sum.notes.push_back(fmt::format("{}/{}: {} cannot be an entry of ROOT/wheels; left out", v.name, v.version,
                                        format::names::printable(f.path)));
        continue;
      }
      claims[file].push_back({Claim{f.sha256, v.name + "/" + v.version}, v.dir / f.path});
    }
  }
  Entries entries(site, "wheels");  // WheelsTarget::name()
  TRY(entries.load());
  std::map<std::string, std::pair<stdfs::path, std::string>> wheels;  // name -> (src, sha256)
  for (const auto& [file, cs] : claims) {
    std::vector<Claim> plain;
    for (const auto& c : cs) {
      plain.push_back(c.first);
    }
    const std::size_t win = pick_claim(plain, entries.recorded(file), (entries.dir() / file).string(), sum);
    wheels[file] = {cs[win].second, cs[win].first.value};
    entries.want(file, "file", cs[win].first.value);
  }
  if (!apply) {
    return ok_status();
  }
  TRY(entries.begin());
  if (!wheels.empty()) {
    TRY(make_dirs(entries.dir()));
  }
  for (const auto& [file, w] : wheels) {
    TRY(link_file(w.first, entries.dir() / file));
  }
  TRY(entries.finish(sum));
  sum.wheels = wheels.size();
  if (wheels.empty()) {
    return ok_status();
  }
  return fs::fsync_dir(entries.dir());
}

class WheelsTarget final : public Target {
 public:
  std::string_view name() const override { return "wheels"; }
  Status sync(Site& site, const std::vector<Installed>& installed, TargetsSummary& sum, bool apply) const override {
    return sync_wheels(site, installed, sum, apply);
  }
};

}  // namespace

const Target& wheels_target() {
  static const WheelsTarget target;
  return target;
}

}  // namespace airlock::installer::targets_internal

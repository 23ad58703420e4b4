#pragma once
// Which .debs to ship: the requested packages and, transitively, their
// Pre-Depends and Depends, taken from every [[deb]] repository, minus what
// the target already has installed (its dpkg status file).
//
// Rules, close to apt's for a fresh install with default pins:
// - "NAME" is the newest version (dpkg's ordering) in its own entry's
//   repository; "NAME=VERSION" that exact version. Requested packages are
//   always shipped, even when the target has them.
// - A dependency clause "a (>= 1) | b" is satisfied when any alternative is
//   already installed on the target or already chosen; else the first
//   alternative that some repository can satisfy is chosen: the newest real
//   package with that name whose version fits (ties: the earlier [[deb]]
//   entry), else a package that Provides it (a versioned relation needs a
//   versioned Provides, Policy §7.5).
// - Architecture qualifiers ":any" and ":native" are accepted; a package of
//   another architecture is only considered where the qualifier names it.
// Not modelled: Conflicts, Breaks, Replaces, Recommends (apt installs those
// by default; list them in 'packages' when you want them).

#include <optional>
#include <string>
#include <vector>

#include "bundler/sources/apt_repo.h"
#include "core/base/error.h"

namespace airlock::bundler::apt {

struct Request {
  std::size_t repo = 0;       // its [[deb]] entry (index into the repos)
  std::string name;
  std::string version;        // empty: the newest
};

// "NAME" or "NAME=VERSION".
Request parse_request(std::string_view text, std::size_t repo);

struct InstalledPackage {
  std::string name;
  std::string version;
  std::string architecture;
  std::string multi_arch;
  std::vector<DepAtom> provides;
};

// The "Status: … ok installed" stanzas of a dpkg status file.
Result<std::vector<InstalledPackage>> parse_dpkg_status(std::string_view text, std::string_view what);

struct Chosen {
  const DebPackage* package = nullptr;
  bool requested = false;
  std::string needed_by;  // the chain that pulled it in, "a → b"; empty when requested
};

struct Resolution {
  std::vector<Chosen> chosen;  // in the order they were chosen
  std::vector<std::string> satisfied_on_target;  // dependencies the target already satisfies ("libc6 (>= 2.34)")
  std::vector<std::string> notes;                // choices worth telling the user about
};

// kNotFound names the package chain and the relation that no repository
// satisfies, or the repository that lacks a requested package or version.
Result<Resolution> resolve_packages(const std::vector<RepoIndex>& repos, const std::vector<Request>& requests,
                                    const std::vector<InstalledPackage>& installed);

}  // namespace airlock::bundler::apt

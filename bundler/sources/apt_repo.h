#pragma once
// One apt repository's package index, fetched and checked as apt does:
// InRelease (or Release + Release.gpg) verified with gpgv against the
// [[deb]] entry's signed-by keyring, then the Packages file that Release
// lists with its SHA-256 and size (xz, gz or plain), then its stanzas.
//
//   flat repo (suite empty):  REPO/InRelease, REPO/Packages.xz
//   with a suite:             REPO/dists/SUITE/InRelease,
//                             REPO/dists/SUITE/COMPONENT/binary-ARCH/Packages.xz
//
// Errors name the repository and the file, and say what to do.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bundler/sources/deb822.h"
#include "core/base/error.h"
#include "core/manifest/manifest.h"
#include "net/http.h"
#include "core/os/process_runner.h"

namespace airlock::bundler::apt {

// One binary package stanza of a Packages file.
struct DebPackage {
  std::string name;
  std::string version;
  std::string architecture;
  std::vector<DepClause> depends;      // Pre-Depends first, then Depends
  std::vector<DepAtom> provides;
  std::string multi_arch;              // "same", "foreign", "allowed" or empty
  std::string filename;                // relative to the repository URL, as in Packages
  std::uint64_t size = 0;
  std::string sha256;                  // empty when the stanza has none (refused if chosen)
  std::string control;                 // the stanza as it was
  std::size_t repo = 0;                // index of its [[deb]] entry
};

struct RepoIndex {
  std::string label;     // "URL" (flat) or "URL SUITE COMPONENT…", for messages
  std::string base_url;  // the repository URL, ending in '/'
  std::string architecture;
  bool is_signed = false;
  bool allow_http = false;  // plain http allowed for its files (signed-by or insecure)
  std::vector<DebPackage> packages;  // architecture ARCH or all
};

std::string repo_label(const manifest::AptSpec& spec);

// Parses a Packages file, keeping the stanzas for `arch` and "all".
// Errors name `what` (the Packages URL) and the stanza's line.
Result<std::vector<DebPackage>> parse_packages(std::string_view text, std::string_view arch, std::size_t repo,
                                               std::string_view what);

// Fetches and verifies the index of one [[deb]] entry; `note` gets a line
// for the user (e.g. that the repository is trusted without a signature).
// `now` (seconds since the epoch, from the caller's Clock) decides whether
// the Release file's Valid-Until has passed.
Result<RepoIndex> fetch_repo_index(const manifest::AptSpec& spec, std::size_t repo, net::HttpClient& http,
                                   os::ProcessRunner& runner, std::int64_t now,
                                   const std::function<void(const std::string&)>& note);

}  // namespace airlock::bundler::apt

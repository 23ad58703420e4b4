// ROOT/apt: a flat apt repository of the active versions' .debs (see targets.h).
#include <zlib.h>

#include <ctime>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/base/text.h"
#include "core/crypto/sha256.h"
#include "core/fs/file.h"
#include "installer/targets/layout.h"
#include "core/os/process_runner.h"
#include "installer/targets/internal.h"

namespace airlock::installer::targets_internal {

using namespace layout;

namespace {

// The stanza as shipped, without the fields that describe where the file
// was (they are rewritten for this repository).
std::string rewrite_stanza(std::string_view control, const std::string& file, std::uint64_t size,
                           const std::string& sha256) {
  static const std::set<std::string, std::less<>> k_drop = {"filename", "size", "md5sum", "sha1", "sha256", "sha512"};
  std::string out;
  bool dropping = false;
  std::size_t pos = 0;
  while (pos < control.size()) {
    std::size_t end = control.find('\n', pos);
    if (end == std::string_view::npos) {
      end = control.size();
    }
    std::string_view line = control.substr(pos, end - pos);
    pos = end + 1;
    if (text::trim(line).empty()) {
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (!dropping) {
        out.append(line).push_back('\n');
      }
      continue;
    }
    const std::size_t colon = line.find(':');
    dropping = colon != std::string_view::npos && k_drop.contains(text::lower(text::trim(line.substr(0, colon))));
    if (!dropping) {
      out.append(line).push_back('\n');
    }
  }
  out += fmt::format("Filename: ./{}\nSize: {}\nSHA256: {}\n", file, size, sha256);
  return out;
}

// gzip (RFC 1952, zlib's own header: no name, mtime 0) of `data`, in memory:
// Packages is a few hundred bytes a package.
Result<std::string> gzip_bytes(std::string_view data, const std::string& name) {
  if (data.size() > 0xffffffffu) {
    return make_error(ErrorCode::kInvalidArgument, "compressing {}: {} bytes is more than one pass takes", name,
                      data.size());
  }
  z_stream z{};
  // 15 window bits + 16: a gzip wrapper instead of zlib's.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return make_error(ErrorCode::kIOError, "compressing {}: zlib: {}", name, z.msg ? z.msg : "cannot start");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const std::size_t produced = out.size() - z.avail_out;
  const std::string msg = z.msg ? z.msg : "";
  deflateEnd(&z);
  if (rc != Z_STREAM_END) {
    return make_error(ErrorCode::kIOError, "compressing {}: zlib error {} {}", name, rc, msg);
  }
  out.resize(produced);
  return out;
}

std::string rfc2822(std::int64_t now) {
  std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S UTC", &tm);
  return buf;
}

// Signs Release with the GnuPG home ROOT/keys/apt, when there is one.
Result<bool> sign_release(const Site& site, const stdfs::path& dir) {
  const stdfs::path home = site.keys_dir() / "apt";
  std::error_code ec;
  if (!stdfs::is_directory(home, ec)) {
    TRY(remove_path(dir / "InRelease"));
    TRY(remove_path(dir / "Release.gpg"));
    return false;
  }
  if (!os::program_on_path("gpg")) {
    return make_error(ErrorCode::kNotFound, "{} is configured for signing ROOT/apt, but gpg is not installed "
                      "(apt-get install gpg)", home.string());
  }
  for (auto [flag, out] : {std::pair{"--clearsign", "InRelease"}, std::pair{"--detach-sign", "Release.gpg"}}) {
    const stdfs::path tmp = dir / (std::string(".tmp-") + out);
    std::vector<std::string> argv = {"gpg",   "--homedir", home.string(), "--batch", "--yes", "--pinentry-mode",
                                     "loopback", "--passphrase", "", "--digest-algo", "SHA256", flag, "-o",
                                     tmp.string(), (dir / "Release").string()};
    os::ProcessOptions po;
    po.capture_output = true;
    po.timeout = std::chrono::seconds(60);
    ASSIGN_OR_RETURN(os::ProcessResult r, site.processes().run(argv, po));
    if (!r.ok()) {
      (void)remove_path(tmp);
      return make_error(ErrorCode::kIOError, "signing ROOT/apt/{} with the key in {}: gpg {}: {}", out, home.string(),
                        r.describe(), text::trim(r.output));
    }
    if (::rename(tmp.c_str(), (dir / out).c_str()) != 0) {
      return make_error(ErrorCode::kIOError, "{}: cannot rename into place: {}", (dir / out).string(),
                        fs::errno_text(errno));
    }
  }
  return true;
}

Status sync_apt(Site& site, const std::vector<Installed>& installed, TargetsSummary& sum, bool apply) {
  struct Deb {
    stdfs::path src;
    std::string stanza;
    std::string sha256;
    std::string arch;
  };
  std::map<std::string, std::vector<std::pair<Claim, Deb>>> claims;  // by file name
  for (const Installed& v : installed) {
    if (!v.active) {
      continue;
    }
    std::map<std::string, const format::SourceFile*> shipped;  // pointers into v.sources, which outlives the map
    for (const format::Source& src : v.sources) {
      if (src.kind == "deb") {
        for (const format::SourceFile& f : src.files) {
          shipped[f.path] = &f;
        }
      }
    }
    std::size_t unlisted = 0;
    for (const FileRecord& f : v.files) {
      if (!f.path.starts_with("debs/") || !f.path.ends_with(".deb") || f.path.find('/', 5) != std::string::npos) {
        continue;
      }
      auto it = shipped.find(f.path);
      const format::SourceFile* sf = it == shipped.end() ? nullptr : it->second;
      if (sf == nullptr || sf->control.empty()) {
        ++unlisted;
        continue;
      }
      const std::string file = f.path.substr(5);
      claims[file].push_back({Claim{f.sha256, v.name + "/" + v.version},
                              Deb{v.dir / f.path, rewrite_stanza(sf->control, file, f.size, f.sha256), f.sha256,
                                  sf->architecture.empty() ? "all" : sf->architecture}});
    }
    if (unlisted > 0 && apply) {
      sum.notes.push_back(fmt::format("{}/{}: {} .deb files carry no control data (bundle made by a bundler that did not record it, or "
                                      "installed before ledger schema 2); re-install its bundle to list them in "
                                      "ROOT/apt",
                                      v.name, v.version, unlisted));
    }
  }
  Entries entries(site, "apt");  // AptTarget::name()
  TRY(entries.load());
  const stdfs::path dir = entries.dir();
  std::map<std::string, Deb> debs;  // by file name
  std::set<std::string> archs;
  for (const auto& [file, cs] : claims) {
    std::vector<Claim> plain;
    for (const auto& c : cs) {
      plain.push_back(c.first);
    }
    const std::size_t win = pick_claim(plain, entries.recorded(file), (dir / file).string(), sum);
    debs[file] = cs[win].second;
    archs.insert(cs[win].second.arch);
  }
  if (!apply) {
    return ok_status();
  }
  if (debs.empty()) {
    TRY(entries.begin());
    TRY(entries.finish(sum));
    return ok_status();
  }
  std::string packages;
  for (const auto& [file, d] : debs) {
    if (!packages.empty()) {
      packages += "\n";
    }
    packages += d.stanza;
    entries.want(file, "file", d.sha256);
  }
  ASSIGN_OR_RETURN(std::string packages_gz, gzip_bytes(packages, "Packages"));
  std::string release = fmt::format(
      "Origin: Airlock\nLabel: Airlock\nDate: {}\nArchitectures: {}\n"
      "Description: the .debs of the active Airlock deployments\nSHA256:\n {} {} Packages\n {} {} Packages.gz\n",
      rfc2822(site.clock().now_seconds()), fmt::join(archs, " "), crypto::sha256_hex(as_bytes(packages)), packages.size(),
      crypto::sha256_hex(as_bytes(packages_gz)), packages_gz.size());
  entries.want("Packages", "file", crypto::sha256_hex(as_bytes(packages)));
  entries.want("Packages.gz", "file", crypto::sha256_hex(as_bytes(packages_gz)));
  entries.want("Release", "file", crypto::sha256_hex(as_bytes(release)));
  // Signatures are recorded before gpg writes them (their hash after).
  entries.want("InRelease", "file", "");
  entries.want("Release.gpg", "file", "");
  TRY(entries.begin());
  TRY(make_dirs(dir));
  for (const auto& [file, d] : debs) {
    TRY(link_file(d.src, dir / file));
  }
  TRY(write_text(dir / "Packages", packages));
  TRY(fs::write_file_atomic(dir / "Packages.gz", as_bytes(packages_gz), 0644));
  TRY(fs::write_file_atomic(dir / "Release", as_bytes(release), 0644));
  auto signed_ok = sign_release(site, dir);
  if (!signed_ok) {
    // Left unsigned rather than failing every command (recover() would retry
    // this on each): clients with signed-by refuse it, so nothing is trusted
    // that should not be. Stale signatures of an older Release go.
    TRY(remove_path(dir / "InRelease"));
    TRY(remove_path(dir / "Release.gpg"));
    sum.notes.push_back(fmt::format("ROOT/apt is unsigned: {}", signed_ok.error().message()));
  }
  sum.apt_signed = signed_ok.value_or(false);
  for (const char* sig : {"InRelease", "Release.gpg"}) {
    auto bytes = fs::read_text_file(dir / sig, k_max_index_bytes);
    if (sum.apt_signed && bytes) {
      entries.want(sig, "file", crypto::sha256_hex(as_bytes(*bytes)));
    } else {
      entries.drop(sig);  // unsigned: no signature is Airlock's (finish removes a recorded one)
    }
  }
  TRY(entries.finish(sum));
  sum.debs = debs.size();
  return fs::fsync_dir(dir);
}

class AptTarget final : public Target {
 public:
  std::string_view name() const override { return "apt"; }
  Status sync(Site& site, const std::vector<Installed>& installed, TargetsSummary& sum, bool apply) const override {
    return sync_apt(site, installed, sum, apply);
  }
};

}  // namespace

const Target& apt_target() {
  static const AptTarget target;
  return target;
}

}  // namespace airlock::installer::targets_internal

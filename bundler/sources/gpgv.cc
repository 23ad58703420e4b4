#include "bundler/sources/gpgv.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "core/base/bytes.h"
#include "core/fs/file.h"

namespace airlock::bundler::apt {
namespace {

namespace stdfs = std::filesystem;

constexpr std::string_view k_begin_signed = "-----BEGIN PGP SIGNED MESSAGE-----";
constexpr std::string_view k_begin_signature = "-----BEGIN PGP SIGNATURE-----";
constexpr std::string_view k_end_signature = "-----END PGP SIGNATURE-----";
constexpr std::string_view k_begin_key = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
constexpr std::string_view k_end_key = "-----END PGP PUBLIC KEY BLOCK-----";

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    lines.push_back(line);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  return lines;
}

bool blank(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

Status write_private(const stdfs::path& path, std::string_view data) {
  ASSIGN_OR_RETURN(fs::File f, fs::File::create_new(path, 0600));
  TRY(f.write_all(as_bytes(data)));
  return f.close();
}

// An ASCII-armored keyring ("gpg --export --armor", an .asc file) to the
// binary packets gpgv reads, as apt does for .asc keyrings (RFC 4880 §6.2).
Result<std::string> dearmor(std::string_view text, const stdfs::path& keyring) {
  std::vector<std::string_view> lines = split_lines(text);
  std::string out;
  std::size_t i = 0;
  bool any = false;
  while (i < lines.size()) {
    if (lines[i] != k_begin_key) {
      ++i;
      continue;
    }
    ++i;
    while (i < lines.size() && !blank(lines[i])) {  // armor headers ("Comment: …")
      ++i;
    }
    std::string b64;
    while (i < lines.size() && lines[i] != k_end_key && !lines[i].starts_with('=')) {
      b64 += lines[i];
      ++i;
    }
    std::optional<Bytes> bin = from_base64(b64);
    if (!bin) {
      return make_error(ErrorCode::kInvalidArgument, "signed-by keyring {}: bad ASCII armor", keyring.string());
    }
    out.append(as_chars(*bin));
    any = true;
  }
  if (!any) {
    return make_error(ErrorCode::kInvalidArgument, "signed-by keyring {}: no public key block", keyring.string());
  }
  return out;
}

struct Verdict {
  int good = 0;
  std::vector<std::string> bad;        // key ids with BADSIG
  std::vector<std::string> no_pubkey;  // key ids not in the keyring
  std::vector<std::string> expired;    // EXPKEYSIG, EXPSIG, REVKEYSIG
  std::vector<std::string> weak;       // VALIDSIG with MD5, SHA-1 or RIPEMD-160
  bool nodata = false;
};

Verdict read_status(std::string_view status) {
  Verdict v;
  for (std::string_view line : split_lines(status)) {
    if (!line.starts_with("[GNUPG:] ")) {
      continue;
    }
    line.remove_prefix(9);
    std::vector<std::string_view> w;
    std::size_t p = 0;
    while (p < line.size()) {
      std::size_t q = line.find(' ', p);
      if (q == std::string_view::npos) {
        q = line.size();
      }
      if (q > p) {
        w.push_back(line.substr(p, q - p));
      }
      p = q + 1;
    }
    if (w.empty()) {
      continue;
    }
    std::string arg = w.size() > 1 ? std::string(w[1]) : std::string();
    if (w[0] == "GOODSIG") {
      ++v.good;
    } else if (w[0] == "BADSIG") {
      v.bad.push_back(arg);
    } else if (w[0] == "NO_PUBKEY") {
      v.no_pubkey.push_back(arg);
    } else if (w[0] == "ERRSIG") {
      // ERRSIG keyid pkalgo hashalgo class time rc [fpr]; rc 9 is a missing key
      // (then NO_PUBKEY follows too), anything else is a signature gpgv could
      // not check: count it as bad.
      if (!(w.size() > 6 && w[6] == "9")) {
        v.bad.push_back(arg);
      }
    } else if (w[0] == "EXPKEYSIG" || w[0] == "EXPSIG" || w[0] == "REVKEYSIG") {
      v.expired.push_back(fmt::format("{} ({})", arg, w[0] == "REVKEYSIG" ? "revoked key" : "expired"));
    } else if (w[0] == "VALIDSIG") {
      // VALIDSIG fpr date ts expire version reserved pkalgo hashalgo …
      if (w.size() > 8 && (w[8] == "1" || w[8] == "2" || w[8] == "3")) {
        v.weak.push_back(arg);
      }
    } else if (w[0] == "NODATA") {
      v.nodata = true;
    }
  }
  return v;
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const std::string& i : items) {
    s += (s.empty() ? "" : ", ") + i;
  }
  return s;
}

Result<int> open_private(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return make_error(ErrorCode::kIOError, "{}: {}", path.string(), fs::errno_text(errno));
  }
  // Keep it away from 0-3: the child's 3 is --status-fd.
  int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  if (high < 0) {
    return make_error(ErrorCode::kIOError, "{}: {}", path.string(), fs::errno_text(errno));
  }
  return high;
}

// Runs gpgv with `args` through `runner`, as apt does: stdin and stdout
// /dev/null, stderr and fd 3 (--status-fd) into files under dir, in our own
// process group (Ctrl-C reaches it directly), no deadline. Its exit status,
// or 128 + the signal that ended it.
Result<int> run_gpgv(os::ProcessRunner& runner, const std::vector<std::string>& args, const stdfs::path& dir) {
  ASSIGN_OR_RETURN(int status_fd, open_private(dir / "status"));
  auto status_or = open_private(dir / "stderr");
  if (!status_or) {
    ::close(status_fd);
    return std::unexpected(std::move(status_or).error());
  }
  int err_fd = *status_or;
  os::ProcessOptions options;
  options.stdout_to_null = true;
  options.fds = {{2, err_fd}, {3, status_fd}};
  options.own_process_group = false;
  auto run = runner.run(args, options);
  ::close(status_fd);
  ::close(err_fd);
  if (!run) {
    if (run.error().code() == ErrorCode::kNotFound) {
      return make_error(ErrorCode::kUnsupported, "gpgv is not installed (apt install gpgv); it checks [[deb]] signatures");
    }
    return std::unexpected(std::move(run).error());
  }
  return run->signal != 0 ? 128 + run->signal : run->exit_code;
}

}  // namespace

Result<std::string> clearsigned_text(std::string_view message) {
  auto bad = [](std::string_view why) {
    return make_error(ErrorCode::kBadSignature, "not a valid clearsigned file: {}", why);
  };
  std::vector<std::string_view> lines = split_lines(message);
  std::size_t i = 0;
  while (i < lines.size() && blank(lines[i])) {
    ++i;
  }
  if (i == lines.size() || lines[i] != k_begin_signed) {
    return bad("it does not start with " + std::string(k_begin_signed));
  }
  ++i;
  while (i < lines.size() && !blank(lines[i])) {  // "Hash: SHA512"
    if (!lines[i].starts_with("Hash: ")) {
      return bad("unexpected armor header");
    }
    ++i;
  }
  if (i == lines.size()) {
    return bad("no signed text");
  }
  ++i;
  std::string text;
  bool signature = false;
  for (; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line == k_begin_signature) {
      signature = true;
      ++i;
      break;
    }
    if (line.starts_with("- ")) {
      line.remove_prefix(2);
    } else if (line.starts_with("-")) {
      return bad("a line starts with '-' without dash-escaping");
    }
    text.append(line).push_back('\n');
  }
  if (!signature) {
    return bad("no signature block");
  }
  bool ended = false;
  for (; i < lines.size(); ++i) {
    if (lines[i] == k_end_signature) {
      ended = true;
      ++i;
      break;
    }
    if (lines[i].starts_with("-----")) {
      return bad("a second armor block inside the signature");
    }
  }
  if (!ended) {
    return bad("the signature block does not end");
  }
  for (; i < lines.size(); ++i) {
    if (!blank(lines[i])) {
      return bad("text after the signature");
    }
  }
  return text;
}

Result<std::string> gpgv_verify(os::ProcessRunner& runner, const stdfs::path& keyring, std::string_view data,
                                std::optional<std::string_view> detached_signature, std::string_view what) {
  ASSIGN_OR_RETURN(std::string key_bytes, fs::read_text_file(keyring, 64u << 20));
  if (!detached_signature) {
    auto text = clearsigned_text(data);
    if (!text) {
      return std::unexpected(std::move(text).error().with_context(what));
    }
  }
  std::error_code tmp_ec;
  const stdfs::path tmp_base = stdfs::temp_directory_path(tmp_ec);
  ASSIGN_OR_RETURN(fs::TempDir tmp, fs::TempDir::create(tmp_ec ? stdfs::path("/tmp") : tmp_base, "airlock-gpgv."));
  stdfs::path home = tmp.path() / "home";
  std::error_code ec;
  stdfs::create_directory(home, ec);
  if (ec) {
    return make_error(ErrorCode::kIOError, "{}: {}", home.string(), ec.message());
  }
  stdfs::permissions(home, stdfs::perms::owner_all, ec);
  stdfs::path key_path = stdfs::absolute(keyring);
  if (key_bytes.find(k_begin_key) != std::string::npos) {
    ASSIGN_OR_RETURN(std::string binary, dearmor(key_bytes, keyring));
    key_path = tmp.path() / "keyring.gpg";
    TRY(write_private(key_path, binary));
  }
  stdfs::path data_path = tmp.path() / "data";
  TRY(write_private(data_path, data));
  std::vector<std::string> args = {"gpgv", "--homedir", home.string(), "--keyring", key_path.string(),
                                   "--status-fd", "3"};
  stdfs::path out_path = tmp.path() / "out";
  if (detached_signature) {
    stdfs::path sig_path = tmp.path() / "data.sig";
    TRY(write_private(sig_path, *detached_signature));
    args.push_back(sig_path.string());
  } else {
    args.insert(args.end(), {"--output", out_path.string()});
  }
  args.push_back(data_path.string());
  ASSIGN_OR_RETURN(int exit_code, run_gpgv(runner, args, tmp.path()));
  ASSIGN_OR_RETURN(std::string status, fs::read_text_file(tmp.path() / "status", 1u << 20));
  Verdict v = read_status(status);
  std::string keyring_name = keyring.string();
  if (!v.bad.empty()) {
    return make_error(ErrorCode::kBadSignature,
                      "{}: BAD signature by key {} (the file was altered after signing, or is not what the key "
                      "holder signed); do not use this repository",
                      what, join(v.bad));
  }
  if (!v.expired.empty()) {
    return make_error(ErrorCode::kUntrusted, "{}: signed by {} in {}; ask the repository owner for a current key",
                      what, join(v.expired), keyring_name);
  }
  if (!v.weak.empty()) {
    return make_error(ErrorCode::kUntrusted, "{}: signature by {} uses a weak digest (MD5, SHA-1 or RIPEMD-160)",
                      what, join(v.weak));
  }
  if (v.good == 0) {
    if (!v.no_pubkey.empty()) {
      return make_error(ErrorCode::kUntrusted,
                        "{}: signed by key {}, which is not in the signed-by keyring {}; check that signed-by "
                        "names this repository's key",
                        what, join(v.no_pubkey), keyring_name);
    }
    auto err_text = fs::read_text_file(tmp.path() / "stderr", 1u << 16);
    std::string err = err_text ? *err_text : std::string();
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) {
      err.pop_back();
    }
    return make_error(ErrorCode::kBadSignature, "{}: no valid signature{}{}", what, err.empty() ? "" : ": gpgv: ",
                      err);
  }
  if (exit_code != 0 && v.no_pubkey.empty()) {
    // gpgv failed although it reported a good signature and nothing else:
    // do not guess, refuse.
    return make_error(ErrorCode::kBadSignature, "{}: gpgv exited with status {}", what, exit_code);
  }
  // A good signature by a trusted key, and possibly others by keys we do not
  // hold (archives are often signed by several keys): accepted, as apt does.
  if (detached_signature) {
    return std::string(data);
  }
  return fs::read_text_file(out_path, 256u << 20);
}

}  // namespace airlock::bundler::apt

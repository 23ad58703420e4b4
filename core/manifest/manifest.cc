#include "core/manifest/manifest.h"

#include "core/names/names.h"
#include "core/manifest/command.h"

#include <set>

#include <toml++/toml.h>

#include "core/base/text.h"
#include "core/fs/file.h"

namespace airlock::manifest {

namespace stdfs = std::filesystem;

// One set of rules for names that become layout entries: core/names/names.h.
bool is_valid_name(std::string_view name) { return format::names::is_deployment_name(name); }

bool is_valid_version(std::string_view v) { return format::names::is_version(v); }

bool is_safe_relative_path(std::string_view path) {
  if (path.empty() || path.size() > 4096 || path.front() == '/') {
    return false;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string_view::npos) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

Result<std::int64_t> parse_duration_seconds(std::string_view text) {
  if (text.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "empty duration");
  }
  std::int64_t unit = 1;
  std::string_view digits = text;
  switch (text.back()) {
    case 's': unit = 1; digits.remove_suffix(1); break;
    case 'm': unit = 60; digits.remove_suffix(1); break;
    case 'h': unit = 3600; digits.remove_suffix(1); break;
    case 'd': unit = 86400; digits.remove_suffix(1); break;
    case 'w': unit = 7 * 86400; digits.remove_suffix(1); break;
    default: break;
  }
  if (digits.empty() || digits.size() > 12) {
    return make_error(ErrorCode::kInvalidArgument, "bad duration '{}' (use e.g. 30s, 15m, 12h, 90d)", text);
  }
  std::int64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return make_error(ErrorCode::kInvalidArgument, "bad duration '{}' (use e.g. 30s, 15m, 12h, 90d)", text);
    }
    n = n * 10 + (c - '0');
  }
  return n * unit;
}

namespace {

class Context {
 public:
  Context(const stdfs::path& path, const stdfs::path& base_dir) : m_path(path), m_base_dir(base_dir) {}
  std::unexpected<Error> fail(std::string_view where, std::string_view what) const {
    return std::unexpected(Error(ErrorCode::kInvalidArgument, fmt::format("{}: {}: {}", m_path.string(), where, what)));
  }
  const stdfs::path& path() const { return m_path; }
  // Where relative sources are found: the manifest's folder, or the working
  // directory for a manifest read from a pipe.
  const stdfs::path& base_dir() const { return m_base_dir; }

 private:
  stdfs::path m_path;
  stdfs::path m_base_dir;
};

Status check_keys(const Context& ctx, const toml::table& table, std::string_view where,
                  const std::set<std::string_view>& allowed) {
  for (const auto& [key, value] : table) {
    if (!allowed.contains(key.str())) {
      return ctx.fail(where, fmt::format("unknown key '{}'", key.str()));
    }
  }
  return ok_status();
}

Result<std::string> get_string(const Context& ctx, const toml::table& t, std::string_view where,
                               std::string_view key, bool required) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    if (required) {
      return ctx.fail(where, fmt::format("missing required key '{}'", key));
    }
    return std::string();
  }
  if (!n->is_string()) {
    return ctx.fail(where, fmt::format("'{}' must be a string", key));
  }
  return std::string(n->as_string()->get());
}

Result<std::vector<std::string>> get_string_array(const Context& ctx, const toml::table& t, std::string_view where,
                                                  std::string_view key) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    return out;
  }
  const toml::array* arr = n->as_array();
  if (arr == nullptr) {
    return ctx.fail(where, fmt::format("'{}' must be an array of strings", key));
  }
  for (const toml::node& e : *arr) {
    if (!e.is_string()) {
      return ctx.fail(where, fmt::format("'{}' must be an array of strings", key));
    }
    out.emplace_back(e.as_string()->get());
  }
  return out;
}

Result<bool> get_bool(const Context& ctx, const toml::table& t, std::string_view where, std::string_view key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    return false;
  }
  if (!n->is_boolean()) {
    return ctx.fail(where, fmt::format("'{}' must be true or false", key));
  }
  return n->as_boolean()->get();
}

Result<ModelSpec> parse_model(const Context& ctx, const toml::table& t) {
  TRY(check_keys(ctx, t, "[model]", {"source", "revision", "include", "exclude", "allow_pickle", "allow_remote_code"}));
  ModelSpec m;
  ASSIGN_OR_RETURN(m.source, get_string(ctx, t, "[model]", "source", true));
  ASSIGN_OR_RETURN(std::string rev, get_string(ctx, t, "[model]", "revision", false));
  if (!rev.empty()) {
    m.revision = rev;
  }
  ASSIGN_OR_RETURN(m.include, get_string_array(ctx, t, "[model]", "include"));
  ASSIGN_OR_RETURN(m.exclude, get_string_array(ctx, t, "[model]", "exclude"));
  ASSIGN_OR_RETURN(m.allow_pickle, get_bool(ctx, t, "[model]", "allow_pickle"));
  ASSIGN_OR_RETURN(m.allow_remote_code, get_bool(ctx, t, "[model]", "allow_remote_code"));
  if (m.is_hub()) {
    std::string_view repo = std::string_view(m.source).substr(5);
    const std::size_t slash = repo.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == repo.size() ||
        repo.find('/', slash + 1) != std::string_view::npos) {
      return ctx.fail("[model]", fmt::format("source '{}': expected hf://ORG/NAME", m.source));
    }
    return m;
  }
  if (m.revision) {
    return ctx.fail("[model]", "'revision' applies to hf:// sources only");
  }
  if (m.source.find("://") != std::string::npos) {
    return ctx.fail("[model]", fmt::format("source '{}': unknown scheme (use hf://ORG/NAME or a local directory)", m.source));
  }
  stdfs::path p = m.source;
  if (p.is_relative()) {
    p = ctx.base_dir() / p;
  }
  std::error_code ec;
  if (!stdfs::is_directory(p, ec)) {
    return std::unexpected(Error(ErrorCode::kNotFound,
        fmt::format("{}: [model] source '{}': no such directory ({})", ctx.path().string(), m.source, p.string())));
  }
  m.source = p.lexically_normal().string();
  return m;
}

Result<ActivateSpec> parse_activate(const Context& ctx, const toml::table& t) {
  TRY(check_keys(ctx, t, "[activate]", {"run", "health", "timeout", "shell"}));
  ActivateSpec a;
  ASSIGN_OR_RETURN(a.run, get_string_array(ctx, t, "[activate]", "run"));
  ASSIGN_OR_RETURN(std::string health, get_string(ctx, t, "[activate]", "health", false));
  if (!health.empty()) {
    a.health = health;
  }
  ASSIGN_OR_RETURN(std::string timeout, get_string(ctx, t, "[activate]", "timeout", false));
  if (!timeout.empty()) {
    auto secs = parse_duration_seconds(timeout);
    if (!secs) {
      return ctx.fail("[activate] timeout", secs.error().message());
    }
    a.timeout_seconds = static_cast<std::uint32_t>(*secs);
  }
  if (const toml::node* s = t.get("shell")) {
    if (!s->is_boolean()) {
      return ctx.fail("[activate]", "'shell' must be true or false");
    }
    a.shell = s->as_boolean()->get();
  }
  // Run directly, each command must split into words now, not on the isolated side.
  for (std::size_t i = 0; i < a.run.size() + (a.health ? 1 : 0); ++i) {
    const std::string& cmd = i < a.run.size() ? a.run[i] : *a.health;
    std::string key = i < a.run.size() ? fmt::format("[activate] run[{}]", i) : std::string("[activate] health");
    if (a.shell) {
      if (cmd.find_first_not_of(" \t\n") == std::string::npos) {
        return ctx.fail(key, "is empty");
      }
      continue;
    }
    if (auto words = split_command(cmd); !words) {
      return ctx.fail(key, words.error().message());
    }
  }
  return a;
}

stdfs::path resolve_local(const Context& ctx, const std::string& p) {
  return stdfs::path(p).is_relative() ? ctx.base_dir() / p : stdfs::path(p);
}

Status check_url(const Context& ctx, std::string_view where, std::string_view key, std::string_view url) {
  if (!url.starts_with("https://") && !url.starts_with("http://")) {
    return ctx.fail(where, fmt::format("{} '{}' must be an http:// or https:// URL", key, url));
  }
  return ok_status();
}

Result<ImageSpec> parse_image(const Context& ctx, const toml::table& t, std::size_t index) {
  std::string where = fmt::format("[[image]] #{}", index + 1);
  TRY(check_keys(ctx, t, where, {"ref", "platform", "insecure"}));
  ImageSpec s;
  ASSIGN_OR_RETURN(s.ref, get_string(ctx, t, where, "ref", true));
  ASSIGN_OR_RETURN(std::string platform, get_string(ctx, t, where, "platform", false));
  if (!platform.empty()) {
    s.platform = platform;
  }
  const std::size_t slash = s.platform.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == s.platform.size()) {
    return ctx.fail(where, fmt::format("platform '{}' must be OS/ARCH or OS/ARCH/VARIANT, e.g. linux/amd64", s.platform));
  }
  if (s.ref.empty() || s.ref.find_first_of(" \t\n") != std::string::npos) {
    return ctx.fail(where, fmt::format("ref '{}' is not an image reference", s.ref));
  }
  ASSIGN_OR_RETURN(s.insecure, get_bool(ctx, t, where, "insecure"));
  return s;
}

Result<AptSpec> parse_apt(const Context& ctx, const toml::table& t, std::size_t index) {
  std::string where = fmt::format("[[deb]] #{}", index + 1);
  TRY(check_keys(ctx, t, where, {"repo", "suite", "components", "packages", "architecture", "signed-by", "insecure"}));
  AptSpec s;
  ASSIGN_OR_RETURN(std::string repo, get_string(ctx, t, where, "repo", true));
  // "URL", or as in a sources.list line: "URL SUITE [COMPONENT...]".
  std::vector<std::string_view> words = text::split_words(repo, " \t");
  if (words.empty()) {
    return ctx.fail(where, "repo is empty");
  }
  s.repo = words[0];
  TRY(check_url(ctx, where, "repo", s.repo));
  ASSIGN_OR_RETURN(std::string suite, get_string(ctx, t, where, "suite", false));
  ASSIGN_OR_RETURN(s.components, get_string_array(ctx, t, where, "components"));
  if (words.size() > 1) {
    if (!suite.empty() || !s.components.empty()) {
      return ctx.fail(where, "give the suite and components either in 'repo' or as 'suite'/'components', not both");
    }
    suite = words[1];
    s.components.assign(words.begin() + 2, words.end());
  }
  if (suite == "./" || suite == "/") {
    suite.clear();  // "URL ./": a flat repository
  }
  s.suite = suite;
  if (s.suite.empty() && !s.components.empty()) {
    return ctx.fail(where, "a flat repository (no suite) has no components");
  }
  if (!s.suite.empty() && s.components.empty()) {
    s.components.push_back("main");
  }
  if (!s.repo.ends_with('/')) {
    s.repo += '/';
  }
  ASSIGN_OR_RETURN(s.packages, get_string_array(ctx, t, where, "packages"));
  if (s.packages.empty()) {
    return ctx.fail(where, "'packages' must list at least one package (NAME or NAME=VERSION)");
  }
  for (const std::string& p : s.packages) {
    if (p.empty() || p.front() == '=' || p.find_first_of(" \t,|") != std::string::npos) {
      return ctx.fail(where, fmt::format("package '{}' must be NAME or NAME=VERSION", p));
    }
  }
  ASSIGN_OR_RETURN(std::string arch, get_string(ctx, t, where, "architecture", false));
  if (!arch.empty()) {
    s.architecture = arch;
  }
  ASSIGN_OR_RETURN(std::string keyring, get_string(ctx, t, where, "signed-by", false));
  if (!keyring.empty()) {
    s.signed_by = resolve_local(ctx, keyring);
    std::error_code ec;
    if (!stdfs::is_regular_file(*s.signed_by, ec)) {
      return std::unexpected(Error(ErrorCode::kNotFound, fmt::format("{}: {}: signed-by '{}': no such keyring ({})",
          ctx.path().string(), where, keyring, s.signed_by->string())));
    }
  }
  ASSIGN_OR_RETURN(s.insecure, get_bool(ctx, t, where, "insecure"));
  return s;
}

Result<WheelsSpec> parse_wheels(const Context& ctx, const toml::table& t, std::size_t index) {
  std::string where = fmt::format("[[wheels]] #{}", index + 1);
  TRY(check_keys(ctx, t, where, {"index", "requirements", "insecure"}));
  WheelsSpec s;
  ASSIGN_OR_RETURN(s.index, get_string(ctx, t, where, "index", true));
  TRY(check_url(ctx, where, "index", s.index));
  if (!s.index.ends_with('/')) {
    s.index += '/';
  }
  ASSIGN_OR_RETURN(std::string req, get_string(ctx, t, where, "requirements", true));
  s.requirements = resolve_local(ctx, req);
  std::error_code ec;
  if (!stdfs::is_regular_file(s.requirements, ec)) {
    return std::unexpected(Error(ErrorCode::kNotFound, fmt::format("{}: {}: requirements '{}': no such file ({})",
        ctx.path().string(), where, req, s.requirements.string())));
  }
  ASSIGN_OR_RETURN(s.insecure, get_bool(ctx, t, where, "insecure"));
  return s;
}

template <typename Spec, typename Parse>
Status parse_array(const Context& ctx, const toml::table& root, std::string_view key, std::vector<Spec>& out,
                   Parse parse) {
  const toml::node* n = root.get(key);
  if (n == nullptr) {
    return ok_status();
  }
  const toml::array* arr = n->as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    return ctx.fail(fmt::format("[[{}]]", key), "must be an array of tables");
  }
  for (std::size_t i = 0; i < arr->size(); ++i) {
    ASSIGN_OR_RETURN(Spec s, parse(ctx, *arr->get(i)->as_table(), i));
    out.push_back(std::move(s));
  }
  return ok_status();
}

Result<FilesSpec> parse_files(const Context& ctx, const toml::table& t, std::size_t index) {
  std::string where = fmt::format("[[files]] #{}", index + 1);
  TRY(check_keys(ctx, t, where, {"source", "dest"}));
  FilesSpec f;
  ASSIGN_OR_RETURN(std::string source, get_string(ctx, t, where, "source", true));
  ASSIGN_OR_RETURN(f.dest, get_string(ctx, t, where, "dest", true));
  if (!is_safe_relative_path(f.dest)) {
    return ctx.fail(where, fmt::format("dest '{}' must be a relative path without '..'", f.dest));
  }
  for (std::string_view reserved : {"model", "images", "debs", "wheels"}) {
    if (f.dest == reserved || f.dest.starts_with(std::string(reserved) + "/")) {
      return ctx.fail(where, fmt::format("dest '{}' is reserved for the {} files", f.dest,
                                         reserved == "model" ? "[model]" : reserved == "images" ? "[[image]]"
                                         : reserved == "debs" ? "[[deb]]" : "[[wheels]]"));
    }
  }
  f.source = stdfs::path(source).is_relative() ? ctx.base_dir() / source : stdfs::path(source);
  std::error_code ec;
  if (!stdfs::exists(f.source, ec)) {
    return std::unexpected(Error(ErrorCode::kNotFound,
        fmt::format("{}: {}: source '{}' does not exist ({})", ctx.path().string(), where, source, f.source.string())));
  }
  return f;
}

}  // namespace

Result<Manifest> parse_manifest_text(std::string_view text, const stdfs::path& path) {
  return parse_manifest_text(text, path, path.parent_path());
}

Result<Manifest> parse_manifest_text(std::string_view text, const stdfs::path& path, const stdfs::path& base_dir) {
  Context ctx(path, base_dir);
  toml::table root;
  try {
    root = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    return ctx.fail(fmt::format("line {}", e.source().begin.line), std::string(e.description()));
  }
  TRY(check_keys(ctx, root, "top level", {"deployment", "model", "image", "deb", "wheels", "files", "activate"}));
  Manifest m;
  m.path = path;
  const toml::table* dep = root["deployment"].as_table();
  if (dep == nullptr) {
    return ctx.fail("[deployment]", "missing table");
  }
  TRY(check_keys(ctx, *dep, "[deployment]", {"name", "version"}));
  ASSIGN_OR_RETURN(m.name, get_string(ctx, *dep, "[deployment]", "name", true));
  ASSIGN_OR_RETURN(m.version, get_string(ctx, *dep, "[deployment]", "version", true));
  if (!is_valid_name(m.name)) {
    return ctx.fail("[deployment] name", fmt::format("'{}' is not a valid name (use [a-z0-9._-]+, not starting with '.', without '.tmp-')", m.name));
  }
  if (!is_valid_version(m.version)) {
    return ctx.fail("[deployment] version", fmt::format("'{}' is not a valid version (use [A-Za-z0-9._+-]+, not starting with '.', without '.tmp-', not 'current': the installer keeps those names beside the versions)", m.version));
  }
  if (const toml::node* model = root.get("model")) {
    if (!model->is_table()) {
      return ctx.fail("[model]", "must be a table (at most one model per deployment)");
    }
    ASSIGN_OR_RETURN(ModelSpec spec, parse_model(ctx, *model->as_table()));
    m.model = std::move(spec);
  }
  if (const toml::node* files = root.get("files")) {
    const toml::array* arr = files->as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
      return ctx.fail("[[files]]", "must be an array of tables");
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      ASSIGN_OR_RETURN(FilesSpec f, parse_files(ctx, *arr->get(i)->as_table(), i));
      m.files.push_back(std::move(f));
    }
  }
  if (const toml::node* act = root.get("activate")) {
    if (!act->is_table()) {
      return ctx.fail("[activate]", "must be a table");
    }
    ASSIGN_OR_RETURN(ActivateSpec a, parse_activate(ctx, *act->as_table()));
    m.activate = std::move(a);
  }
  TRY(parse_array(ctx, root, "image", m.images, parse_image));
  TRY(parse_array(ctx, root, "deb", m.apt, parse_apt));
  TRY(parse_array(ctx, root, "wheels", m.wheels, parse_wheels));
  if (!m.model && m.files.empty() && m.images.empty() && m.apt.empty() && m.wheels.empty()) {
    return ctx.fail("manifest", "nothing to ship: add a [model], [[image]], [[deb]], [[wheels]] or [[files]]");
  }
  return m;
}

Result<Manifest> parse_manifest(const stdfs::path& path) {
  ASSIGN_OR_RETURN(std::string text, fs::read_text_file(path, 1 << 20));
  return parse_manifest_text(text, path);
}

}  // namespace airlock::manifest

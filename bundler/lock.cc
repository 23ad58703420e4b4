#include "bundler/lock.h"

#include "bundler/sources/sources.h"
#include "core/base/text.h"
#include "core/fs/file.h"

namespace airlock::bundler {

namespace stdfs = std::filesystem;
using json = nlohmann::json;

namespace {

bool is_local(const LockedFile& f) { return !f.is_remote() && !f.is_inline(); }

bool is_sha256(const std::string& s) { return text::is_lower_hex(s, 64); }

}  // namespace

json lock_to_json(const Lock& lock, const stdfs::path& lock_dir) {
  json sources = json::array();
  for (const LockedSource& s : lock.sources) {
    json files = json::array();
    for (const LockedFile& f : s.files) {
      json jf = {{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}, {"mode", fmt::format("{:04o}", f.mode)}};
      if (is_local(f)) {
        stdfs::path p = stdfs::path(f.origin);
        stdfs::path rel = p.lexically_relative(stdfs::absolute(lock_dir).lexically_normal());
        jf["origin"] = (!rel.empty() && !rel.string().starts_with("..")) ? rel.string() : p.string();
      } else {
        jf["origin"] = f.origin;
      }
      if (f.is_inline()) {
        jf["content"] = f.content;
      }
      if (!f.extra.empty()) {
        jf["extra"] = f.extra;
      }
      files.push_back(std::move(jf));
    }
    sources.push_back({{"kind", s.kind}, {"identity", s.identity}, {"files", std::move(files)}});
  }
  return json{{"airlock_lock", k_lock_version},
              {"deployment", {{"name", lock.name}, {"version", lock.version}}},
              {"activate", lock.activate},
              {"sources", std::move(sources)}};
}

Result<Lock> lock_from_json(const json& j, const stdfs::path& lock_dir, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return std::unexpected(Error(ErrorCode::kInvalidArgument, fmt::format("{}: not a valid lock: {}", what, why)));
  };
  if (!j.is_object() || !j.contains("airlock_lock")) {
    return bad("no 'airlock_lock' version (make one with 'airlock-bundler lock MANIFEST -o LOCK')");
  }
  if (!j["airlock_lock"].is_number_integer() || j["airlock_lock"].get<int>() != k_lock_version) {
    return std::unexpected(Error(ErrorCode::kUnsupported,
        fmt::format("{}: lock version {} is not supported (this bundler reads version {})", what,
                    j["airlock_lock"].dump(), k_lock_version)));
  }
  Lock lock;
  try {
    lock.name = j.at("deployment").at("name").get<std::string>();
    lock.version = j.at("deployment").at("version").get<std::string>();
    lock.activate = j.value("activate", json());
    if (!manifest::is_valid_name(lock.name) || !manifest::is_valid_version(lock.version)) {
      return bad(fmt::format("deployment '{}' version '{}' is not valid", lock.name, lock.version));
    }
    for (const json& js : j.at("sources")) {
      LockedSource s;
      s.kind = js.at("kind").get<std::string>();
      s.identity = js.value("identity", json::object());
      for (const json& jf : js.at("files")) {
        LockedFile f;
        f.path = jf.at("path").get<std::string>();
        f.origin = jf.at("origin").get<std::string>();
        f.size = jf.at("size").get<std::uint64_t>();
        f.sha256 = jf.at("sha256").get<std::string>();
        const std::string mode = jf.value("mode", std::string("0644"));
        f.mode = static_cast<std::uint32_t>(std::stoul(mode, nullptr, 8)) & 0777;
        f.extra = jf.value("extra", json::object());
        if (f.is_inline()) {
          f.content = jf.at("content").get<std::string>();
          if (f.content.size() != f.size) {
            return bad(fmt::format("{}: inline content is not {} bytes", f.path, f.size));
          }
        } else if (is_local(f) && stdfs::path(f.origin).is_relative()) {
          f.origin = (lock_dir / f.origin).lexically_normal().string();
        }
        if (!manifest::is_safe_relative_path(f.path)) {
          return bad(fmt::format("file path '{}' is not a safe relative path", f.path));
        }
        if (!is_sha256(f.sha256)) {
          return bad(fmt::format("{}: sha256 '{}' is not 64 lowercase hex digits", f.path, f.sha256));
        }
        s.files.push_back(std::move(f));
      }
      lock.sources.push_back(std::move(s));
    }
  } catch (const std::exception& e) {
    return bad(e.what());
  }
  return lock;
}

Status write_lock(const Lock& lock, const stdfs::path& path) {
  const std::string text = lock_to_json(lock, stdfs::absolute(path).parent_path()).dump(2) + "\n";
  return fs::write_file_atomic(path, ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), 0644);
}

json sources_for_payload(const Lock& lock) {
  json out = json::array();
  for (const LockedSource& s : lock.sources) {
    json files = json::array();
    for (const LockedFile& f : s.files) {
      json jf = {{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}};
      if (f.is_remote()) {
        jf["origin"] = f.origin;
      }
      if (!f.extra.empty()) {
        jf["extra"] = f.extra;
      }
      files.push_back(std::move(jf));
    }
    out.push_back({{"kind", s.kind}, {"identity", payload_identity(s)}, {"files", std::move(files)}});
  }
  return out;
}

namespace {

bool text_looks_like_lock(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      return c == '{';
    }
  }
  return false;
}

}  // namespace

Result<InputText> read_input(const stdfs::path& path, std::uint64_t max_bytes) {
  // Sequential reads until EOF, never a size from fstat and pread: that is
  // what works for a pipe as well as for a file.
  ASSIGN_OR_RETURN(fs::File file, fs::File::open_read(path));
  InputText in;
  in.path = path;
  Bytes buffer(64 * 1024);
  for (;;) {
    ASSIGN_OR_RETURN(std::size_t n, file.read_some(buffer));
    if (n == 0) {
      break;
    }
    if (in.text.size() + n > max_bytes) {
      return make_error(ErrorCode::kInvalidArgument, "{}: too large (more than {} bytes)", path.string(), max_bytes);
    }
    in.text.append(reinterpret_cast<const char*>(buffer.data()), n);
  }
  in.is_lock = path.extension() == ".json" || text_looks_like_lock(in.text);
  std::error_code ec;
  if (stdfs::is_regular_file(path, ec)) {
    in.base_dir = path.parent_path();
  } else {
    in.base_dir = stdfs::current_path(ec);
  }
  return in;
}

Result<Lock> lock_from_input(const InputText& in) {
  json j = json::parse(in.text, nullptr, false);
  if (j.is_discarded()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: not valid JSON", in.path.string());
  }
  std::error_code ec;
  const stdfs::path dir = in.base_dir.empty() ? stdfs::current_path(ec) : stdfs::absolute(in.base_dir, ec);
  return lock_from_json(j, dir, in.path.string());
}

}  // namespace airlock::bundler

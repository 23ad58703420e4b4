#include "core/format/sources.h"

#include <fmt/format.h>

#include "core/base/text.h"
#include "core/names/names.h"
#include "core/manifest/manifest.h"

namespace airlock::format {

using nlohmann::json;

namespace {

enum class Type { kString, kText, kBool, kUnsigned, kStrings, kObjects, kObject };

const char* type_name(Type t) {
  switch (t) {
    case Type::kString: return "a string without control characters";
    case Type::kText: return "a string without NUL";
    case Type::kBool: return "a boolean";
    case Type::kUnsigned: return "an unsigned integer";
    case Type::kStrings: return "an array of strings";
    case Type::kObjects: return "an array of objects";
    case Type::kObject: return "an object";
  }
  return "?";
}

bool has_type(const json& v, Type t) {
  switch (t) {
    case Type::kString: return v.is_string() && names::has_no_control(v.get_ref<const std::string&>());
    case Type::kText: return v.is_string() && v.get_ref<const std::string&>().find('\0') == std::string::npos;
    case Type::kBool: return v.is_boolean();
    case Type::kUnsigned: return v.is_number_unsigned();
    case Type::kStrings:
      return v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) {
               return e.is_string() && names::has_no_control(e.get_ref<const std::string&>());
             });
    case Type::kObjects: return v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_object(); });
    case Type::kObject: return v.is_object();
  }
  return false;
}

using Fields = std::map<std::string, Type, std::less<>>;

// The fields the bundler writes (bundler/lock.cc, bundler/sources/*.cc).
const Fields k_source_fields = {{"kind", Type::kString}, {"identity", Type::kObject}, {"files", Type::kObjects}};
const Fields k_identity_fields = {
    {"source", Type::kString},        {"repo", Type::kString},          {"revision", Type::kString},
    {"commit", Type::kString},        {"endpoint", Type::kString},      {"ref", Type::kString},
    {"registry", Type::kString},      {"repository", Type::kString},    {"platform", Type::kString},
    {"digest", Type::kString},        {"media_type", Type::kString},    {"tag", Type::kString},
    {"requested_digest", Type::kString}, {"index_digest", Type::kString}, {"suite", Type::kString},
    {"architecture", Type::kString},  {"index", Type::kString},         {"dest", Type::kString},
    {"insecure", Type::kBool},        {"signed", Type::kBool},          {"size", Type::kUnsigned},
    {"refs", Type::kStrings},         {"components", Type::kStrings},   {"requested", Type::kStrings},
    {"packages", Type::kObjects},     {"requirements", Type::kObjects}};
const Fields k_file_fields = {{"path", Type::kString},   {"size", Type::kUnsigned}, {"sha256", Type::kString},
                              {"origin", Type::kString}, {"mode", Type::kString},   {"content", Type::kText},
                              {"extra", Type::kObject}};
const Fields k_extra_fields = {{"lfs", Type::kBool},          {"blob", Type::kString},    {"git_sha1", Type::kString},
                               {"control", Type::kText},      {"architecture", Type::kString},
                               {"package", Type::kString},    {"version", Type::kString}, {"needed_by", Type::kString},
                               {"role", Type::kString},       {"media_type", Type::kString},
                               {"requirement", Type::kString}};

class Decoder {
 public:
  explicit Decoder(std::string where) : m_where(std::move(where)) {}

  std::unexpected<Error> fail(std::string_view what) const {
    return std::unexpected(Error(ErrorCode::kCorruption, fmt::format("{}: {}", m_where, what)));
  }

  // Every known field present in obj has its type.
  Status check(const json& obj, const Fields& known, std::string_view prefix) const {
    for (const auto& [key, value] : obj.items()) {
      auto it = known.find(key);
      if (it != known.end() && !has_type(value, it->second)) {
        return fail(fmt::format("{}{} must be {}", prefix, key, type_name(it->second)));
      }
    }
    return ok_status();
  }

 private:
  std::string m_where;
};

std::string str(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? std::string() : it->get<std::string>();
}

bool is_debian_arch(std::string_view a) {
  return !a.empty() && a.size() <= 64 &&
         std::all_of(a.begin(), a.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

// "DIR/NAME" with NAME a valid file name of ROOT/DIR.
bool is_flat_target(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() + 1 && path.starts_with(dir) && path[dir.size()] == '/' &&
         names::is_target_file_name(path.substr(dir.size() + 1));
}

Result<Source> decode_one(const json& js, std::size_t index, const std::map<std::string, ListedFile>& listed) {
  if (!js.is_object()) {
    return Decoder(fmt::format("sources[{}]", index)).fail("must be an object");
  }
  auto kind_it = js.find("kind");
  if (kind_it == js.end() || !kind_it->is_string() || kind_it->get_ref<const std::string&>().empty()) {
    return Decoder(fmt::format("sources[{}]", index)).fail("kind must be a non-empty string");
  }
  Source s;
  s.kind = kind_it->get<std::string>();
  const Decoder d(fmt::format("sources[{}] ({})", index, names::printable(s.kind)));
  TRY(d.check(js, k_source_fields, ""));
  const json empty = json::object();
  const json& id = js.contains("identity") ? js["identity"] : empty;
  TRY(d.check(id, k_identity_fields, "identity."));
  s.identity.repo = str(id, "repo");
  s.identity.commit = str(id, "commit");
  s.identity.revision = str(id, "revision");
  s.identity.ref = str(id, "ref");
  s.identity.digest = str(id, "digest");
  s.identity.dest = str(id, "dest");
  if (id.contains("refs")) {
    s.identity.refs = id["refs"].get<std::vector<std::string>>();
  }

  if (s.kind == "model") {
    if (!s.identity.repo.empty() && !names::is_hf_repo(s.identity.repo)) {
      return d.fail(fmt::format("identity.repo '{}' is not a Hugging Face repo id (ORG/NAME)",
                                names::printable(s.identity.repo)));
    }
    if (!s.identity.repo.empty() && !names::is_hf_commit(s.identity.commit)) {
      return d.fail(fmt::format("identity.commit '{}' is not a commit (40 lowercase hex digits)",
                                names::printable(s.identity.commit)));
    }
    if (id.contains("revision") && !names::is_hf_revision(s.identity.revision)) {
      return d.fail(fmt::format("identity.revision '{}' cannot be a ref of the HF cache (components of "
                                "[A-Za-z0-9._-], none starting with '.', and nothing below 'main')",
                                names::printable(s.identity.revision)));
    }
    if (s.identity.revision.empty()) {
      s.identity.revision = "main";
    }
  } else if (s.kind == "image") {
    if (!names::is_image_ref(s.identity.ref)) {
      return d.fail(fmt::format("identity.ref '{}' is not an image reference", names::printable(s.identity.ref)));
    }
    for (const char* key : {"digest", "requested_digest", "index_digest"}) {
      if (id.contains(key) && !names::is_sha256_digest(id[key].get_ref<const std::string&>())) {
        return d.fail(fmt::format("identity.{} '{}' is not sha256:<64 hex>", key,
                                  names::printable(id[key].get_ref<const std::string&>())));
      }
    }
  } else if (s.kind == "oci-layout") {
    for (const std::string& ref : s.identity.refs) {
      if (!names::is_image_ref(ref)) {
        return d.fail(fmt::format("identity.refs holds '{}', which is not an image reference", names::printable(ref)));
      }
    }
  } else if (s.kind == "files") {
    if (id.contains("dest") && !manifest::is_safe_relative_path(s.identity.dest)) {
      return d.fail(fmt::format("identity.dest '{}' is not a safe relative path", names::printable(s.identity.dest)));
    }
  }

  if (!js.contains("files")) {
    return s;
  }
  std::size_t i = 0;
  for (const json& jf : js["files"]) {
    const std::string at = fmt::format("files[{}].", i++);
    TRY(d.check(jf, k_file_fields, at));
    if (!jf.contains("path")) {
      return d.fail(at + "path is missing");
    }
    SourceFile f;
    f.path = jf["path"].get<std::string>();
    auto it = listed.find(f.path);
    if (it == listed.end()) {
      return d.fail(fmt::format("{}path '{}' is not a file of the bundle", at, names::printable(f.path)));
    }
    f.sha256 = str(jf, "sha256");
    f.origin = str(jf, "origin");
    if (jf.contains("size")) {
      f.size = jf["size"].get<std::uint64_t>();
    }
    if ((!f.sha256.empty() && f.sha256 != it->second.sha256) || (f.size && *f.size != it->second.size)) {
      return d.fail(fmt::format("{}path '{}': size or sha256 differs from the bundle's file", at, f.path));
    }
    const json& extra = jf.contains("extra") ? jf["extra"] : empty;
    TRY(d.check(extra, k_extra_fields, at + "extra."));
    f.lfs = extra.contains("lfs") && extra["lfs"].get<bool>();
    f.blob = str(extra, "blob");
    f.control = str(extra, "control");
    f.architecture = str(extra, "architecture");
    if (s.kind == "model") {
      if (!f.path.starts_with("model/")) {
        return d.fail(fmt::format("{}path '{}' is not under model/", at, f.path));
      }
      if (s.is_hub_model()) {
        if (!extra.contains("lfs")) {
          return d.fail(fmt::format("{}extra.lfs is missing ('{}' of a Hub model)", at, f.path));
        }
        // The HF cache names the blob by its SHA-256 (LFS) or git blob SHA-1.
        const std::string& blob = f.lfs ? it->second.sha256 : f.blob;
        if (!text::is_lower_hex(blob, f.lfs ? 64 : 40)) {
          return d.fail(fmt::format("{}extra.blob '{}' of '{}' is not a git blob id", at, names::printable(blob), f.path));
        }
        f.blob = blob;
      }
    } else if (s.kind == "deb") {
      if (!is_flat_target(f.path, "debs") || !f.path.ends_with(".deb")) {
        return d.fail(fmt::format("{}path '{}' is not debs/NAME.deb", at, names::printable(f.path)));
      }
      if (extra.contains("architecture") && !is_debian_arch(f.architecture)) {
        return d.fail(fmt::format("{}extra.architecture '{}' is not a Debian architecture", at,
                                  names::printable(f.architecture)));
      }
    } else if (s.kind == "wheels") {
      if (!is_flat_target(f.path, "wheels")) {
        return d.fail(fmt::format("{}path '{}' is not wheels/NAME", at, names::printable(f.path)));
      }
    }
    s.files.push_back(std::move(f));
  }
  return s;
}

}  // namespace

Result<std::vector<Source>> decode_sources(const json& sources, const std::map<std::string, ListedFile>& files) {
  std::vector<Source> out;
  if (sources.is_null()) {
    return out;
  }
  if (!sources.is_array()) {
    return make_error(ErrorCode::kCorruption, "sources must be an array");
  }
  for (std::size_t i = 0; i < sources.size(); ++i) {
    ASSIGN_OR_RETURN(Source s, decode_one(sources[i], i, files));
    out.push_back(std::move(s));
  }
  return out;
}

const Source* find_source(const std::vector<Source>& sources, std::string_view kind) {
  for (const Source& s : sources) {
    if (s.kind == kind) {
      return &s;
    }
  }
  return nullptr;
}

}  // namespace airlock::format

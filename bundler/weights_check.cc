#include "bundler/weights_check.h"

#include <fmt/core.h>

#include "core/fs/file.h"
#include "core/safetensors/safetensors.h"
#include "core/safetensors/weights.h"

namespace airlock::bundler {
namespace {

namespace stdfs = std::filesystem;
using json = nlohmann::json;

constexpr std::uint64_t k_max_config_bytes = 16u << 20;

std::string file_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool pickle_named(std::string_view name) {
  for (std::string_view ext : {".bin", ".pt", ".pth", ".ckpt", ".pkl"}) {
    if (name.ends_with(ext)) {
      return true;
    }
  }
  return false;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    out += (out.empty() ? "" : "; ") + p;
  }
  return out;
}

bool is_config_json(std::string_view name) { return name == "config.json" || name.ends_with("_config.json"); }

struct Findings {
  json pickle = json::array();
  json remote_code = json::array();
  json gguf = json::array();
  std::vector<std::string> broken;  // always refused
};

void add(json& list, const std::string& path, const std::string& why) {
  list.push_back(json{{"path", path}, {"why", why}});
}

// One file read from this machine.
Status scan_local(const LockedFile& f, const stdfs::path& where, Findings& out) {
  const std::string name = file_name(f.path);
  ASSIGN_OR_RETURN(fs::File file, fs::File::open_read(where));
  ASSIGN_OR_RETURN(std::uint64_t size, file.size());
  Bytes head(static_cast<std::size_t>(std::min<std::uint64_t>(size, 16)));
  TRY(file.pread_exact(head, 0));
  const weights::ReadAt read = [&file](std::span<std::uint8_t> buf, std::uint64_t offset) {
    return file.pread_exact(buf, offset);
  };
  bool known_safe = false;
  if (name.ends_with(".safetensors")) {
    Bytes prefix;
    if (size >= 8) {
      const std::uint64_t n = get_u64le(head.data());
      if (n <= 100'000'000 && n <= size - 8) {
        prefix.resize(static_cast<std::size_t>(8 + n));
        TRY(file.pread_exact(prefix, 0));
      } else {
        prefix.assign(head.begin(), head.begin() + 8);
      }
    }
    if (Status st = chunk::validate_safetensors(prefix, size); !st) {
      out.broken.push_back(fmt::format("{}: {}", f.path, st.error().message()));
      return ok_status();
    }
    known_safe = true;
  }
  if (weights::is_gguf(head)) {
    auto info = weights::parse_gguf(read, size);
    if (!info) {
      out.broken.push_back(fmt::format("{}: {}", f.path, info.error().message()));
      return ok_status();
    }
    json types = json::object();
    for (const auto& [type, count] : info->tensor_types) {
      types[type] = count;
    }
    json entry = {{"path", f.path}, {"version", info->version}, {"quantization", info->quantization},
                  {"tensors", info->tensor_count}, {"tensor_types", std::move(types)}};
    if (info->file_type) {
      entry["file_type"] = *info->file_type;
    }
    out.gguf.push_back(std::move(entry));
    known_safe = true;
  }
  if (auto sig = weights::pickle_signature(head)) {
    add(out.pickle, f.path, *sig);
  } else if (weights::is_zip(head)) {
    if (auto entry = weights::zip_pickle_entry(read, size)) {
      add(out.pickle, f.path, fmt::format("torch.save zip (holds {})", *entry));
    } else if (pickle_named(name)) {
      add(out.pickle, f.path, "a zip named like pickle weights");
    }
  } else if (!known_safe && pickle_named(name)) {
    add(out.pickle, f.path, "named like pickle weights and no known safe format");
  }
  if (is_config_json(name) && size <= k_max_config_bytes) {
    ASSIGN_OR_RETURN(std::string text, fs::read_text_file(where, k_max_config_bytes));
    const json config = json::parse(text, nullptr, false);
    if (config.is_object() && config.contains("auto_map")) {
      add(out.remote_code, f.path, fmt::format("auto_map in {}", name));
    }
  }
  return ok_status();
}

Status check_source(LockedSource& source, const LocalFiles& local, std::string_view what) {
  const bool allow_pickle = source.identity.value("allow_pickle", false);
  const bool allow_remote_code = source.identity.value("allow_remote_code", false);
  Findings found;
  for (const LockedFile& f : source.files) {
    const std::string name = file_name(f.path);
    if (name.ends_with(".py")) {
      add(found.remote_code, f.path, "Python file");
    }
    auto it = local.find(f.path);
    if (it != local.end()) {
      if (Status st = scan_local(f, it->second, found); !st) {
        return std::unexpected(Error(st.error()).with_context(fmt::format("{}: {}", what, f.path)));
      }
    } else if (pickle_named(name)) {
      add(found.pickle, f.path, "named like pickle weights");
    }
  }
  std::vector<std::string> refused = found.broken;
  if (!allow_pickle) {
    for (const json& e : found.pickle) {
      refused.push_back(fmt::format("{}: {}: code runs when it is loaded (set allow_pickle = true in [model] to ship "
                                    "it anyway)",
                                    e["path"].get<std::string>(), e["why"].get<std::string>()));
    }
  }
  if (!allow_remote_code) {
    for (const json& e : found.remote_code) {
      refused.push_back(fmt::format("{}: {}: custom code the loader would run with trust_remote_code (set "
                                    "allow_remote_code = true in [model] to ship it anyway)",
                                    e["path"].get<std::string>(), e["why"].get<std::string>()));
    }
  }
  if (!refused.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: [model] refused {} file(s): {}", what, refused.size(),
                      join(refused));
  }
  json record = json::object();
  for (auto [key, list] : {std::pair{"pickle", &found.pickle}, std::pair{"remote_code", &found.remote_code},
                           std::pair{"gguf", &found.gguf}}) {
    if (!list->empty()) {
      record[key] = *list;
    }
  }
  if (record.empty()) {
    source.identity.erase("weights");
  } else {
    source.identity["weights"] = std::move(record);
  }
  return ok_status();
}

}  // namespace

Status check_model_weights(Lock& lock, const LocalFiles& local, std::string_view what) {
  std::vector<LockedSource> checked = lock.sources;
  for (LockedSource& s : checked) {
    if (s.kind == "model") {
      TRY(check_source(s, local, what));
    }
  }
  lock.sources = std::move(checked);
  return ok_status();
}

}  // namespace airlock::bundler

#include "installer/publish/modelpack.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace airlock::installer::modelpack {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool ends_with_any(const std::string& s, std::initializer_list<const char*> suffixes) {
  return std::any_of(suffixes.begin(), suffixes.end(), [&](const char* x) { return s.ends_with(x); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return std::string(s);
}

}  // namespace

std::string media_type_for(std::string_view path) {
  const std::string p = lower(path);
  const std::string base = p.substr(p.rfind('/') == std::string::npos ? 0 : p.rfind('/') + 1);
  if (ends_with_any(p, {".safetensors", ".gguf", ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".onnx", ".h5",
                        ".msgpack", ".tflite", ".npz", ".pb"})) {
    return k_weight_raw;
  }
  if (ends_with_any(p, {".py", ".sh", ".ipynb", ".js", ".ts", ".c", ".cc", ".cpp", ".cu", ".h"})) {
    return k_code_raw;
  }
  if (base.starts_with("readme") || base.starts_with("license") || base.starts_with("licence") ||
      base.starts_with("notice") || base.starts_with("use_policy") || ends_with_any(p, {".md", ".rst", ".pdf"})) {
    return k_doc_raw;
  }
  return k_weight_config_raw;
}

std::optional<TensorStats> safetensors_stats(std::string_view header_json) {
  const nlohmann::json j = nlohmann::json::parse(header_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return std::nullopt;
  }
  TensorStats st;
  for (const auto& [name, t] : j.items()) {
    if (name == "__metadata__") {
      continue;
    }
    if (!t.is_object() || !t.contains("dtype") || !t["dtype"].is_string() || !t.contains("shape") ||
        !t["shape"].is_array()) {
      return std::nullopt;
    }
    std::uint64_t n = 1;
    for (const auto& d : t["shape"]) {
      if (!d.is_number_unsigned()) {
        return std::nullopt;
      }
      const std::uint64_t v = d.get<std::uint64_t>();
      if (v != 0 && n > UINT64_MAX / v) {
        return std::nullopt;
      }
      n *= v;
    }
    st.params += n;
    st.params_by_dtype[t["dtype"].get<std::string>()] += n;
  }
  return st;
}

std::string param_size(std::uint64_t params) {
  struct Scale {
    double value;
    char letter;
  };
  constexpr Scale scales[] = {{1e15, 'Q'}, {1e12, 'T'}, {1e9, 'B'}, {1e6, 'M'}, {1e3, 'K'}};
  for (const Scale& s : scales) {
    const double v = static_cast<double>(params) / s.value;
    if (v >= 1.0 || s.letter == 'K') {
      std::string count = fmt::format("{:.1f}", v);
      if (count.ends_with(".0")) {
        count.resize(count.size() - 2);
      }
      return count + s.letter;
    }
  }
  return "0K";
}

std::string precision(const std::map<std::string, std::uint64_t>& params_by_dtype) {
  std::uint64_t total = 0, best = 0;
  std::string best_dtype;
  for (const auto& [dtype, n] : params_by_dtype) {
    total += n;
    if (n > best) {
      best = n;
      best_dtype = dtype;
    }
  }
  if (total == 0) {
    return "";
  }
  if (static_cast<double>(best) < 0.9 * static_cast<double>(total)) {
    return "mixed";
  }
  static const std::map<std::string, std::string> names = {
      {"BF16", "bf16"},       {"F16", "fp16"},        {"F32", "fp32"}, {"F64", "fp64"},
      {"F8_E4M3", "fp8_e4m3"}, {"F8_E5M2", "fp8_e5m2"}, {"I8", "int8"}, {"U8", "uint8"},
      {"I16", "int16"},       {"I32", "int32"},       {"I64", "int64"}, {"BOOL", "bool"}};
  auto it = names.find(best_dtype);
  return it == names.end() ? lower(best_dtype) : it->second;
}

std::vector<std::string> readme_licenses(std::string_view readme) {
  std::vector<std::string> out;
  if (!readme.starts_with("---")) {
    return out;
  }
  std::size_t pos = readme.find('\n');
  bool in_list = false;
  while (pos != std::string_view::npos && pos < readme.size()) {
    const std::size_t end = readme.find('\n', pos + 1);
    std::string_view line = readme.substr(pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1);
    pos = end;
    if (trim(line) == "---") {
      break;  // the end of the front matter
    }
    if (in_list) {
      const std::string_view t = trim(line);
      if (t.starts_with("- ")) {
        out.push_back(unquote(t.substr(2)));
        continue;
      }
      in_list = false;
    }
    if (line.starts_with("license:")) {
      const std::string_view value = trim(line.substr(8));
      if (value.empty()) {
        in_list = true;
      } else if (value.starts_with('[') && value.ends_with(']')) {
        std::string_view rest = value.substr(1, value.size() - 2);
        while (!rest.empty()) {
          const std::size_t comma = rest.find(',');
          const std::string item = unquote(rest.substr(0, comma));
          if (!item.empty()) out.push_back(item);
          if (comma == std::string_view::npos) break;
          rest.remove_prefix(comma + 1);
        }
      } else {
        out.push_back(unquote(value));
      }
    }
  }
  out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
  return out;
}

}  // namespace airlock::installer::modelpack

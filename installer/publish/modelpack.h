#pragma once
// What `publish` says about a model in CNCF ModelPack v1 terms
// (github.com/modelpack/model-spec; docs/ARCHITECTURE.md "Publish"): the
// media type of each file's raw layer, and the config blob's derived fields
// (parameter count and precision from the safetensors headers, licenses from
// the README's front matter, family and architecture from config.json).
// Pure functions of bytes; installer/publish/publish.cc reads the files.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.h"

namespace airlock::installer::modelpack {

inline constexpr char k_artifact_type[] = "application/vnd.cncf.model.manifest.v1+json";
inline constexpr char k_config_type[] = "application/vnd.cncf.model.config.v1+json";
inline constexpr char k_weight_raw[] = "application/vnd.cncf.model.weight.v1.raw";
inline constexpr char k_weight_config_raw[] = "application/vnd.cncf.model.weight.config.v1.raw";
inline constexpr char k_doc_raw[] = "application/vnd.cncf.model.doc.v1.raw";
inline constexpr char k_code_raw[] = "application/vnd.cncf.model.code.v1.raw";
inline constexpr char k_filepath_annotation[] = "org.cncf.model.filepath";
inline constexpr char k_file_metadata_annotation[] = "org.cncf.model.file.metadata+json";

// By the path in the model repository: weights (safetensors, GGUF, pickle
// formats, ONNX, ...), code (*.py, *.sh, ...), docs (README*, LICENSE*,
// NOTICE*, *.md, ...) and everything else, the files that configure the
// weights (config.json, tokenizer files, chat templates, the shard index).
std::string media_type_for(std::string_view path);

// The parameters and dtypes of one safetensors file, from its header bytes
// (the 8-byte length and the JSON); nullopt when they do not parse.
struct TensorStats {
  std::uint64_t params = 0;
  std::map<std::string, std::uint64_t> params_by_dtype;  // "BF16" -> count
};
std::optional<TensorStats> safetensors_stats(std::string_view header_json);

// "<count><scale>" with at most one decimal: 8030261248 -> "8B", 494032768 -> "494M".
std::string param_size(std::uint64_t params);
// The spec's spelling for the dtype that holds most parameters ("bf16",
// "fp16", "fp32", "int8", ...), "mixed" when no dtype holds 90 % of them.
std::string precision(const std::map<std::string, std::uint64_t>& params_by_dtype);
// `license:` of a README's YAML front matter (a string or a list); empty when none.
std::vector<std::string> readme_licenses(std::string_view readme);

}  // namespace airlock::installer::modelpack

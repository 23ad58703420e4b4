#include "installer/publish/modelpack.h"

#include <catch2/catch.hpp>

namespace airlock::installer::modelpack {
namespace {

TEST_CASE("modelpack: each file's layer media type follows its kind") {
  CHECK(media_type_for("model-00001-of-00004.safetensors") == std::string(k_weight_raw));
  CHECK(media_type_for("qwen2-7b-q4_k_m.gguf") == std::string(k_weight_raw));
  CHECK(media_type_for("pytorch_model.bin") == std::string(k_weight_raw));
  CHECK(media_type_for("original/consolidated.00.pth") == std::string(k_weight_raw));
  CHECK(media_type_for("config.json") == std::string(k_weight_config_raw));
  CHECK(media_type_for("tokenizer.json") == std::string(k_weight_config_raw));
  CHECK(media_type_for("merges.txt") == std::string(k_weight_config_raw));
  CHECK(media_type_for("model.safetensors.index.json") == std::string(k_weight_config_raw));
  CHECK(media_type_for("templates/chat.jinja") == std::string(k_weight_config_raw));
  CHECK(media_type_for("README.md") == std::string(k_doc_raw));
  CHECK(media_type_for("LICENSE") == std::string(k_doc_raw));
  CHECK(media_type_for("USE_POLICY.md") == std::string(k_doc_raw));
  CHECK(media_type_for("modeling_qwen.py") == std::string(k_code_raw));
}

TEST_CASE("modelpack: paramSize is a count with at most one decimal and a scale letter") {
  CHECK(param_size(8'030'261'248) == "8B");
  CHECK(param_size(6'738'415'616) == "6.7B");
  CHECK(param_size(494'032'768) == "494M");
  CHECK(param_size(1'000'000'000'000) == "1T");
  CHECK(param_size(524'224) == "524.2K");
  CHECK(param_size(12) == "0K");
}

TEST_CASE("modelpack: precision is the dtype of nine tenths of the parameters, else mixed") {
  CHECK(precision({{"BF16", 1000}}) == "bf16");
  CHECK(precision({{"F16", 950}, {"F32", 50}}) == "fp16");
  CHECK(precision({{"BF16", 800}, {"F32", 200}}) == "mixed");
  CHECK(precision({{"I8", 10}}) == "int8");
  CHECK(precision({}).empty());
}

TEST_CASE("modelpack: parameter counts come from a safetensors header") {
  auto st = safetensors_stats(R"({"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[4,8],"data_offsets":[0,64]},)"
                              R"("b":{"dtype":"F32","shape":[3],"data_offsets":[64,76]}})");
  REQUIRE(st);
  CHECK(st->params == 35);
  CHECK(st->params_by_dtype.at("BF16") == 32);
  CHECK(st->params_by_dtype.at("F32") == 3);
  CHECK_FALSE(safetensors_stats("not json"));
  CHECK_FALSE(safetensors_stats(R"({"a":{"dtype":"BF16","shape":[-1]}})"));
  CHECK_FALSE(safetensors_stats(R"({"a":{"dtype":"BF16","shape":[4294967296,4294967296,4294967296]}})"));
}

TEST_CASE("modelpack: licenses come from the README's front matter, as a string or a list") {
  CHECK(readme_licenses("---\nlicense: apache-2.0\n---\n# x\n") == std::vector<std::string>{"apache-2.0"});
  CHECK(readme_licenses("---\nlanguage: en\nlicense: \"mit\"\n---\n") == std::vector<std::string>{"mit"});
  CHECK(readme_licenses("---\nlicense:\n  - llama3.1\n  - other\ntags: [a]\n---\n") ==
        std::vector<std::string>{"llama3.1", "other"});
  CHECK(readme_licenses("---\nlicense: [mit, 'bsd-3-clause']\n---\n") ==
        std::vector<std::string>{"mit", "bsd-3-clause"});
  CHECK(readme_licenses("# no front matter\nlicense: mit\n").empty());
  CHECK(readme_licenses("---\ntitle: x\n---\nlicense: mit\n").empty());  // after the front matter
}

}  // namespace
}  // namespace airlock::installer::modelpack

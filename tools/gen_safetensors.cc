// airlock-gen-safetensors: writes a synthetic, model-shaped directory (like a
// Hugging Face model repo with safetensors shards) for tests, the demo and
// benchmarks. Nothing is downloaded; all values come from a seeded PRNG and
// the output is byte-identical for the same arguments.
//
//   airlock-gen-safetensors --out DIR --size SIZE [--shards N] [--seed S]
//       [--dtype bf16|f16|f32] [--changed FRACTION --changed-seed S2]
//       [--perturb SIGMA --perturb-seed S3 [--perturb-fraction F]]
//       [--files-only-weights]
//
// Layout: a llama-like decoder. model.embed_tokens.weight [V, h]; per layer
// q/k/v/o_proj [h, h], gate/up_proj [I, h], down_proj [h, I], input_ and
// post_attention_layernorm [h]; model.norm.weight [h]; lm_head.weight [V, h].
// h, I and the layer count are picked from SIZE; the vocabulary size absorbs
// the remainder so the tensor data lands within 2*h elements of SIZE.
//
// Values: weight matrices ~ N(0, 0.02), norm weights ~ 1 + N(0, 0.02), from
// xoshiro256** + the Marsaglia polar (Box-Muller) method. Each tensor is
// split into fixed chunks of kChunkElems elements, each seeded from
// (seed, tensor name, chunk index), so chunks are generated in parallel and a
// tensor's bytes never depend on the other tensors, the shard count or the
// thread count. --changed picks round(FRACTION * #matrices) of the 2-D
// tensors (smallest hash of (name, S2)) and draws them from S2 instead.
// --perturb models a fine-tune of the model without it: in round(F * #tensors)
// tensors (all by default; smallest hash of (name, S3)) every value becomes
// w + e, e ~ N(0, (SIGMA * |w|)^2) drawn from S3, rounded back to the dtype.

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;                 // sorted keys (HF json.dumps(sort_keys=True))
using ordered_json = nlohmann::ordered_json; // insertion order (safetensors header)

constexpr int kExitUsage = 2;
constexpr int kExitError = 1;
constexpr std::uint64_t kChunkElems = std::uint64_t{1} << 19; // 1 MiB of bf16
constexpr std::uint64_t kMinVocab = 256;
constexpr std::uint64_t kMaxVocab = 128256;
constexpr float kWeightStd = 0.02F;

// ---------------------------------------------------------------- usage

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::string_view kUsage =
    "usage: airlock-gen-safetensors --out DIR --size SIZE [options]\n"
    "\n"
    "Writes a synthetic Hugging Face style model directory (safetensors shards,\n"
    "index, config.json, tokenizer.json, generation_config.json).\n"
    "\n"
    "  --out DIR              output directory (created if missing)\n"
    "  --size SIZE            total tensor data, bytes or with K/M/G/T suffix\n"
    "                         (powers of 1024), e.g. 64M, 1G\n"
    "  --shards N             number of shards (default 2; 1 -> model.safetensors)\n"
    "  --seed S               PRNG seed (default 0)\n"
    "  --dtype bf16|f16|f32   tensor dtype (default bf16)\n"
    "  --changed FRACTION     redraw about FRACTION (0..1) of the 2-D tensors from\n"
    "                         --changed-seed (a \"fine-tune\"); everything else is\n"
    "                         byte-identical to the run without --changed\n"
    "  --perturb SIGMA        a \"fine-tune\": every value w of the chosen tensors\n"
    "                         becomes w + e, e ~ N(0, (SIGMA*|w|)^2), e.g. 0.01\n"
    "  --perturb-seed S3      seed for the perturbation (required with --perturb)\n"
    "  --perturb-fraction F   perturb about F (0..1] of all tensors (default 1)\n"
    "  --changed-seed S2      seed for the changed tensors (required with --changed,\n"
    "                         must differ from --seed)\n"
    "  --files-only-weights   write only the .safetensors shards\n"
    "  --help                 show this help\n";

enum class DType { BF16, F16, F32 };

struct Options {
  fs::path out;
  std::uint64_t size = 0;
  std::uint64_t shards = 2;
  std::uint64_t seed = 0;
  DType dtype = DType::BF16;
  double changed = 0.0;
  std::optional<std::uint64_t> changed_seed;
  bool changed_given = false;
  double perturb = 0.0;
  std::optional<std::uint64_t> perturb_seed;
  double perturb_fraction = 1.0;
  bool only_weights = false;
};

std::uint64_t parse_u64(std::string_view flag, std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) {
    throw UsageError(fmt::format("{}: expected a non-negative integer, got '{}'", flag, s));
  }
  return v;
}

std::uint64_t parse_size(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p == s.data()) {
    throw UsageError(fmt::format("--size: expected bytes or K/M/G/T suffix, got '{}'", s));
  }
  std::string suffix(p, s.data() + s.size());
  for (char& c : suffix) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  int shift = 0;
  if (suffix.empty() || suffix == "B") {
    shift = 0;
  } else if (suffix == "K" || suffix == "KB" || suffix == "KIB") {
    shift = 10;
  } else if (suffix == "M" || suffix == "MB" || suffix == "MIB") {
    shift = 20;
  } else if (suffix == "G" || suffix == "GB" || suffix == "GIB") {
    shift = 30;
  } else if (suffix == "T" || suffix == "TB" || suffix == "TIB") {
    shift = 40;
  } else {
    throw UsageError(fmt::format("--size: unknown suffix in '{}'", s));
  }
  if (shift > 0 && v > (std::numeric_limits<std::uint64_t>::max() >> shift)) {
    throw UsageError(fmt::format("--size: '{}' is too large", s));
  }
  return v << shift;
}

double parse_fraction(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || !(v >= 0.0 && v <= 1.0)) {
    throw UsageError(fmt::format("--changed: expected a fraction in [0, 1], got '{}'", s));
  }
  return v;
}

// Returns nullopt for --help.
std::optional<Options> parse_args(int argc, char** argv) {
  Options o;
  bool have_out = false;
  bool have_size = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return std::nullopt;
    if (arg == "--files-only-weights") {
      o.only_weights = true;
      continue;
    }
    std::string_view flag = arg;
    std::string_view value;
    bool inline_value = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    static constexpr std::string_view kValued[] = {"--out",   "--size",    "--shards",      "--seed",
                                                   "--dtype", "--changed", "--changed-seed",
                                                   "--perturb", "--perturb-seed", "--perturb-fraction"};
    if (std::find(std::begin(kValued), std::end(kValued), flag) == std::end(kValued)) {
      throw UsageError(fmt::format("unknown argument '{}'", arg));
    }
    if (!inline_value) {
      if (i + 1 >= argc) throw UsageError(fmt::format("{} needs a value", flag));
      value = argv[++i];
    }
    if (flag == "--out") {
      if (value.empty()) throw UsageError("--out: empty path");
      o.out = fs::path(std::string(value));
      have_out = true;
    } else if (flag == "--size") {
      o.size = parse_size(value);
      have_size = true;
    } else if (flag == "--shards") {
      o.shards = parse_u64(flag, value);
      if (o.shards < 1 || o.shards > 99999) throw UsageError("--shards: expected 1..99999");
    } else if (flag == "--seed") {
      o.seed = parse_u64(flag, value);
    } else if (flag == "--dtype") {
      if (value == "bf16") {
        o.dtype = DType::BF16;
      } else if (value == "f16") {
        o.dtype = DType::F16;
      } else if (value == "f32") {
        o.dtype = DType::F32;
      } else {
        throw UsageError(fmt::format("--dtype: expected bf16, f16 or f32, got '{}'", value));
      }
    } else if (flag == "--changed") {
      o.changed = parse_fraction(value);
      o.changed_given = true;
    } else if (flag == "--changed-seed") {
      o.changed_seed = parse_u64(flag, value);
    } else if (flag == "--perturb") {
      o.perturb = std::strtod(std::string(value).c_str(), nullptr);
      if (!(o.perturb > 0.0 && o.perturb < 1.0)) throw UsageError("--perturb: expected a relative sigma in (0, 1)");
    } else if (flag == "--perturb-seed") {
      o.perturb_seed = parse_u64(flag, value);
    } else if (flag == "--perturb-fraction") {
      o.perturb_fraction = parse_fraction(value);
    }
  }
  if (!have_out) throw UsageError("--out is required");
  if (!have_size) throw UsageError("--size is required");
  if (o.changed_given != o.changed_seed.has_value()) {
    throw UsageError("--changed and --changed-seed go together");
  }
  if ((o.perturb > 0.0) != o.perturb_seed.has_value()) {
    throw UsageError("--perturb and --perturb-seed go together");
  }
  if (o.perturb > 0.0 && o.dtype == DType::F16) {
    throw UsageError("--perturb: bf16 and f32 only");
  }
  if (o.changed_given && o.changed > 0.0 && *o.changed_seed == o.seed) {
    throw UsageError("--changed-seed must differ from --seed");
  }
  return o;
}

// ---------------------------------------------------------------- PRNG

constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t mix64(std::uint64_t x) { return splitmix64(x); }

constexpr std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return h;
}

class Xoshiro256ss {
 public:
  explicit Xoshiro256ss(std::uint64_t seed) {
    for (auto& w : s_) w = splitmix64(seed);
  }
  std::uint64_t next() {
    const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }

 private:
  std::uint64_t s_[4]{};
};

std::uint64_t tensor_seed(std::uint64_t seed, std::string_view name) {
  return mix64(seed ^ mix64(fnv1a64(name)));
}

std::uint64_t chunk_seed(std::uint64_t tseed, std::uint64_t chunk) {
  return mix64(tseed + (chunk + 1) * 0xD1B54A32D192ED03ULL);
}

// ---------------------------------------------------------------- dtypes

std::size_t dtype_size(DType d) { return d == DType::F32 ? 4 : 2; }
const char* dtype_name(DType d) {
  switch (d) {
    case DType::BF16: return "BF16";
    case DType::F16: return "F16";
    case DType::F32: return "F32";
  }
  return "?";
}
const char* torch_dtype(DType d) {
  switch (d) {
    case DType::BF16: return "bfloat16";
    case DType::F16: return "float16";
    case DType::F32: return "float32";
  }
  return "?";
}

inline std::uint16_t f32_to_bf16(float f) {
  std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7FFFFFFFU) > 0x7F800000U) return static_cast<std::uint16_t>((x >> 16) | 0x40U); // quiet NaN
  x += 0x7FFFU + ((x >> 16) & 1U); // round to nearest even
  return static_cast<std::uint16_t>(x >> 16);
}

inline std::uint16_t f32_to_f16(float f) {
  std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000U);
  x &= 0x7FFFFFFFU;
  if (x >= 0x7F800000U) return static_cast<std::uint16_t>(sign | (x > 0x7F800000U ? 0x7E00U : 0x7C00U));
  if (x >= 0x477FF000U) return static_cast<std::uint16_t>(sign | 0x7C00U); // >= 65520 rounds to inf
  if (x < 0x38800000U) {
    // Subnormal (or zero) in half precision: adding 0.5 makes the FPU round
    // |f| to a multiple of 2^-24 (ties to even); the low bits are the result.
    const float r = std::bit_cast<float>(x) + 0.5F;
    return static_cast<std::uint16_t>(sign | (std::bit_cast<std::uint32_t>(r) - 0x3F000000U));
  }
  const std::uint32_t odd = (x >> 13) & 1U;
  x = x - 0x38000000U + 0xFFFU + odd; // rebias exponent 127 -> 15, round to nearest even
  return static_cast<std::uint16_t>(sign | (x >> 13));
}

template <DType D>
inline void store(unsigned char* out, std::uint64_t i, float v) {
  if constexpr (D == DType::F32) {
    const std::uint32_t b = std::bit_cast<std::uint32_t>(v);
    unsigned char* p = out + 4 * i;
    p[0] = static_cast<unsigned char>(b);
    p[1] = static_cast<unsigned char>(b >> 8);
    p[2] = static_cast<unsigned char>(b >> 16);
    p[3] = static_cast<unsigned char>(b >> 24);
  } else {
    const std::uint16_t b = D == DType::BF16 ? f32_to_bf16(v) : f32_to_f16(v);
    unsigned char* p = out + 2 * i;
    p[0] = static_cast<unsigned char>(b);
    p[1] = static_cast<unsigned char>(b >> 8);
  }
}

// Fills out[0, n) (n elements) with mean + std * N(0, 1), little-endian.
template <DType D>
void fill_normal(unsigned char* out, std::uint64_t n, std::uint64_t seed, float mean, float stddev) {
  Xoshiro256ss rng(seed);
  std::uint64_t i = 0;
  while (i < n) {
    // Marsaglia polar method: two 24-bit uniforms in [-1, 1) per 64-bit draw.
    const std::uint64_t r = rng.next();
    const float u = static_cast<float>(r >> 40) * 0x1p-23F - 1.0F;
    const float v = static_cast<float>((r >> 16) & 0xFFFFFFU) * 0x1p-23F - 1.0F;
    const float s = u * u + v * v;
    if (s >= 1.0F || s == 0.0F) continue;
    const float k = stddev * std::sqrt(-2.0F * std::log(s) / s);
    store<D>(out, i++, mean + u * k);
    if (i < n) store<D>(out, i++, mean + v * k);
  }
}

void fill_chunk(DType d, unsigned char* out, std::uint64_t n, std::uint64_t seed, float mean, float stddev) {
  switch (d) {
    case DType::BF16: fill_normal<DType::BF16>(out, n, seed, mean, stddev); break;
    case DType::F16: fill_normal<DType::F16>(out, n, seed, mean, stddev); break;
    case DType::F32: fill_normal<DType::F32>(out, n, seed, mean, stddev); break;
  }
}

// ---------------------------------------------------------------- model shape

struct Dims {
  std::uint64_t hidden = 0;
  std::uint64_t inter = 0;
  std::uint64_t layers = 0;
  std::uint64_t vocab = 0;
  std::uint64_t heads = 0;
};

std::uint64_t round_hidden_down(std::uint64_t x) {
  const std::uint64_t m = x >= 1024 ? 128 : x >= 256 ? 64 : 32;
  return std::max<std::uint64_t>(32, x / m * m);
}

std::uint64_t intermediate_for(std::uint64_t h) {
  const std::uint64_t m = h >= 1024 ? 256 : 32;
  const std::uint64_t raw = (8 * h + 2) / 3; // ceil(8h/3), llama's SwiGLU ratio
  return (raw + m - 1) / m * m;
}

std::uint64_t layer_params(std::uint64_t h, std::uint64_t inter) {
  return 4 * h * h + 3 * h * inter + 2 * h;
}

// params: total element count wanted. The layer count grows with log2 of the
// size (6 layers at 2M elements, 22 at 512M), layers get ~80% of the
// parameters, the vocabulary absorbs the rest.
std::optional<Dims> choose_dims(std::uint64_t params) {
  const double mparams = static_cast<double>(params) / 1048576.0;
  const double lf = 4.0 + 2.0 * std::log2(std::max(mparams, 1e-6));
  const auto l0 = static_cast<std::uint64_t>(std::clamp(std::lround(lf), 4L, 64L));
  const double hf = std::sqrt(0.8 * static_cast<double>(params) / (12.0 * static_cast<double>(l0)));
  std::uint64_t h = round_hidden_down(static_cast<std::uint64_t>(hf));
  for (;;) {
    const std::uint64_t inter = intermediate_for(h);
    const std::uint64_t lp = layer_params(h, inter);
    for (std::uint64_t layers = l0; layers >= 1; --layers) {
      const std::uint64_t fixed = layers * lp + h; // layers + final norm
      if (fixed + 2 * kMinVocab * h > params) continue;
      std::uint64_t vocab = (params - fixed) / (2 * h);
      if (vocab > kMaxVocab) {
        // Very large sizes: keep the vocabulary realistic, add layers instead.
        layers = (params - h - 2 * kMaxVocab * h) / lp;
        vocab = (params - layers * lp - h) / (2 * h);
      }
      const std::uint64_t head_dim = h % 64 == 0 ? 64 : 32;
      return Dims{h, inter, layers, vocab, h / head_dim};
    }
    if (h == 32) return std::nullopt;
    h = round_hidden_down(h - 1);
  }
}

enum class Kind { Matrix, Norm };

struct Tensor {
  std::string name;
  std::vector<std::uint64_t> shape;
  std::uint64_t numel = 0;
  Kind kind = Kind::Matrix;
  std::uint64_t seed = 0; // per-tensor seed (already mixed with the name)
  std::uint64_t perturb_seed = 0; // non-zero: perturbed (--perturb) from this seed
  std::uint64_t shard = 0;
  std::uint64_t offset = 0; // within the shard's data section, bytes
};

std::vector<Tensor> build_tensors(const Dims& d) {
  std::vector<Tensor> ts;
  auto add = [&](std::string name, std::vector<std::uint64_t> shape) {
    std::uint64_t n = 1;
    for (auto s : shape) n *= s;
    Tensor t;
    t.name = std::move(name);
    t.kind = shape.size() == 1 ? Kind::Norm : Kind::Matrix;
    t.shape = std::move(shape);
    t.numel = n;
    ts.push_back(std::move(t));
  };
  const auto h = d.hidden;
  const auto in = d.inter;
  add("model.embed_tokens.weight", {d.vocab, h});
  for (std::uint64_t i = 0; i < d.layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    add(p + "self_attn.q_proj.weight", {h, h});
    add(p + "self_attn.k_proj.weight", {h, h});
    add(p + "self_attn.v_proj.weight", {h, h});
    add(p + "self_attn.o_proj.weight", {h, h});
    add(p + "mlp.gate_proj.weight", {in, h});
    add(p + "mlp.up_proj.weight", {in, h});
    add(p + "mlp.down_proj.weight", {h, in});
    add(p + "input_layernorm.weight", {h});
    add(p + "post_attention_layernorm.weight", {h});
  }
  add("model.norm.weight", {h});
  add("lm_head.weight", {d.vocab, h});
  return ts;
}

// Seeds every tensor; with --changed, round(fraction * #matrices) matrices
// (at least one when fraction > 0), those with the smallest hash of
// (name, changed_seed), are seeded from changed_seed instead.
std::uint64_t assign_seeds(std::vector<Tensor>& ts, const Options& o) {
  for (auto& t : ts) t.seed = tensor_seed(o.seed, t.name);
  if (!o.changed_given || o.changed <= 0.0) return 0;
  const std::uint64_t sel = mix64(*o.changed_seed ^ 0x6368616E67656421ULL); // "changed!"
  std::vector<std::pair<std::uint64_t, std::size_t>> order;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (ts[i].kind == Kind::Matrix) order.emplace_back(mix64(fnv1a64(ts[i].name) ^ sel), i);
  }
  std::sort(order.begin(), order.end());
  auto count = static_cast<std::uint64_t>(std::llround(o.changed * static_cast<double>(order.size())));
  count = std::clamp<std::uint64_t>(count, 1, order.size());
  for (std::uint64_t k = 0; k < count; ++k) {
    auto& t = ts[order[k].second];
    t.seed = tensor_seed(*o.changed_seed, t.name);
  }
  return count;
}

// --perturb: which tensors, and their perturbation seeds.
void assign_perturbation(std::vector<Tensor>& ts, const Options& o) {
  if (o.perturb <= 0.0) return;
  const std::uint64_t sel = mix64(*o.perturb_seed ^ 0x7065727475726221ULL);  // "perturb!"
  std::vector<std::pair<std::uint64_t, std::size_t>> order;
  for (std::size_t i = 0; i < ts.size(); ++i) order.emplace_back(mix64(fnv1a64(ts[i].name) ^ sel), i);
  std::sort(order.begin(), order.end());
  auto count = static_cast<std::uint64_t>(std::llround(o.perturb_fraction * static_cast<double>(order.size())));
  count = std::clamp<std::uint64_t>(count, 1, order.size());
  for (std::uint64_t k = 0; k < count; ++k) {
    Tensor& t = ts[order[k].second];
    t.perturb_seed = tensor_seed(*o.perturb_seed, t.name) | 1;
  }
}

// w <- w + N(0, (sigma*|w|)^2), rounded back to the dtype (bf16 or f32).
void perturb_chunk(DType d, unsigned char* out, std::uint64_t n, std::uint64_t seed, float sigma) {
  Xoshiro256ss rng(seed);
  std::uint64_t i = 0;
  auto load = [&](std::uint64_t k) {
    if (d == DType::F32) {
      std::uint32_t b = 0;
      std::memcpy(&b, out + 4 * k, 4);
      return std::bit_cast<float>(b);
    }
    const std::uint32_t b = static_cast<std::uint32_t>(out[2 * k]) | (static_cast<std::uint32_t>(out[2 * k + 1]) << 8);
    return std::bit_cast<float>(b << 16);
  };
  auto put = [&](std::uint64_t k, float v) {
    if (d == DType::F32) {
      store<DType::F32>(out, k, v);
    } else {
      store<DType::BF16>(out, k, v);
    }
  };
  while (i < n) {
    const std::uint64_t r = rng.next();
    const float u = static_cast<float>(r >> 40) * 0x1p-23F - 1.0F;
    const float v = static_cast<float>((r >> 16) & 0xFFFFFFU) * 0x1p-23F - 1.0F;
    const float s = u * u + v * v;
    if (s >= 1.0F || s == 0.0F) continue;
    const float k = std::sqrt(-2.0F * std::log(s) / s);
    float w = load(i);
    put(i, w + u * k * sigma * std::fabs(w));
    ++i;
    if (i < n) {
      w = load(i);
      put(i, w + v * k * sigma * std::fabs(w));
      ++i;
    }
  }
}

// Contiguous split in tensor order, each shard ~total/N bytes and non-empty.
void assign_shards(std::vector<Tensor>& ts, std::uint64_t shards, std::size_t esize) {
  std::uint64_t total = 0;
  for (const auto& t : ts) total += t.numel * esize;
  std::uint64_t shard = 0;
  std::uint64_t cum = 0;
  std::uint64_t off = 0;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const std::uint64_t bytes = ts[i].numel * esize;
    ts[i].shard = shard;
    ts[i].offset = off;
    cum += bytes;
    off += bytes;
    const std::uint64_t remaining = ts.size() - i - 1;
    if (shard + 1 < shards) {
      // Move on once this shard has its share (by the midpoint of the next
      // tensor), or when the remaining shards need every remaining tensor.
      const std::uint64_t next = i + 1 < ts.size() ? ts[i + 1].numel * esize : 0;
      const long double target = static_cast<long double>(total) * static_cast<long double>(shard + 1) /
                                 static_cast<long double>(shards);
      if (static_cast<long double>(cum) + static_cast<long double>(next) / 2 >= target ||
          remaining == shards - shard - 1) {
        ++shard;
        off = 0;
      }
    }
  }
}

// ---------------------------------------------------------------- output

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};

class AtomicFile {
 public:
  AtomicFile(const fs::path& dir, const std::string& name) : final_(dir / name), tmp_(dir / (name + ".tmp")) {
    f_ = std::fopen(tmp_.c_str(), "wb");
    if (f_ == nullptr) {
      throw std::runtime_error(fmt::format("cannot create {}: {}", tmp_.string(), std::strerror(errno)));
    }
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() {
    if (f_ != nullptr) {
      std::fclose(f_);
      std::error_code ec;
      fs::remove(tmp_, ec);
    }
  }
  void write(const void* p, std::size_t n) {
    if (n != 0 && std::fwrite(p, 1, n, f_) != n) {
      throw std::runtime_error(fmt::format("write {}: {}", tmp_.string(), std::strerror(errno)));
    }
    bytes_ += n;
  }
  void write(std::string_view s) { write(s.data(), s.size()); }
  // Closes and renames into place; returns the file size.
  std::uint64_t commit() {
    std::FILE* f = std::exchange(f_, nullptr);
    if (std::fclose(f) != 0) {
      std::error_code ec;
      fs::remove(tmp_, ec);
      throw std::runtime_error(fmt::format("close {}: {}", tmp_.string(), std::strerror(errno)));
    }
    fs::rename(tmp_, final_);
    return bytes_;
  }

 private:
  fs::path final_;
  fs::path tmp_;
  std::FILE* f_ = nullptr;
  std::uint64_t bytes_ = 0;
};

void report(const std::string& name, std::uint64_t bytes) {
  fmt::print("{} {}\n", name, bytes);
  std::fflush(stdout);
}

void write_text(const fs::path& dir, const std::string& name, const std::string& text) {
  AtomicFile f(dir, name);
  f.write(text);
  report(name, f.commit());
}

std::string shard_name(std::uint64_t i, std::uint64_t n) {
  if (n == 1) return "model.safetensors";
  return fmt::format("model-{:05d}-of-{:05d}.safetensors", i + 1, n);
}

std::string safetensors_header(const std::vector<const Tensor*>& ts, DType d) {
  ordered_json h = ordered_json::object();
  h["__metadata__"] = ordered_json{{"format", "pt"}};
  const std::size_t es = dtype_size(d);
  for (const Tensor* t : ts) {
    ordered_json info = ordered_json::object();
    info["dtype"] = dtype_name(d);
    info["shape"] = ordered_json::array();
    for (auto s : t->shape) info["shape"].push_back(s);
    info["data_offsets"] = ordered_json::array({t->offset, t->offset + t->numel * es});
    h[t->name] = std::move(info);
  }
  std::string s = h.dump();
  s.append((8 - s.size() % 8) % 8, ' ');
  return s;
}

// Generates the shard's data in kChunkElems pieces on worker threads and
// writes them in order; at most `window` chunk buffers are alive.
void write_shard(const fs::path& dir, const std::string& name, const std::vector<const Tensor*>& ts, DType d,
                 unsigned threads, float perturb_sigma) {
  const std::size_t es = dtype_size(d);
  AtomicFile f(dir, name);
  const std::string header = safetensors_header(ts, d);
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(header.size()) >> (8 * i));
  f.write(len, sizeof len);
  f.write(header);

  struct Job {
    const Tensor* t;
    std::uint64_t chunk;
  };
  std::vector<Job> jobs;
  for (const Tensor* t : ts) {
    for (std::uint64_t c = 0; c * kChunkElems < t->numel; ++c) jobs.push_back({t, c});
  }
  const std::size_t window = std::max<std::size_t>(2, 2 * std::size_t{threads});
  std::vector<std::vector<unsigned char>> bufs(std::min(window, jobs.size()));
  std::vector<std::future<std::uint64_t>> pending(bufs.size());
  auto launch = [&](std::size_t j) {
    const std::size_t slot = j % bufs.size();
    auto& buf = bufs[slot];
    if (buf.empty()) buf.resize(kChunkElems * es);
    const Job job = jobs[j];
    pending[slot] = std::async(std::launch::async, [job, d, &buf, sigma = perturb_sigma] {
      const std::uint64_t n = std::min(kChunkElems, job.t->numel - job.chunk * kChunkElems);
      const bool norm = job.t->kind == Kind::Norm;
      fill_chunk(d, buf.data(), n, chunk_seed(job.t->seed, job.chunk), norm ? 1.0F : 0.0F, kWeightStd);
      if (job.t->perturb_seed != 0) {
        perturb_chunk(d, buf.data(), n, chunk_seed(job.t->perturb_seed, job.chunk), sigma);
      }
      return n;
    });
  };
  for (std::size_t j = 0; j < bufs.size(); ++j) launch(j);
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const std::size_t slot = j % bufs.size();
    const std::uint64_t n = pending[slot].get();
    f.write(bufs[slot].data(), n * es);
    if (j + bufs.size() < jobs.size()) launch(j + bufs.size());
  }
  report(name, f.commit());
}

// A few KB of llama-style tokenizer.json (BPE with byte fallback).
std::string tokenizer_json(std::uint64_t vocab_size) {
  ordered_json vocab = ordered_json::object();
  std::uint64_t id = 0;
  auto add = [&](const std::string& tok) {
    if (id < vocab_size && !vocab.contains(tok)) vocab[tok] = id++;
  };
  add("<unk>");
  add("<s>");
  add("</s>");
  for (int b = 0; b < 256; ++b) add(fmt::format("<0x{:02X}>", b));
  static constexpr std::string_view kWords[] = {
      "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "with", "was", "on", "be", "by",
      "this", "are", "from", "at", "or", "an", "have", "not", "which", "model", "weight", "layer", "token",
      "data", "file", "shard", "tensor", "air", "lock", "bundle", "install", "offline", "network"};
  ordered_json merges = ordered_json::array();
  const std::string space = "\xE2\x96\x81"; // U+2581, sentencepiece word boundary
  for (char c = 'a'; c <= 'z'; ++c) add(std::string(1, c));
  add(space);
  for (std::string_view w : kWords) {
    std::string prev = space + std::string(1, w[0]);
    add(prev);
    if (vocab.contains(prev)) merges.push_back(fmt::format("{} {}", space, w[0]));
    for (std::size_t k = 1; k < w.size(); ++k) {
      std::string next = prev + w[k];
      add(next);
      if (vocab.contains(next)) merges.push_back(fmt::format("{} {}", prev, w[k]));
      prev = std::move(next);
    }
  }
  auto special = [](std::uint64_t i, const char* content) {
    return ordered_json{{"id", i},          {"content", content}, {"single_word", false}, {"lstrip", false},
                        {"rstrip", false}, {"normalized", false}, {"special", true}};
  };
  ordered_json tok = ordered_json::object();
  tok["version"] = "1.0";
  tok["truncation"] = nullptr;
  tok["padding"] = nullptr;
  tok["added_tokens"] = ordered_json::array({special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")});
  tok["normalizer"] = ordered_json{
      {"type", "Sequence"},
      {"normalizers", ordered_json::array({ordered_json{{"type", "Prepend"}, {"prepend", space}},
                                           ordered_json{{"type", "Replace"},
                                                        {"pattern", ordered_json{{"String", " "}}},
                                                        {"content", space}}})}};
  tok["pre_tokenizer"] = nullptr;
  tok["post_processor"] = ordered_json{
      {"type", "TemplateProcessing"},
      {"single", ordered_json::array({ordered_json{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                      ordered_json{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
      {"pair", ordered_json::array({ordered_json{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                    ordered_json{{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                                    ordered_json{{"SpecialToken", {{"id", "<s>"}, {"type_id", 1}}}},
                                    ordered_json{{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
      {"special_tokens", ordered_json{{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
  tok["decoder"] = ordered_json{
      {"type", "Sequence"},
      {"decoders",
       ordered_json::array({ordered_json{{"type", "Replace"}, {"pattern", {{"String", space}}}, {"content", " "}},
                            ordered_json{{"type", "ByteFallback"}}, ordered_json{{"type", "Fuse"}},
                            ordered_json{{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}};
  tok["model"] = ordered_json{{"type", "BPE"},
                              {"dropout", nullptr},
                              {"unk_token", "<unk>"},
                              {"continuing_subword_prefix", nullptr},
                              {"end_of_word_suffix", nullptr},
                              {"fuse_unk", true},
                              {"byte_fallback", true},
                              {"vocab", std::move(vocab)},
                              {"merges", std::move(merges)}};
  return tok.dump(2) + "\n";
}

std::string config_json(const Dims& d, DType dt) {
  json c = json::object();
  c["architectures"] = json::array({"LlamaForCausalLM"});
  c["attention_bias"] = false;
  c["attention_dropout"] = 0.0;
  c["bos_token_id"] = 1;
  c["eos_token_id"] = 2;
  c["hidden_act"] = "silu";
  c["hidden_size"] = d.hidden;
  c["initializer_range"] = 0.02;
  c["intermediate_size"] = d.inter;
  c["max_position_embeddings"] = 2048;
  c["model_type"] = "llama";
  c["num_attention_heads"] = d.heads;
  c["num_hidden_layers"] = d.layers;
  c["num_key_value_heads"] = d.heads;
  c["pretraining_tp"] = 1;
  c["rms_norm_eps"] = 1e-05;
  c["rope_scaling"] = nullptr;
  c["rope_theta"] = 10000.0;
  c["tie_word_embeddings"] = false;
  c["torch_dtype"] = torch_dtype(dt);
  c["transformers_version"] = "4.40.0";
  c["use_cache"] = true;
  c["vocab_size"] = d.vocab;
  return c.dump(2) + "\n";
}

std::string generation_config_json() {
  json g = json::object();
  g["_from_model_config"] = true;
  g["bos_token_id"] = 1;
  g["eos_token_id"] = 2;
  g["transformers_version"] = "4.40.0";
  return g.dump(2) + "\n";
}

int run(const Options& o) {
  const std::size_t es = dtype_size(o.dtype);
  const auto dims = choose_dims(o.size / es);
  if (!dims) {
    throw UsageError(fmt::format("--size {} is too small for a model (need about 64K)", o.size));
  }
  std::vector<Tensor> ts = build_tensors(*dims);
  if (o.shards > ts.size()) {
    throw UsageError(fmt::format("--shards {}: this model has only {} tensors", o.shards, ts.size()));
  }
  assign_seeds(ts, o);
  assign_perturbation(ts, o);
  assign_shards(ts, o.shards, es);

  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create {}: {}", o.out.string(), ec.message()));

  unsigned threads = std::thread::hardware_concurrency();
  threads = std::clamp(threads, 1U, 16U);

  json weight_map = json::object();
  std::uint64_t total = 0;
  for (std::uint64_t s = 0; s < o.shards; ++s) {
    std::vector<const Tensor*> in_shard;
    const std::string name = shard_name(s, o.shards);
    for (const auto& t : ts) {
      if (t.shard == s) {
        in_shard.push_back(&t);
        weight_map[t.name] = name;
        total += t.numel * es;
      }
    }
    write_shard(o.out, name, in_shard, o.dtype, threads, static_cast<float>(o.perturb));
  }
  if (o.only_weights) return 0;
  if (o.shards > 1) {
    json index = json::object();
    index["metadata"] = json{{"total_size", total}};
    index["weight_map"] = std::move(weight_map);
    write_text(o.out, "model.safetensors.index.json", index.dump(2) + "\n");
  }
  write_text(o.out, "config.json", config_json(*dims, o.dtype));
  write_text(o.out, "generation_config.json", generation_config_json());
  write_text(o.out, "tokenizer.json", tokenizer_json(dims->vocab));
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    const auto opts = parse_args(argc, argv);
    if (!opts) {
      fmt::print("{}", kUsage);
      return 0;
    }
    return run(*opts);
  } catch (const UsageError& e) {
    fmt::print(stderr, "airlock-gen-safetensors: {}\n\n{}", e.what(), kUsage);
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "airlock-gen-safetensors: {}\n", e.what());
    return kExitError;
  }
}

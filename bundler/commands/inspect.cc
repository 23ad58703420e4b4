// airlock-bundler inspect: what the clear header says; with a key, the files too.
#include <chrono>

#include <fmt/format.h>

#include "bundler/commands/commands.h"
#include "bundler/sources/sources.h"
#include "core/base/text.h"
#include "core/fs/file.h"
#include "keys/key_files.h"

namespace airlock::bundler {

namespace {

struct InspectOptions {
  std::string bundle;
  std::string key_dir;
  std::string passphrase_file;
  bool json = false;
};

using cli::iso_time;

// One line of output: the header is not verified here (inspect checks no
// signature), so whatever it says is escaped (text::escape_untrusted).
template <typename... Args>
void print_line(fmt::format_string<Args...> f, Args&&... args) {
  fmt::print("{}\n", text::escape_untrusted(fmt::format(f, std::forward<Args>(args)...)));
}

Status inspect(const InspectOptions& o) {
  ASSIGN_OR_RETURN(format::OpenedIndex opened, format::open_index(o.bundle));
  const format::Header& h = opened.header;
  nlohmann::json j = nlohmann::json::parse(as_chars(opened.index.header), nullptr, false);
  nlohmann::json sigs = nlohmann::json::array();
  for (const auto& s : opened.index.signatures) {
    sigs.push_back(s.keyid);
  }
  j["signed_by"] = sigs;
  std::optional<format::Payload> payload;
  if (!o.key_dir.empty() || !o.passphrase_file.empty() || !h.encrypted()) {
    std::optional<crypto::AeadKey> key;
    if (!o.passphrase_file.empty()) {
      ASSIGN_OR_RETURN(std::string pass, keys::read_passphrase_file(o.passphrase_file));
      ASSIGN_OR_RETURN(key, format::unwrap_with_passphrase(opened, pass));
    } else if (!o.key_dir.empty()) {
      ASSIGN_OR_RETURN(format::SiteKey site, keys::load_site_key(o.key_dir));
      ASSIGN_OR_RETURN(key, format::unwrap_with_site_key(opened, site));
    }
    ASSIGN_OR_RETURN(payload, format::open_body(opened, key));
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : payload->files) {
      files.push_back({{"path", f.path}, {"size", f.size}, {"mode", fmt::format("{:o}", f.mode)}, {"sha256", f.sha256}});
    }
    j["files"] = files;
    j["chunks"] = payload->chunks.size();
    j["sources"] = payload->sources;
    // What the bundler let through or recognised in the model (identity.weights).
    nlohmann::json weights = nlohmann::json::object();
    if (payload->sources.is_array()) {
      for (const nlohmann::json& src : payload->sources) {
        const nlohmann::json id = src.is_object() ? src.value("identity", nlohmann::json::object()) : nlohmann::json();
        if (src.is_object() && src.value("kind", "") == "model" && id.is_object() && id.contains("weights") &&
            id["weights"].is_object()) {
          weights = id["weights"];
          weights["allow_pickle"] = id.value("allow_pickle", false);
          weights["allow_remote_code"] = id.value("allow_remote_code", false);
        }
      }
    }
    j["weights"] = weights;
    // Per codec: distinct chunks, their plaintext and their frames' bytes.
    nlohmann::json codecs = nlohmann::json::object();
    std::uint64_t omitted = 0;
    for (const format::ChunkEntry& c : payload->chunks) {
      nlohmann::json& e = codecs[codec::codec_name(c.codec)];
      if (e.is_null()) {
        e = {{"chunks", 0}, {"bytes", 0}, {"stored", 0}};
      }
      e["chunks"] = e["chunks"].get<std::uint64_t>() + 1;
      e["bytes"] = e["bytes"].get<std::uint64_t>() + c.size;
      e["stored"] = e["stored"].get<std::uint64_t>() + c.stored;
      omitted += c.codec == codec::Codec::kBase ? c.size : 0;
    }
    j["codecs"] = codecs;
    if (payload->base) {
      j["base"] = {{"deployment", payload->base->name}, {"version", payload->base->version},
                   {"bundle_id", payload->base->bundle_id}, {"chunk_set", payload->base->chunk_set},
                   {"chunk_count", payload->base->chunk_count}, {"omitted_bytes", omitted}};
    } else {
      j["base"] = nullptr;
    }
  }
  if (o.json) {
    // ensure_ascii: C1 controls (U+0080..U+009F) come out as \u escapes too.
    fmt::print("{}\n", j.dump(2, ' ', true, nlohmann::json::error_handler_t::replace));
    return ok_status();
  }
  print_line("bundle     {}", opened.index_path.string());
  print_line("deployment {} {}", h.name, h.version);
  print_line("bundle id  {}", h.bundle_id);
  print_line("sequence   {}", h.sequence);
  print_line("created    {}", iso_time(h.created));
  print_line("expires    {}", h.expires ? iso_time(*h.expires) : "never");
  print_line("cipher     {}", h.suite);
  print_line("format     version {}{}", h.format_version,
             h.format_version >= format::k_format_version_delta   ? " (a delta bundle: needs its base installed)"
             : h.format_version >= format::k_format_version_solid ? " (small files in solid blocks)"
                                                                  : "");
  for (const auto& r : h.recipients) {
    print_line("recipient  {} {}", r.type, r.type == "x25519" ? r.keyid : fmt::format("(opslimit {}, memlimit {} MiB)", r.argon2.opslimit, r.argon2.memlimit >> 20));
  }
  for (const auto& s : opened.index.signatures) {
    print_line("signed by  {}", s.keyid);
  }
  if (h.trust) {
    for (const auto& k : h.trust->add) {
      print_line("trust add  {} ({})", k.name, keys::key_id(k.key));
    }
    for (const auto& id : h.trust->revoke) {
      print_line("revoke     {}", id);
    }
    if (h.trust->threshold) {
      print_line("threshold  {}", *h.trust->threshold);
    }
  }
  if (h.media) {
    print_line("media      {} x {} ({} usable bytes each)", h.media->count, h.media->preset, h.media->capacity);
  }
  for (std::size_t i = 0; i < h.volumes.size(); ++i) {
    const auto& v = h.volumes[i];
    print_line("volume     {}  {} bytes  sha256 {}{}", v.name, v.size, v.sha256,
               h.media ? "  on " + format::medium_dir_name(h.media->volume_media[i]) : "");
  }
  if (h.installers) {
    for (const format::ShippedFile* b : h.installers->binaries()) {
      print_line("installer  {}  {} bytes  sha256 {}", b->name, b->size, b->sha256);
    }
  }
  if (payload && payload->sources.is_array()) {
    for (const nlohmann::json& src : payload->sources) {
      const nlohmann::json& id = src.value("identity", nlohmann::json::object());
      const std::string what = describe_source(src.value("kind", ""), id);
      print_line("source     {:<10} {} ({} files)", src.value("kind", ""), what,
                 src.value("files", nlohmann::json::array()).size());
    }
  }
  if (payload) {
    const nlohmann::json& w = j["weights"];
    auto list = [&w](const char* key) {
      return w.contains(key) && w[key].is_array() ? w[key] : nlohmann::json::array();
    };
    for (const nlohmann::json& e : list("pickle")) {
      if (e.is_object()) {
        print_line("weights    pickle       {} ({}; code runs when loaded; shipped by allow_pickle)",
                   e.value("path", ""), e.value("why", ""));
      }
    }
    for (const nlohmann::json& e : list("remote_code")) {
      if (e.is_object()) {
        print_line("weights    remote code  {} ({}; needs trust_remote_code; shipped by allow_remote_code)",
                   e.value("path", ""), e.value("why", ""));
      }
    }
    for (const nlohmann::json& e : list("gguf")) {
      if (e.is_object()) {
        std::string types;
        if (e.contains("tensor_types") && e["tensor_types"].is_object()) {
          for (const auto& [t, n] : e["tensor_types"].items()) {
            types += fmt::format("{}{} {}", types.empty() ? "" : ", ", t, n.dump());
          }
        }
        print_line("weights    gguf         {} {} (GGUF v{}, {} tensors: {})", e.value("path", ""),
                   e.value("quantization", ""), e.value("version", 0), e.value("tensors", std::uint64_t{0}), types);
      }
    }
  }
  if (payload && payload->base) {
    print_line("base       {} {} (bundle {}, {} chunks, set {})", payload->base->name, payload->base->version,
               payload->base->bundle_id, payload->base->chunk_count, payload->base->chunk_set);
    print_line("omitted    {} bytes in {} chunks, read back from the installed base",
               j["codecs"].value("base", nlohmann::json::object()).value("bytes", std::uint64_t{0}),
               j["codecs"].value("base", nlohmann::json::object()).value("chunks", std::uint64_t{0}));
  }
  if (payload) {
    for (const auto& [name, e] : j["codecs"].items()) {
      print_line("codec      {:<10} {:>8} chunks {:>14} bytes {:>14} stored", name, e["chunks"].get<std::uint64_t>(),
                 e["bytes"].get<std::uint64_t>(), e["stored"].get<std::uint64_t>());
    }
    for (const auto& f : payload->files) {
      print_line("file       {:o} {:>14} {}", f.mode, f.size, f.path);
    }
  } else {
    print_line("(the file list is encrypted: pass --key SITE_KEY_DIR or --passphrase-file to see it)");
  }
  return ok_status();
}

}  // namespace

void add_inspect_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a bundle's clear header; with a key, its file list");
  cmd->add_option("bundle", o->bundle, "bundle directory or its .airlock index")->required();
  cmd->add_option("--key", o->key_dir, "directory holding site.key and site.pub (e.g. ROOT/keys)");
  cmd->add_option("--passphrase-file", o->passphrase_file, "passphrase for a passphrase-encrypted bundle");
  cmd->add_flag("--json", o->json, "print as JSON");
  cmd->callback([&ctx, o] {
    auto st = inspect(*o);
    if (!st) {
      ctx.exit_code = ctx.printer.fail(st.error());
    }
  });
}

}  // namespace airlock::bundler

// airlock-bundler create: manifest -> signed, encrypted, chunked bundle.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

#include "bundler/commands/commands.h"
#include "bundler/commands/sources_cli.h"
#include "bundler/delta.h"
#include "bundler/media.h"
#include "bundler/plan.h"
#include "bundler/ship_installers.h"
#include "bundler/weights_check.h"
#include "cli/sizes.h"
#include "core/crypto/sha256.h"
#include "core/format/bundle_writer.h"
#include "core/format/frame.h"
#include "core/format/have_list.h"
#include "core/fs/dir.h"
#include "core/fs/file.h"
#include "core/fs/staged_output.h"
#include "core/manifest/manifest.h"
#include "keys/key_files.h"

namespace airlock::bundler {

namespace stdfs = std::filesystem;

namespace {

struct CreateOptions {
  std::string manifest;
  std::string out_dir;
  std::vector<std::string> sign;
  std::vector<std::string> to;
  std::string passphrase_file;
  bool no_encrypt = false;
  std::string volume_size = "fat32";
  bool volume_size_given = false;
  std::string media;              // PRESET or SIZE: lay the bundle out as disc01/, disc02/, ...
  std::uint32_t media_count_max = 0;
  std::uint64_t sequence = 0;
  std::string expires;
  bool json = false;
  std::size_t threads = 0;
  int zstd_level = 2;
  bool timings = false;
  std::vector<std::string> trust_add;     // NAME=FILE.pub
  std::vector<std::string> trust_revoke;  // key ids
  std::uint32_t trust_threshold = 0;
  std::string with_installer;  // DIR holding airlock-installer-linux-{x86_64,aarch64}
  std::string base;            // a record, or a bundle whose record is in the cache
  bool no_xor = false;         // with base: chunk dedup only
  std::string have;            // a site's signed have-list: the base is chosen from it
  std::string site_signing_key;
  SourceOptions sources;
};

// The key rotation to carry in the header, if any option asks for one.
Result<std::optional<format::TrustChange>> trust_change(const CreateOptions& o) {
  if (o.trust_add.empty() && o.trust_revoke.empty() && o.trust_threshold == 0) {
    return std::optional<format::TrustChange>();
  }
  format::TrustChange change;
  for (const std::string& spec : o.trust_add) {
    const std::size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      return make_error(ErrorCode::kUsage, "--trust-add '{}': expected NAME=FILE.pub", spec);
    }
    const std::string name = spec.substr(0, eq);
    if (!manifest::is_valid_name(name)) {
      return make_error(ErrorCode::kUsage, "--trust-add '{}': '{}' is not a valid key name ([a-z0-9._-]+)", spec,
                        name);
    }
    ASSIGN_OR_RETURN(keys::PublicKey key, keys::load_public_key(spec.substr(eq + 1)));
    change.add.push_back(format::TrustChange::NewKey{name, key.pub});
  }
  for (const std::string& id : o.trust_revoke) {
    if (id.size() != 16 || id.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return make_error(ErrorCode::kUsage, "--trust-revoke '{}': expected a key id (16 lowercase hex digits)", id);
    }
    change.revoke.push_back(id);
  }
  if (change.add.size() > format::k_max_trust_changes || change.revoke.size() > format::k_max_trust_changes) {
    return make_error(ErrorCode::kUsage, "at most {} keys may be added and {} revoked in one bundle",
                      format::k_max_trust_changes, format::k_max_trust_changes);
  }
  if (o.trust_threshold != 0) {
    change.threshold = o.trust_threshold;
  }
  return std::optional<format::TrustChange>(std::move(change));
}

Result<std::vector<format::Recipient>> wrap_data_key(const CreateOptions& o, const crypto::AeadKey& key,
                                                     ByteSpan bundle_id) {
  std::vector<format::Recipient> out;
  if (!o.passphrase_file.empty()) {
    ASSIGN_OR_RETURN(std::string pass, keys::read_passphrase_file(o.passphrase_file));
    format::Recipient r;
    r.type = "argon2id";
    crypto::random_bytes(r.argon2.salt);
    ASSIGN_OR_RETURN(auto kek, crypto::argon2id(pass, r.argon2));
    r.wrapped_key = crypto::xchacha_seal(key, format::passphrase_aad(bundle_id), kek);
    out.push_back(std::move(r));
    return out;
  }
  for (const std::string& path : o.to) {
    ASSIGN_OR_RETURN(keys::SitePublicKey site, keys::load_site_public_key(path));
    format::Recipient r;
    r.type = "x25519";
    r.keyid = site.keyid;
    r.wrapped_key = crypto::seal_to(key, site.pub);
    out.push_back(std::move(r));
  }
  return out;
}

// A medium's directory: disc01, disc02, ... (format::medium_dir_name).
bool looks_like_medium_dir(const std::string& name) {
  return name.size() >= 6 && name.starts_with("disc") &&
         name.find_first_not_of("0123456789", 4) == std::string::npos;
}

Status check_output_free(const stdfs::path& dir, const std::string& base, bool with_installer, bool media) {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (media && looks_like_medium_dir(name)) {
      return make_error(ErrorCode::kInvalidArgument, "{}: already holds {}/ (the media of another bundle?); choose "
                        "another -o", dir.string(), name);
    }
    if (name == base + ".airlock" || (name.starts_with(base + ".vol") && name.ends_with(".tar"))) {
      return make_error(ErrorCode::kInvalidArgument, "{}: already holds a bundle named {} ({}); choose another -o",
                        dir.string(), base, name);
    }
    if (with_installer && (format::looks_like_shipped_installer_file(name) || name == format::k_sha256sums_name ||
                           name == format::k_readme_name)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: already holds {} (shipped installers of another bundle?); choose another -o",
                        dir.string(), name);
    }
  }
  return ok_status();
}

// create --media: moves each volume into its medium's directory (staging/
// disc01/, ...), and writes a copy of the index and MEDIUM.txt into each;
// checks that every medium's files fit its usable bytes. Returns the plan
// as --json prints it.
Result<nlohmann::json> lay_out_media(const format::Header& header, const MediumSpec& spec, const Bytes& index,
                                     const std::string& base, const stdfs::path& tmp, std::uint64_t index_room,
                                     std::uint64_t label_room) {
  const std::string index_name = base + ".airlock";
  if (on_medium(spec, index.size()) > index_room) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the index is {} bytes, more than the {} kept for it on each {} medium (a very large number of "
                      "files or tensors); use larger media",
                      index.size(), index_room, spec.preset);
  }
  const std::string index_sha256 = crypto::sha256_hex(index);
  nlohmann::json out = nlohmann::json::array();
  for (std::uint32_t n = 1; n <= header.media->count; ++n) {
    const std::string dir_name = format::medium_dir_name(n);
    const stdfs::path dir = tmp / dir_name;
    TRY(fs::make_dirs(dir));
    nlohmann::json names = nlohmann::json::array();
    std::uint64_t used = 0;
    for (std::size_t v : format::volumes_on_medium(*header.media, n)) {
      const format::VolumeInfo& info = header.volumes[v];
      std::error_code ec;
      stdfs::rename(tmp / info.name, dir / info.name, ec);
      if (ec) {
        return make_error(ErrorCode::kIOError, "{}: cannot move it to {}: {}", info.name, dir_name, ec.message());
      }
      names.push_back(info.name);
      used += on_medium(spec, info.size);
    }
    if (n == 1 && header.installers) {
      for (const format::ShippedFile& f : header.installers->files) {
        used += on_medium(spec, f.size);
      }
    }
    const std::string label = medium_label(header, spec, n, index_name, index_sha256);
    if (on_medium(spec, label.size()) > label_room) {
      return make_error(ErrorCode::kIOError, "{}: {} is {} bytes, more than the {} kept for it (internal limit error)",
                        dir_name, format::k_medium_label_name, label.size(), label_room);
    }
    TRY(fs::write_file_atomic(dir / format::k_medium_label_name, as_bytes(label), 0644));
    TRY(fs::write_file_atomic(dir / index_name, index, 0644));
    TRY(fs::fsync_dir(dir));
    used += on_medium(spec, index.size()) + on_medium(spec, label.size());
    if (used > spec.usable) {
      return make_error(ErrorCode::kIOError, "{}: {} bytes do not fit the {} usable (internal limit error)", dir_name,
                        used, spec.usable);
    }
    out.push_back({{"medium", n}, {"dir", dir_name}, {"volumes", std::move(names)}, {"used_bytes", used},
                   {"free_bytes", spec.usable - used}, {"installers", n == 1 && header.installers.has_value()}});
  }
  return out;
}

// create --have FILE --site-signing-key PUB: the have-list must be signed
// by that site key (and name the site --to encrypts to, when --to is
// given); the base is the version it lists for this deployment whose record
// the cache holds: the active one if it has one, else the newest.
Result<BundleRecord> base_from_have_list(const CreateOptions& o, const std::string& name, const std::string& version,
                                         const stdfs::path& cache_dir, Context& ctx) {
  ASSIGN_OR_RETURN(keys::PublicKey site, keys::load_public_key(o.site_signing_key));
  ASSIGN_OR_RETURN(std::string text, fs::read_text_file(o.have, format::k_have_max_bytes));
  auto list = format::read_have_list(text, site.pub);
  if (!list) {
    return std::unexpected(std::move(list).error().with_context(fmt::format("--have {}", o.have)));
  }
  if (!o.to.empty()) {
    bool ours = false;
    for (const std::string& to : o.to) {
      ASSIGN_OR_RETURN(keys::SitePublicKey k, keys::load_site_public_key(to));
      ours = ours || k.keyid == list->site_keyid;
    }
    if (!ours) {
      return make_error(ErrorCode::kUntrusted,
                        "--have {}: the have-list is from site key {}, which is not a --to key of this bundle",
                        o.have, list->site_keyid);
    }
  }
  std::map<std::string, const format::HaveEntry*> held;  // bundle id -> entry
  for (const format::HaveEntry& e : list->entries) {
    if (e.name == name && e.version != version) {
      held.emplace(e.bundle_id, &e);
    }
  }
  std::optional<BundleRecord> best;
  bool best_active = false;
  for (BundleRecord& r : all_records(cache_dir)) {
    auto it = held.find(r.bundle_id);
    if (it == held.end() || r.name != name) {
      continue;
    }
    const bool active = it->second->active;
    if (!best || (active && !best_active) || (active == best_active && r.sequence > best->sequence)) {
      best_active = active;
      best = std::move(r);
    }
  }
  if (!best) {
    return make_error(ErrorCode::kNotFound,
                      "--have {}: the site holds {} version(s) of {}, none of them bundled with this cache ({}); "
                      "give --base RECORD, or make a full bundle",
                      o.have, held.size(), name, records_dir(cache_dir).string());
  }
  ctx.printer.note("have-list of site {} ({} entries, made {}): base {} {}{}", list->site_keyid,
                   list->entries.size(), cli::iso_time(list->created), best->name, best->version,
                   best_active ? " (active there)" : "");
  return std::move(*best);
}

Status create(const CreateOptions& o, Context& ctx) {
  int modes = (o.to.empty() ? 0 : 1) + (o.passphrase_file.empty() ? 0 : 1) + (o.no_encrypt ? 1 : 0);
  if (modes != 1) {
    return make_error(ErrorCode::kUsage,
                      "choose exactly one of --to SITE.pub (repeatable), --passphrase-file FILE or --no-encrypt");
  }
  auto parsed_size = cli::parse_size(o.volume_size);  // checked when parsed: a usage error, exit 2
  if (!parsed_size) {
    return std::unexpected(Error(ErrorCode::kUsage, parsed_size.error().message()).with_context("--volume-size"));
  }
  std::uint64_t volume_size = *parsed_size;
  std::optional<MediumSpec> medium;
  if (!o.media.empty()) {
    ASSIGN_OR_RETURN(MediumSpec spec, parse_medium(o.media));
    if (o.volume_size_given && volume_size > spec.max_file) {
      return make_error(ErrorCode::kUsage, "--volume-size {} is larger than a {} medium's largest file ({} bytes)",
                        o.volume_size, spec.preset, spec.max_file);
    }
    medium = spec;
  } else if (o.media_count_max != 0) {
    return make_error(ErrorCode::kUsage, "--media-count-max needs --media");
  }
  std::vector<format::Signer> signers;
  for (const std::string& s : o.sign) {
    ASSIGN_OR_RETURN(format::Signer signer, keys::load_signing_key(s));
    signers.push_back(signer);
  }
  // Read and checked once, before anything is fetched or written: what is
  // staged later is exactly these bytes.
  std::vector<InstallerBinary> installers;
  if (!o.with_installer.empty()) {
    ASSIGN_OR_RETURN(installers, load_installers(o.with_installer));
    for (const InstallerBinary& b : installers) {
      if (b.dynamic) {
        ctx.printer.warn("{}: dynamically linked: it will not start on a machine without its shared libraries "
                         "(the release build makes static ones)",
                         b.name);
      }
    }
  }
  ASSIGN_OR_RETURN(SourceSession sources, open_sources(o.sources, ctx));
  ASSIGN_OR_RETURN(Lock lock, load_or_resolve(o.manifest, sources, false));
  ASSIGN_OR_RETURN(FileSources where, fetch_with_progress(lock, sources, ctx));
  // Before anything is written: weights that run code, custom code, bad headers.
  TRY(check_model_weights(lock, where, o.manifest));
  ASSIGN_OR_RETURN(std::vector<format::InputFile> inputs, plan_inputs(lock, where));
  struct {
    std::string name, version;
  } m{lock.name, lock.version};
  std::unique_ptr<DeltaPlan> delta;
  if (o.no_xor && o.base.empty() && o.have.empty()) {
    return make_error(ErrorCode::kUsage, "--no-xor needs --base or --have");
  }
  std::optional<BundleRecord> chosen;
  if (!o.have.empty()) {
    ASSIGN_OR_RETURN(chosen, base_from_have_list(o, m.name, m.version, sources.cache->dir(), ctx));
  } else if (!o.base.empty()) {
    ASSIGN_OR_RETURN(chosen, find_base_record(o.base, sources.cache->dir()));
  }
  if (chosen) {
    const BundleRecord& record = *chosen;
    if (record.name != m.name || record.version == m.version) {
      return make_error(ErrorCode::kUsage, "the base bundle is {} {}; a delta needs another version of {}",
                        record.name, record.version, m.name);
    }
    ASSIGN_OR_RETURN(delta, DeltaPlan::make(record, inputs, !o.no_xor));
    for (const std::string& path : delta->unreadable()) {
      ctx.printer.warn("base file {} is no longer where {} {} was bundled from: its tensors are not XORed against",
                       path, record.name, record.version);
    }
    ctx.printer.note("delta against {} {} (bundle {}, {} chunks): only what that version lacks is shipped",
                     record.name, record.version, record.bundle_id, record.chunk_count);
  }

  format::Header header;
  header.name = m.name;
  header.version = m.version;
  Bytes bundle_id(16);
  crypto::random_bytes(bundle_id);
  header.bundle_id = to_hex(bundle_id);
  header.created = ctx.clock.now_seconds();
  header.sequence = o.sequence != 0 ? o.sequence : static_cast<std::uint64_t>(header.created);
  if (!o.expires.empty()) {
    ASSIGN_OR_RETURN(std::int64_t secs, manifest::parse_duration_seconds(o.expires));
    header.expires = header.created + secs;
  }
  header.tool = "airlock-bundler 0.1.0";
  ASSIGN_OR_RETURN(header.trust, trust_change(o));
  std::optional<crypto::AeadKey> data_key;
  if (!o.no_encrypt) {
    crypto::AeadKey key{};
    crypto::random_bytes(key);
    data_key = key;
    header.suite = "aes-256-gcm";
    ASSIGN_OR_RETURN(header.recipients, wrap_data_key(o, key, bundle_id));
  } else {
    header.suite = "none";
  }

  // Build everything in a private directory; move it into place only when
  // complete. Any return before commit() leaves no trace in -o.
  stdfs::path out_dir = o.out_dir;
  std::string base = m.name + "-" + m.version;
  TRY(check_output_free(out_dir, base, !installers.empty(), medium.has_value()));
  ASSIGN_OR_RETURN(fs::StagedOutput output, fs::StagedOutput::begin(out_dir, ".airlock-tmp-" + header.bundle_id));
  const stdfs::path& tmp = output.staging();
  // With --media the installers go on the first medium, so they are staged
  // first: the room they take there is then known exactly.
  const stdfs::path first_dir = medium ? tmp / format::medium_dir_name(1) : tmp;
  if (medium) {
    TRY(fs::make_dirs(first_dir));
  }
  if (!installers.empty()) {
    ASSIGN_OR_RETURN(header.installers,
                     stage_installers(installers, signers, first_dir,
                                      ReadmeFacts{m.name, m.version, base + ".airlock", medium.has_value()}));
  }
  std::optional<MediaPacker> packer;
  std::uint64_t index_room = 0;
  std::uint64_t label_room = 0;
  if (medium) {
    const std::uint64_t cap = o.volume_size_given ? volume_size : 0;
    const std::uint64_t largest = cap != 0 ? std::min(cap, medium->max_file) : medium->max_file;
    std::uint64_t input_bytes = 0;
    for (const format::InputFile& in : inputs) {
      input_bytes += in.size;
    }
    index_room = on_medium(*medium, index_reserve(input_bytes, inputs.size(), medium->usable, largest));
    label_room = on_medium(*medium, label_reserve(medium->usable, largest));
    std::uint64_t first_extra = 0;
    if (header.installers) {
      for (const format::ShippedFile& f : header.installers->files) {
        first_extra += on_medium(*medium, f.size);
      }
    }
    if (first_extra + index_room + label_room > medium->usable) {
      return make_error(ErrorCode::kInvalidArgument,
                        "the shipped installers ({} bytes on the medium) and the {} bytes kept for the index and "
                        "its label do not fit on the first {} medium ({} usable bytes); use larger media",
                        first_extra, index_room + label_room, medium->preset, medium->usable);
    }
    packer.emplace(*medium, index_room + label_room, first_extra, cap,
                   o.media_count_max != 0 ? o.media_count_max : format::k_max_media);
  }

  format::WriteOptions wo;
  wo.dir = tmp;
  wo.base_name = base;
  wo.volume_size = volume_size;
  wo.bundle_id = bundle_id;
  wo.data_key = data_key;
  wo.threads = o.threads;
  wo.zstd_level = o.zstd_level;
  wo.delta = delta ? &delta->input() : nullptr;
  Timings timings;
  auto started = std::chrono::steady_clock::now();
  if (o.timings) {
    wo.timings = &timings;
  }
  if (packer) {
    wo.volume_limit = [&packer](const std::vector<format::VolumeInfo>& done) { return packer->next_limit(done); };
  }
  wo.progress = ctx.printer.progress();
  auto written = format::write_volumes(inputs, wo);
  ctx.printer.end_progress();
  TRY(written);
  TRY(reconcile_hashes(lock, written->payload));
  written->payload.name = m.name;
  written->payload.version = m.version;
  written->payload.activate = lock.activate;
  written->payload.sources = sources_for_payload(lock);
  if (delta) {
    written->payload.base = delta->base_ref();
  }
  header.volumes = written->volumes;
  // The lowest version whose readers can read it: an older installer still
  // installs a bundle without solid blocks.
  header.format_version = written->payload.needed_format_version();
  if (packer) {
    header.media = packer->plan(header.volumes);
  }
  // The installer's reader is the judge: what it would refuse (a name or
  // sources field outside core/names/names.h) is refused here, before signing.
  if (auto readable = format::decode_payload(format::encode_payload(written->payload), header.volumes.size(),
                                             header.format_version);
      !readable) {
    return make_error(ErrorCode::kInvalidArgument, "the installer would refuse this bundle: {}",
                      readable.error().message());
  }
  ASSIGN_OR_RETURN(Bytes index, format::seal_index(header, written->payload, data_key, signers));
  nlohmann::json media_json = nlohmann::json::array();
  if (medium) {
    ASSIGN_OR_RETURN(media_json, lay_out_media(header, *medium, index, base, tmp, index_room, label_room));
    std::vector<std::string> to_move;
    for (std::uint32_t n = 2; n <= header.media->count; ++n) {
      to_move.push_back(format::medium_dir_name(n));
    }
    // Medium 1 goes last: an output directory holding disc01/ holds the whole set.
    TRY(output.commit(to_move, format::medium_dir_name(1)));
  } else {
    TRY(fs::write_file_atomic(tmp / (base + ".airlock"), index, 0644));
    std::vector<std::string> to_move;
    for (const format::VolumeInfo& v : header.volumes) {
      to_move.push_back(v.name);
    }
    if (header.installers) {
      for (const format::ShippedFile& f : header.installers->files) {
        to_move.push_back(f.name);
      }
    }
    // The index goes last: a bundle directory with an index is complete.
    TRY(output.commit(to_move, base + ".airlock"));
  }
  if (o.timings) {
    ctx.printer.print_timings(timings, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  // What a later create --base needs (the bundle itself cannot be read
  // back here: its body is encrypted to the site).
  if (Status kept = write_record(sources.cache->dir(), make_record(header, written->payload, inputs)); !kept) {
    ctx.printer.warn("the bundle is complete, but its record for later delta bundles was not kept: {}",
                     kept.error().message());
  }

  nlohmann::json summary = {{"bundle_id", header.bundle_id}, {"deployment", m.name}, {"version", m.version},
                            {"sequence", header.sequence}, {"files", written->payload.files.size()},
                            {"chunks", written->payload.chunks.size()}, {"input_bytes", written->input_bytes},
                            {"stored_bytes", written->stored_bytes}, {"volumes", header.volumes.size()},
                            {"index", (out_dir / (base + ".airlock")).string()}, {"encrypted", data_key.has_value()}};
  nlohmann::json shipped = nlohmann::json::array();
  for (const InstallerBinary& b : installers) {
    shipped.push_back(b.name);
  }
  summary["installers"] = std::move(shipped);
  summary["base"] = delta ? nlohmann::json({{"deployment", written->payload.base->name},
                                            {"version", written->payload.base->version},
                                            {"bundle_id", written->payload.base->bundle_id}})
                          : nlohmann::json();
  summary["base_chunks"] = written->base_chunks;
  summary["base_bytes"] = written->base_bytes;
  summary["xor_chunks"] = written->xor_chunks;
  summary["xor_bytes"] = written->xor_bytes;
  summary["xor_stored_bytes"] = written->xor_stored;
  if (medium) {
    summary["media"] = media_json;
    summary["index"] = (out_dir / format::medium_dir_name(1) / (base + ".airlock")).string();
  }
  if (o.json) {
    fmt::print("{}\n", summary.dump(2));
  } else {
    fmt::print("created {} ({} files, {} in, {} stored in {} volume(s), {} chunks)\nbundle id {}  sequence {}\n",
               medium ? fmt::format("{}/ ({} media, each with {})", out_dir.string(), header.media->count,
                                    base + ".airlock")
                      : (out_dir / (base + ".airlock")).string(),
               written->payload.files.size(),
               cli::human_bytes(written->input_bytes), cli::human_bytes(written->stored_bytes), header.volumes.size(),
               written->payload.chunks.size(), header.bundle_id, header.sequence);
    if (delta) {
      fmt::print("delta against {} {}: {} in {} chunks left out (the site rebuilds them from its installed copy); "
                 "{} chunks ({}) shipped as XOR frames of {}\n",
                 written->payload.base->name, written->payload.base->version, cli::human_bytes(written->base_bytes),
                 written->base_chunks, written->xor_chunks, cli::human_bytes(written->xor_bytes),
                 cli::human_bytes(written->xor_stored));
    }
    if (!installers.empty()) {
      fmt::print("with {} signed installer(s) and README.txt for the isolated side{}\n", installers.size(),
                 medium ? " (on disc01)" : "");
    }
    if (medium) {
      fmt::print("media: {} x {} ({} usable bytes each, {}), each with the index and {}:\n", header.media->count,
                 medium->preset, medium->usable, medium->file_system, format::k_medium_label_name);
      for (const nlohmann::json& d : media_json) {
        const auto& vols = d["volumes"];
        const std::string what = vols.empty() ? std::string("no volume")
                                 : vols.size() == 1
                                     ? vols[0].get<std::string>()
                                     : fmt::format("{} .. {} ({} volumes)", vols.front().get<std::string>(),
                                                   vols.back().get<std::string>(), vols.size());
        fmt::print("  {}/  {}; {} used, {} free\n", (out_dir / d["dir"].get<std::string>()).string(), what,
                   cli::human_bytes(d["used_bytes"].get<std::uint64_t>()),
                   cli::human_bytes(d["free_bytes"].get<std::uint64_t>()));
      }
    }
  }
  return ok_status();
}

}  // namespace

void add_create_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CreateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "create", "Bundle a deployment manifest or lock into DIR: NAME-VERSION.airlock + volumes (fetching what the "
                "cache lacks)");
  cmd->add_option("manifest", o->manifest, "deployment manifest (TOML), or a lock (JSON) to bundle exactly")
      ->required();
  cmd->add_option("-o,--out", o->out_dir, "output directory")->required()->type_name("DIR");
  cmd->add_option("--sign", o->sign, "publisher signing key (.key); repeat to add signatures")->required();
  cmd->add_option("--to", o->to, "site public key (site.pub from 'airlock-installer init'); repeatable");
  cmd->add_option("--passphrase-file", o->passphrase_file, "encrypt under a passphrase (Argon2id) read from this file");
  cmd->add_flag("--no-encrypt", o->no_encrypt, "store frames unencrypted (still signed and hashed)");
  cmd->add_option("--volume-size", o->volume_size,
                  "largest volume: bytes, K/M/G/T (powers of 1024: 700M, 4.5G) or KB/MB/GB/TB (powers of 1000, "
                  "as discs are labelled: 4.7GB), or a preset: fat32 (4 GiB - 1), dvd, dvd-dl, bd25, bd50")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            auto size = cli::parse_size(text);
            if (!size) {
              return size.error().message();
            }
            if (*size < format::k_min_volume_size) {
              return fmt::format("{} bytes is below the smallest volume, {} (4M)", *size, format::k_min_volume_size);
            }
            return {};
          },
          "SIZE"));
  cmd->add_option("--media", o->media,
                  "lay the bundle out for removable media, one directory per medium (disc01/, disc02/, ...), each "
                  "filled to the medium's usable capacity and holding a copy of the signed index and a MEDIUM.txt "
                  "label: a preset (" + medium_preset_names() + ") or a medium's usable size (e.g. 700M); volumes "
                  "stay under 4 GiB, what FAT32 and ISO 9660 store")
      ->type_name("PRESET|SIZE");
  cmd->add_option("--media-count-max", o->media_count_max, "with --media: refuse a bundle that needs more media")
      ->check(CLI::Range(1u, format::k_max_media))
      ->type_name("N");
  cmd->add_option("--sequence", o->sequence, "anti-replay sequence number (default: seconds since the epoch)");
  cmd->add_option("--expires", o->expires, "refuse to install after this long, e.g. 30d, 12h");
  cmd->add_flag("--json", o->json, "print the result as JSON");
  cmd->add_option("--zstd-level", o->zstd_level,
                  "zstd level for chunks and small-file blocks that are not float weights (default 2; 3-19 trade speed for size)")
      ->check(CLI::Range(1, 19));
  cmd->add_option("--trust-add", o->trust_add,
                  "key rotation: sites that install this bundle also trust NAME=FILE.pub (repeatable)");
  cmd->add_option("--trust-revoke", o->trust_revoke,
                  "key rotation: sites revoke this publisher key id (repeatable); the bundle must still be signed "
                  "by enough of the keys the sites trust now");
  cmd->add_option("--trust-threshold", o->trust_threshold, "key rotation: the sites' new signature threshold")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--with-installer", o->with_installer,
                  "also ship the static installers from DIR (airlock-installer-linux-x86_64 and -aarch64, as "
                  "packaging/build-release.sh writes them to dist/), each signed by every --sign key, with the "
                  "publisher key as PEM, SHA256SUMS and README.txt for the isolated side")
      ->type_name("DIR");
  cmd->add_option("--base", o->base,
                  "make a delta bundle: leave out every chunk that this earlier bundle of the deployment shipped, "
                  "and ship changed tensors as XOR against the same tensor there; BASE is that bundle's directory "
                  "or index (its record is kept in the cache by create) or its record file "
                  "(CACHE/records/BUNDLE_ID.json). The site must have BASE's version installed")
      ->type_name("BASE");
  cmd->add_option("--have", o->have,
                  "make a delta bundle against what a site holds: its have-list (airlock-installer have --export), "
                  "verified with --site-signing-key; the base is the version listed there whose record this cache "
                  "keeps (the active one if it can)")
      ->type_name("FILE");
  cmd->add_option("--site-signing-key", o->site_signing_key,
                  "with --have: the site's site-signing.pub (ROOT/keys); a have-list signed by any other key is "
                  "refused")
      ->type_name("PUB");
  cmd->add_flag("--no-xor", o->no_xor,
                "with --base: only leave out the chunks the base holds; ship changed tensors whole instead of as "
                "XOR against the base's");
  cmd->add_option("--threads", o->threads, "worker threads for hashing and compression (default: one per core)");
  cmd->add_flag("--timings", o->timings, "print where the time went, per stage");
  add_source_options(cmd, o->sources);
  cmd->get_option("--have")->excludes("--base");
  cmd->get_option("--have")->needs("--site-signing-key");
  cmd->get_option("--site-signing-key")->needs("--have");
  cmd->callback([&ctx, o, cmd] {
    ctx.printer.set_quiet(ctx.quiet);
    o->volume_size_given = cmd->get_option("--volume-size")->count() > 0;
    auto st = create(*o, ctx);
    if (!st) {
      ctx.exit_code = ctx.printer.fail(st.error());
    }
  });
}

}  // namespace airlock::bundler

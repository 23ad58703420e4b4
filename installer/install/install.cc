#include "installer/install/install.h"

#include <algorithm>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/interrupt.h"
#include "core/format/delta.h"
#include "core/fs/dir.h"
#include "core/fs/file.h"
#include "installer/activation/activation.h"
#include "installer/admit/rotation.h"
#include "installer/install/bring_up.h"
#include "installer/install/delta_base.h"
#include "installer/install/stager.h"
#include "installer/site/crash_point.h"
#include "installer/targets/targets.h"

namespace airlock::installer {

namespace stdfs = std::filesystem;

namespace {

// Files of the active version that the new one ships unchanged: same path,
// size, mode and SHA-256, and the installed copy still hashes right.
Result<std::vector<bool>> find_unchanged(Site& site, const format::Payload& payload) {
  std::vector<bool> skip(payload.files.size(), false);
  ASSIGN_OR_RETURN(auto active, site.ledger().active_version(payload.name));
  if (!active) {
    return skip;
  }
  ASSIGN_OR_RETURN(auto old_files, site.ledger().files(payload.name, *active));
  std::map<std::string, FileRecord> by_path;
  for (FileRecord& r : old_files) {
    by_path.emplace(r.path, std::move(r));
  }
  stdfs::path old_dir = site.version_dir(payload.name, *active);
  for (std::size_t i = 0; i < payload.files.size(); ++i) {
    const format::FileEntry& f = payload.files[i];
    auto it = by_path.find(f.path);
    if (it == by_path.end() || it->second.sha256 != f.sha256 || it->second.size != f.size || it->second.mode != f.mode) {
      continue;
    }
    auto got = fs::sha256_file(old_dir / f.path);
    skip[i] = got && *got == f.sha256;  // a damaged old copy is simply written afresh
  }
  return skip;
}

// An install stopped between volumes (Ctrl-C, kill -9, a medium not there
// yet) leaves ROOT/staging/BUNDLE_ID/resume.json: which volumes are staged,
// for which index bytes and which active version (the files hardlinked
// from it instead of written depend on it). The record only spares reading
// those volumes again: every staged file is still hashed whole against the
// signed manifest before it is installed.
constexpr const char* k_resume_name = "resume.json";

std::vector<bool> load_resume(const stdfs::path& stage, const std::string& index_sha256,
                              const std::optional<std::string>& active, std::size_t volumes) {
  std::vector<bool> done(volumes, false);
  auto text = fs::read_text_file(stage / k_resume_name, 1 << 20);
  if (!text) {
    return {};
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("index_sha256") || j["index_sha256"] != index_sha256 || !j.contains("active") ||
      j["active"] != (active ? nlohmann::json(*active) : nlohmann::json()) || !j.contains("done") ||
      !j["done"].is_array()) {
    return {};
  }
  for (const auto& v : j["done"]) {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() >= volumes) {
      return {};
    }
    done[v.get<std::size_t>()] = true;
  }
  return done;
}

// Through the site's FileSystem (the crash-safety tests' seam): a temp
// file, made durable, renamed over the record, the directory fsynced.
Status write_resume(os::FileSystem& disk, const stdfs::path& stage, const format::Header& h,
                    const std::string& index_sha256, const std::optional<std::string>& active,
                    const std::vector<bool>& done) {
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t v = 0; v < done.size(); ++v) {
    if (done[v]) {
      list.push_back(v);
    }
  }
  nlohmann::json j = {{"index_sha256", index_sha256}, {"active", active ? nlohmann::json(*active) : nlohmann::json()},
                      {"done", list}, {"deployment", h.name}, {"version", h.version},
                      {"volumes", done.size()}};  // the last three for status only
  const std::string text = j.dump() + "\n";
  const stdfs::path tmp = stage / (std::string(k_resume_name) + ".tmp");
  TRY(disk.remove_tree(tmp));
  {
    ASSIGN_OR_RETURN(std::unique_ptr<os::StagedFile> file, disk.create_new(tmp, 0600));
    TRY(file->pwrite_all(ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), 0));
  }
  TRY(disk.sync_file_system(stage));
  TRY(disk.rename(tmp, stage / k_resume_name));
  return disk.fsync_dir(stage);
}

std::size_t count_true(const std::vector<bool>& v) { return static_cast<std::size_t>(std::count(v.begin(), v.end(), true)); }

}  // namespace

std::vector<PendingInstall> pending_installs(Site& site) {
  std::vector<PendingInstall> out;
  auto staging = fs::Dir::open(site.staging_dir());
  if (!staging) {
    return out;
  }
  auto entries = staging->list();
  if (!entries) {
    return out;
  }
  for (const fs::DirEntry& e : *entries) {
    auto text = fs::read_text_file(site.staging_dir() / e.name / k_resume_name, 1 << 20);
    if (!text) {
      continue;
    }
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object() || !j.value("done", nlohmann::json()).is_array()) {
      continue;
    }
    PendingInstall p;
    p.bundle_id = e.name;
    p.deployment = j.value("deployment", nlohmann::json("?")).is_string() ? j.value("deployment", "?") : "?";
    p.version = j.value("version", nlohmann::json("?")).is_string() ? j.value("version", "?") : "?";
    p.staged = j["done"].size();
    p.volumes = j.value("volumes", nlohmann::json(0)).is_number_unsigned() ? j.value("volumes", std::size_t{0}) : 0;
    out.push_back(std::move(p));
  }
  return out;
}

namespace {

// At most one interrupted install is kept: starting another discards it.
Status remove_other_stages(Site& site, const std::string& keep) {
  auto staging = fs::Dir::open(site.staging_dir());
  if (!staging) {
    return staging.error().code() == ErrorCode::kNotFound ? ok_status() : Status(std::unexpected(staging.error()));
  }
  ASSIGN_OR_RETURN(auto entries, staging->list());
  for (const fs::DirEntry& e : entries) {
    if (e.name != keep) {
      TRY(site.files().remove_tree(site.staging_dir() / e.name));
    }
  }
  return ok_status();
}

// Read-only files, then read-only directories, deepest first; the top one,
// `tree` itself, is left for after its move.
Status seal_tree(os::FileSystem& disk, const stdfs::path& tree, const format::Payload& payload, const std::vector<bool>& linked) {
  for (std::size_t i = 0; i < payload.files.size(); ++i) {
    if (linked[i]) {
      continue;  // shares the old inode, already read-only
    }
    TRY(disk.chmod(tree / payload.files[i].path, payload.files[i].mode & 0555));  // never through a link
  }
  std::vector<stdfs::path> dirs;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(tree, ec); it != stdfs::recursive_directory_iterator(); ++it) {
    if (it->is_directory() && !it->is_symlink()) {
      dirs.push_back(it->path());
    }
  }
  // The top directory is sealed only once it is in place (do_install): a
  // directory moved to another parent must be writable by whoever moves it,
  // since rename(2) rewrites its ".." entry; only root is exempt.
  std::sort(dirs.begin(), dirs.end(), [](const stdfs::path& a, const stdfs::path& b) { return a.string().size() > b.string().size(); });
  for (const stdfs::path& d : dirs) {
    TRY(disk.fsync_dir(d));
    TRY(disk.chmod(d, 0555));
  }
  return ok_status();
}

Result<InstallOutcome> do_install(Site& site, Admitted& a, const InstallOptions& options) {
  const format::Header& h = a.opened.header;
  const format::Payload& payload = a.payload;
  InstallOutcome out;
  out.name = h.name;
  out.version = h.version;
  out.bundle_id = h.bundle_id;
  out.signers = a.signers;
  out.files = payload.files.size();
  out.bytes = payload.total_file_bytes();

  stdfs::path stage = site.staging_dir() / h.bundle_id;
  stdfs::path tree = stage / "tree";
  // Staging, the hardlinks and the move into deployments/ go through
  // core/fs/dir.h: no directory below ROOT is reached through a link.
  // Every call that changes the disk goes through the site's FileSystem
  // (core/os/file_system.h), the seam the crash-safety unit tests use.
  os::FileSystem& disk = site.files();
  auto say = [&](const std::string& line) {
    if (options.say) {
      options.say(line);
    }
  };
  std::optional<ScopedTimer> prepare(std::in_place, options.timings, "find unchanged files + reserve space");
  ASSIGN_OR_RETURN(std::vector<bool> linked, find_unchanged(site, payload));
  // A delta bundle: its base must be installed here, with the chunk set it
  // was made against, and every chunk it is rebuilt from must still be in
  // the base's files as installed; all of that is checked before anything
  // is written (an interrupted install's stage included).
  std::unique_ptr<BaseChunks> base;
  if (payload.base) {
    ASSIGN_OR_RETURN(base, BaseChunks::open(site, payload));
    out.base = base->describe();
    ASSIGN_OR_RETURN(std::uint64_t checked,
                     check_base_chunks(*base, payload, linked, options.progress, options.threads));
    say(fmt::format("delta bundle against {}: {} bytes of it checked, to be rebuilt from its installed files",
                    base->describe(), checked));
  }
  TRY(remove_other_stages(site, h.bundle_id));
  ASSIGN_OR_RETURN(const std::optional<std::string> active_before, site.ledger().active_version(h.name));
  std::vector<bool> done = load_resume(stage, a.opened.index_sha256, active_before, h.volumes.size());
  std::unique_ptr<Stager> stager;
  if (count_true(done) != 0) {
    stager = std::make_unique<Stager>(disk, payload, tree, linked);
    if (Status st = stager->resume_files(done); !st) {
      say(fmt::format("the interrupted install's staged files are not as it left them ({}); starting afresh",
                      st.error().message()));
      stager.reset();
      done.clear();
    } else {
      say(fmt::format("resuming the interrupted install of {} {}: {} of {} volume(s) already staged, not read again",
                      h.name, h.version, count_true(done), h.volumes.size()));
    }
  }
  if (!stager) {
    done.assign(h.volumes.size(), false);
    TRY(disk.remove_tree(stage));
    TRY(disk.make_dirs(tree, 0755));
    stager = std::make_unique<Stager>(disk, payload, tree, linked);
    TRY(stager->create_files());
  }
  prepare.reset();
  crash_point("staged");
  auto sink = [&](std::uint32_t chunk, ByteSpan plain) { return stager->on_chunk(chunk, plain); };
  format::StreamPlan plan;
  if (options.drive) {
    plan.source = drive_source(a.opened, payload, *options.drive);
  }
  plan.done = done;
  // Encrypted: every frame is authenticated where it lies and the rest of a
  // volume is fixed by the signed pack table, so hashing the volume again
  // would prove nothing more (docs/SECURITY.md, "What each check proves").
  plan.volume_hashes = false;
  plan.volume_done = [&](std::uint32_t v) -> Status {
    // Staged bytes written and durable first, then the record that says so.
    TRY(stager->flush());
    done[v] = true;
    return write_resume(disk, stage, h, a.opened.index_sha256, active_before, done);  // its syncfs covers the tree
  };
  if (base) {
    // Chunks on no medium first, from the base (each run: they are not in
    // the resume record), then the volumes; XOR frames read their base
    // chunk as they are decoded.
    ScopedTimer t(options.timings, "read chunks back from the base");
    std::vector<std::uint32_t> wanted;
    for (std::uint32_t k = 0; k < payload.chunks.size(); ++k) {
      if (payload.chunks[k].codec == codec::Codec::kBase && stager->wanted(k)) {
        wanted.push_back(k);
      }
    }
    ASSIGN_OR_RETURN(out.base_bytes,
                     read_base_chunks(*base, payload, wanted,
                                      [&](std::uint32_t k, ByteSpan plain) { return stager->on_chunk(k, plain); },
                                      options.threads));
    plan.base_chunk = [&base](const crypto::Digest& id, std::span<std::uint8_t> bytes) { return base->read(id, bytes); };
    for (const format::ChunkEntry& c : payload.chunks) {
      out.xor_bytes += c.codec == codec::Codec::kXor ? c.size : 0;
    }
  }
  auto streamed = format::stream_volumes(a.opened, payload, a.key, sink, options.progress, options.threads,
                                         options.timings, plan);
  if (!streamed) {
    return std::unexpected(streamed.error());
  }
  out.media_bytes = streamed->volume_bytes;
  // Every volume read: from here on (hardlinks, read-only modes) the stage
  // is no longer one to resume; a stop now starts the next install afresh.
  TRY(disk.remove_tree(stage / k_resume_name));
  crash_point("streamed");
  std::optional<ScopedTimer> finalize(std::in_place, options.timings, "fsync + hardlinks + read-only + rename");
  TRY(stager->finish());

  ASSIGN_OR_RETURN(auto active, site.ledger().active_version(h.name));
  for (std::size_t i = 0; i < payload.files.size(); ++i) {
    if (!linked[i]) {
      continue;
    }
    stdfs::path from = site.version_dir(h.name, *active) / payload.files[i].path;
    stdfs::path to = tree / payload.files[i].path;
    TRY(disk.make_dirs(to.parent_path(), 0755));
    TRY(disk.hardlink(from, to));
    ++out.linked;
  }
  TRY(seal_tree(disk, tree, payload, linked));
  if (std::any_of(payload.files.begin(), payload.files.end(),
                  [](const format::FileEntry& f) { return f.path == "images/index.json"; })) {
    TRY(check_image_index(tree / "images/index.json"));  // its refs become ROOT/images entries
  }
  crash_point("verified");

  // staged + verified -> installed: move into place, then commit.
  stdfs::path dest = site.version_dir(h.name, h.version);
  TRY(disk.make_dirs(dest.parent_path(), 0755));
  TRY(disk.remove_tree(dest));  // an uncommitted leftover, if any (recover() normally removes it)
  TRY(disk.chmod(stage, 0700));
  Status moved = disk.rename(tree, dest);
  if (!moved) {
    return make_error(ErrorCode::kIOError, "{}: cannot move into place: {}", dest.string(), moved.error().message());
  }
  TRY(disk.fsync_dir(dest));
  TRY(disk.chmod(dest, 0555));
  TRY(disk.fsync_dir(dest.parent_path()));
  finalize.reset();
  crash_point("moved");

  ScopedTimer commit_timer(options.timings, "ledger commit + activate");
  VersionRecord rec;
  rec.deployment = h.name;
  rec.version = h.version;
  rec.bundle_id = h.bundle_id;
  rec.sequence = h.sequence;
  rec.created_at = h.created;
  rec.installed_at = site.clock().now_seconds();
  rec.total_bytes = out.bytes;
  rec.index_sha256 = a.opened.index_sha256;
  std::vector<FileRecord> files;
  for (const format::FileEntry& f : payload.files) {
    files.push_back(FileRecord{f.path, f.size, f.sha256, f.mode});
  }
  std::string target = h.name + "/" + h.version;
  const format::ChunkMap chunk_map = format::chunk_map_of(payload);  // what a later delta is rebuilt from
  const std::string chunk_set = to_hex(format::chunk_set_digest(chunk_map.ids()));
  if (options.activate) {
    TRY(mark_targets_dirty(site));  // rebuilt after the switch, or by recover() after a crash
  }
  Status committed = site.ledger().with_transaction([&]() -> Status {
    TRY(site.ledger().record_version(rec, files));
    TRY(site.ledger().set_version_meta(h.name, h.version, VersionMeta{payload.sources.dump(), payload.activate.dump()}));
    TRY(site.ledger().set_chunk_map(h.name, h.version, chunk_set, format::encode_chunk_map(chunk_map)));
    TRY(record_pending_rotation(site, h, a.opened.index_sha256));  // applied once, after the commit
    TRY(site.log("install", target, "ok",
                 fmt::format("bundle {} sequence {}, {} files, {} bytes, {} hardlinked, signed by {}, chunk set {}{}",
                             h.bundle_id, h.sequence, out.files, out.bytes, out.linked, fmt::join(a.signers, ", "),
                             chunk_set, base ? ", delta against " + base->describe() : std::string())));
    if (options.activate) {
      TRY(site.ledger().set_active(h.name, h.version));
      TRY(target_conflicts(site, h.name));  // refused before anything in ROOT/hf, images, apt, wheels changes
      TRY(site.log("activate", target, "ok", active ? fmt::format("previous {}", *active) : "first version"));
    }
    return ok_status();
  });
  if (!committed) {
    (void)disk.remove_tree(dest);
    if (options.activate) {
      (void)clear_targets_dirty(site);  // nothing changed: no rebuild (and no "interrupted" warning) next time
    }
    return std::unexpected(committed.error());
  }
  crash_point("committed");
  (void)disk.remove_tree(stage);
  out.previous = active;
  if (options.activate) {
    if (Status st = site.switch_current(h.name, h.version); !st) {
      // Committed: the ledger records it active and recover() retries the
      // switch on the next command; its activation does not run now.
      return make_error(st.error().code(), "{} {} is installed and recorded active, but switching {}/current to it "
                        "failed: {}; the next airlock-installer command retries the switch",
                        h.name, h.version, h.name, st.error().message());
    }
    out.activated = true;
  }
  crash_point("activated");
  return out;
}

}  // namespace

Result<InstallOutcome> install_bundle(Site& site, const stdfs::path& bundle, const InstallOptions& options) {
  std::optional<ScopedTimer> gate_timer(std::in_place, options.timings, "gate: signature, key, manifest");
  auto admitted = admit(site, bundle, options.gate);
  gate_timer.reset();
  if (!admitted) {
    std::string target = bundle.filename().string();
    if (auto header = format::read_unverified_header(bundle)) {
      target = header->name + "/" + header->version;  // as the (unverified) header names it; the log escapes it
    }
    (void)site.log("install", target, admitted.error().is_verification_failure() ? "refused" : "failed",
                   admitted.error().message());
    return std::unexpected(admitted.error());
  }
  const format::Header& h = admitted->opened.header;
  if (options.say && !options.drive) {  // through a drive, each medium's are said as it comes in
    for (const std::string& n : admitted->notes) {
      options.say(n);
    }
  }
  if (admitted->already_installed) {
    InstallOutcome out;
    out.name = h.name;
    out.version = h.version;
    out.bundle_id = h.bundle_id;
    out.already_installed = true;
    // Nothing is applied again: a rotation it carried was settled once (a
    // crash before that is completed by recover(), which already ran).
    if (h.trust) {
      ASSIGN_OR_RETURN(std::optional<RotationRecord> rotation, site.ledger().find_rotation(h.bundle_id));
      out.rotation_state = rotation ? rotation->state : std::string("not recorded (installed before ledger schema 3)");
    }
    return out;
  }
  auto result = do_install(site, *admitted, options);
  if (!result) {
    // Stopped, or a medium not there: what is staged is good and is kept
    // for the next install. Anything else (bytes that failed a check, a
    // write or sync that failed on ROOT's disk) removes the stage.
    const stdfs::path stage = site.staging_dir() / h.bundle_id;
    const ErrorCode code = result.error().code();
    std::vector<bool> done;
    if (code == ErrorCode::kInterrupted || code == ErrorCode::kNotFound) {
      ASSIGN_OR_RETURN(auto active, site.ledger().active_version(h.name));
      done = load_resume(stage, admitted->opened.index_sha256, active, h.volumes.size());
    }
    if (count_true(done) != 0) {
      Error kept(code, fmt::format("{}; {} of {} volume(s) are staged and kept: run install again with the media "
                                   "not yet read to continue",
                                   result.error().message(), count_true(done), h.volumes.size()));
      (void)site.log("install", h.name + "/" + h.version, "failed", kept.message());
      return std::unexpected(kept);
    }
    (void)site.files().remove_tree(stage);
    (void)site.log("install", h.name + "/" + h.version, result.error().is_verification_failure() ? "refused" : "failed",
                   result.error().message());
    return result;
  }
  if (h.trust) {
    crash_point("rotation");
    ASSIGN_OR_RETURN(std::optional<RotationRecord> pending, site.ledger().find_rotation(h.bundle_id));
    if (pending && pending->state == "pending") {
      ASSIGN_OR_RETURN(Settled settled, settle_rotation(site, *pending));
      result->trust_changed = settled.applied;
      if (!settled.applied && options.say) {
        options.say(settled.line);
      }
    }
  }
  if (result->activated) {
    auto say = options.say ? options.say : [](const std::string&) {};
    TRY(bring_up(site, h.name, h.version, result->previous, options.roll_back_on_failure, say, options.load));
  } else if (auto sum = sync_targets(site); !sum) {  // its HF snapshot, for a later rollback --to
    if (options.say) {
      options.say("warning: " + targets_retry_text(sum.error()));
    }
  }
  return result;
}

Result<MediumOutcome> verify_medium(Site& site, const stdfs::path& dir, const ProgressFn& progress) {
  MediumOutcome out;
  ASSIGN_OR_RETURN(SignedIndex signed_index, open_signed_index(site, dir));
  out.opened = std::move(signed_index.opened);
  out.signers = std::move(signed_index.signers);
  ASSIGN_OR_RETURN(out.check, format::check_medium(out.opened, progress));
  return out;
}

Result<VerifyOutcome> verify_bundle(Site& site, const stdfs::path& bundle, const GateOptions& gate,
                                    const ProgressFn& progress, std::size_t threads, Timings* timings) {
  std::optional<ScopedTimer> gate_timer(std::in_place, timings, "gate: signature, key, manifest");
  ASSIGN_OR_RETURN(Admitted a, admit(site, bundle, gate));
  gate_timer.reset();
  // The installers shipped next to the bundle (create --with-installer):
  // listed in the signed header, signed by the publisher keys this site
  // trusts. install reads none of them.
  ASSIGN_OR_RETURN(std::vector<keys::TrustedKey> trusted, site.trust_store().list());
  std::vector<crypto::SignPublicKey> pubs;
  for (const keys::TrustedKey& k : trusted) {
    pubs.push_back(k.key.pub);
  }
  ASSIGN_OR_RETURN(format::ShippedCheck shipped,
                   format::check_shipped_installers(format::shipped_dir(a.opened), a.opened.header.installers, pubs));
  Stager stager(site.files(), a.payload, {}, std::vector<bool>(a.payload.files.size(), false));
  TRY(stager.create_files());
  auto sink = [&](std::uint32_t chunk, ByteSpan plain) { return stager.on_chunk(chunk, plain); };
  format::StreamPlan plan;
  std::unique_ptr<BaseChunks> base;
  if (a.payload.base) {
    // A delta: what install would read back from the installed base, read
    // and hashed the same way.
    ASSIGN_OR_RETURN(base, BaseChunks::open(site, a.payload));
    std::vector<std::uint32_t> wanted;
    for (std::uint32_t k = 0; k < a.payload.chunks.size(); ++k) {
      if (a.payload.chunks[k].codec == codec::Codec::kBase && stager.wanted(k)) {
        wanted.push_back(k);
      }
    }
    TRY(read_base_chunks(*base, a.payload, wanted,
                         [&](std::uint32_t k, ByteSpan plain) { return stager.on_chunk(k, plain); }, threads));
    plan.base_chunk = [&base](const crypto::Digest& id, std::span<std::uint8_t> bytes) { return base->read(id, bytes); };
  }
  ASSIGN_OR_RETURN(format::StreamStats stats,
                   format::stream_volumes(a.opened, a.payload, a.key, sink, progress, threads, timings, plan));
  TRY(stager.finish());
  VerifyOutcome out;
  out.name = a.opened.header.name;
  out.version = a.opened.header.version;
  out.already_installed = a.already_installed;
  out.files = a.payload.files.size();
  out.volume_bytes = stats.volume_bytes;
  out.signers = a.signers;
  out.notes = a.notes;
  if (a.opened.header.installers) {
    out.shipped_files = shipped.files;
    out.shipped_signatures = shipped.signatures_verified;
  }
  return out;
}

}  // namespace airlock::installer

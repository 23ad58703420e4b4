#pragma once
// Reads a bundle on the isolated side: the index (structure, caps), the data
// key (from a site key or a passphrase), the payload manifest, and then every
// volume in one sequential pass, handing each chunk to a sink only after it
// was authenticated, decoded within its signed size and re-hashed.
// Signature policy lives in keys/; this file only parses and decrypts.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/base/progress.h"
#include <nlohmann/json.hpp>

#include "core/base/timings.h"
#include "core/crypto/aead.h"
#include "core/crypto/sodium.h"
#include "core/format/index.h"
#include "core/format/payload.h"

namespace airlock::format {

struct OpenedIndex {
  std::filesystem::path index_path;
  std::filesystem::path dir;  // where the volumes are expected (and the index is)
  // Further directories holding media of the same bundle, each with a
  // byte-identical copy of the index (add_media_dirs): install and verify
  // given DIR1 DIR2 ...
  std::vector<std::filesystem::path> more_dirs;
  // Volumes found in those directories under another name (a medium's file
  // system renamed them: format/media_files.h), by volume index.
  std::map<std::size_t, std::filesystem::path> renamed;
  IndexFile index;
  Header header;
  Bytes bundle_id;  // 16 bytes
  // SHA-256 (lowercase hex) of the index file's bytes exactly as read here,
  // once: what "the same bundle" means to the installer's ledger.
  std::string index_sha256;

  // dir, then more_dirs.
  std::vector<std::filesystem::path> all_dirs() const;
  // Where volume v is: in the first of all_dirs() holding an entry of its
  // name, else where `renamed` says, else (missing) dir/name.
  std::filesystem::path volume_path(std::size_t v) const;
  // "volume X (3 of 14, on disc02)" or "volume X (3 of 14)".
  std::string describe_volume(std::size_t v) const;
};

// Adds directories holding further media of the bundle opened. Each must
// hold exactly one index, byte for byte the one opened (its SHA-256):
// kNotFound naming a directory that holds none, kCorruption naming one that
// holds another bundle's (or an altered) index. A directory given twice, or
// the first one again, is kUsage.
Status add_media_dirs(OpenedIndex& opened, const std::vector<std::filesystem::path>& dirs);
// Where the shipped installers are (create --with-installer): the first of
// all_dirs() holding the first file the header lists (medium 1 of a set),
// else dir.
std::filesystem::path shipped_dir(const OpenedIndex& opened);

// BUNDLE is the bundle directory (holding exactly one *.airlock) or the index file.
Result<std::filesystem::path> locate_index(const std::filesystem::path& bundle);

// Called by open_index once the header and the signature envelope are read
// and parsed, before the body is (opened.index.body is still empty): a
// refusal here, say because no key the site trusts signed the index, means
// the body is never read or allocated.
using BeforeBody = std::function<Status(const OpenedIndex& opened)>;

// Reads the index once, a part at a time: the file must be a regular file
// (an index found in a bundle directory may not be a symlink either; one
// named on the command line may, the operator chose it), its fixed fields
// are checked against the caps and the file's size before anything is
// allocated (read_index_layout), then header and envelope are read and
// parsed, then before_body runs, then the body is read. A bundle's volume
// named instead of the bundle is kInvalidArgument (exit 1) saying what to
// give instead.
Result<OpenedIndex> open_index(const std::filesystem::path& bundle, const BeforeBody& before_body = {});
// The header as the index states it, not verified and without reading the
// body: only to label a refusal in the event log.
Result<Header> read_unverified_header(const std::filesystem::path& bundle);

struct SiteKey {
  std::string keyid;
  crypto::BoxPublicKey pub{};
  crypto::BoxSecretKey secret{};
};

// kNotForThisSite naming the recipients when no stanza opens.
Result<crypto::AeadKey> unwrap_with_site_key(const OpenedIndex& opened, const SiteKey& key);
Result<crypto::AeadKey> unwrap_with_passphrase(const OpenedIndex& opened, std::string_view passphrase);
Result<Payload> open_body(const OpenedIndex& opened, const std::optional<crypto::AeadKey>& data_key);

// Called once per chunk, in the order the volumes are read, with verified plaintext.
using ChunkSink = std::function<Status(std::uint32_t chunk_index, ByteSpan plaintext)>;

// Where the next volume to read is, for a reader that cannot have every
// volume at once (one drive, media inserted one by one): given which volumes
// were read already, returns one that was not and the path to read it at
// (kInterrupted, kNotFound... to stop). Without one, volumes are read in
// header order at opened.volume_path(v), and every one must be there first.
struct VolumeAt {
  std::uint32_t volume = 0;
  std::filesystem::path path;
};
using VolumeSource = std::function<Result<VolumeAt>(const std::vector<bool>& read)>;

// How stream_volumes goes through the volumes; the default reads them all.
struct StreamPlan {
  VolumeSource source;
  // Volumes an earlier run already read and staged (a resumed install):
  // not read, not required to be there; their chunks never reach the sink.
  std::vector<bool> done;
  // Called (from the sink's thread) once every chunk of the volume reached
  // the sink: the volume is staged and need not be read again.
  std::function<Status(std::uint32_t volume)> volume_done;
  // false: volumes are not hashed (install of an encrypted bundle; see
  // docs/SECURITY.md, "What each check proves"). Every volume is still read
  // canonically: packs in signed order with the signed names and sizes, tar
  // headers and padding exactly as written, nothing after the end marker, and
  // every frame authenticated, so the bytes read are the signed ones.
  bool volume_hashes = true;
  // Delta bundles (format version 3): reads base chunk `id` into `out`
  // (its size), checked against the id, from the installed base version.
  // Called from worker threads, for XOR frames; chunks of codec kBase are
  // on no volume and never reach the sink from here.
  std::function<Status(const crypto::Digest& id, std::span<std::uint8_t> out)> base_chunk;
};

struct StreamStats {
  std::uint64_t volume_bytes = 0;
  std::uint64_t chunk_bytes = 0;
};

// Reads every volume once, in header order (or as `source` says), checking each volume's size,
// its SHA-256 (unless StreamPlan::volume_hashes is false and the bundle encrypted), each pack's
// place and order, every tar byte outside the frames, and each frame. All errors name the volume.
// Every volume must be present before any is read (kNotFound naming the
// first missing one); each is opened as a regular file in the bundle
// directory (a symlink, FIFO or device is kCorruption, read not at all).
// `threads` workers authenticate, decode and hash frames (0 = one per core);
// the sink is always called from the calling thread, in order.
Result<StreamStats> stream_volumes(const OpenedIndex& opened, const Payload& payload,
                                   const std::optional<crypto::AeadKey>& data_key, const ChunkSink& sink,
                                   const ProgressFn& progress, std::size_t threads = 0,
                                   Timings* timings = nullptr, const StreamPlan& plan = {});

}  // namespace airlock::format

namespace airlock::format {
// Reads every volume whole and compares its size and SHA-256 with the header;
// needs no key. Reports every bad volume, not just the first: kCorruption if
// any is damaged or not a regular file, kNotFound (exit 1, "copy or insert
// volume X") if the only trouble is missing volumes. Reads stop at each
// volume's signed size and honour SIGINT/SIGTERM.
// `only`: check just these volumes (indices), as verify --medium does.
Status check_volume_hashes(const OpenedIndex& opened, const ProgressFn& progress,
                           const std::vector<std::size_t>* only = nullptr);

// verify --medium: what one medium holds. The medium is told by the signed
// media plan from the volumes in opened.dir; a medium with no volume (disc 1
// holding only the installers) by its MEDIUM.txt label, which is only a
// hint (unsigned). Checks the SHA-256 of every volume there (no key
// needed): kCorruption naming the bad ones, kNotFound naming a volume of
// that medium that is missing from it.
struct MediumCheck {
  std::uint32_t medium = 0;  // 1-based; 0: not told (no media plan, or no volume and no label)
  std::uint32_t count = 0;   // media in the set (0: no media plan)
  bool from_label = false;   // medium told by MEDIUM.txt alone
  std::vector<std::size_t> checked;  // volumes checked, all good
  std::vector<std::size_t> elsewhere;  // volumes of the bundle not in opened.dir
  std::vector<std::string> notes;  // volumes found under names the medium's file system made
};
// Volumes under ISO 9660 names are found first (find_renamed_volumes, by
// folded name or by size and SHA-256: no key), recorded in opened.renamed.
Result<MediumCheck> check_medium(OpenedIndex& opened, const ProgressFn& progress);
// For people: "disc02 (medium 2 of 4)" or "this directory"; then what was
// checked and what the other media must still bring, by medium.
std::string medium_name(const MediumCheck& c);
std::string medium_summary(const OpenedIndex& opened, const MediumCheck& c);
// For --json: deployment, version, bundle_id, ok, medium, media,
// medium_from_label, checked (volume names), still_needed ({volume, medium}).
nlohmann::json medium_check_json(const OpenedIndex& opened, const MediumCheck& c);
// kCorruption naming a file in the bundle directory shaped like one of this
// bundle's volumes (BASE.volNNN.tar) that the signed header does not list.
// stream_volumes and check_volume_hashes call it first.
Status check_no_extra_volumes(const OpenedIndex& opened);
// The same for one directory, whatever the other volumes' state.
Status check_no_extra_volumes_in(const OpenedIndex& opened, const std::filesystem::path& dir);
// SHA-256 (hex) of an index file, read once as a regular file within the
// index caps (kCorruption naming it otherwise).
Result<std::string> index_file_sha256(const std::filesystem::path& index);
}  // namespace airlock::format

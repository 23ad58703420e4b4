#pragma once
// What a model file is, by its bytes: pickle (code runs when it is loaded),
// a torch.save zip (a pickle inside), GGUF (and its quantization). Used by
// the bundler to refuse weights that execute code unless the manifest allows
// them, and to record what ships (bundler/weights_check.h). Every reader is
// bounded by the file's size and by fixed caps, so a hostile or truncated
// file gives an error, never a crash or a huge allocation.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "core/base/bytes.h"
#include "core/base/error.h"

namespace airlock::weights {

// Reads exactly out.size() bytes at offset (kCorruption when short).
using ReadAt = std::function<Status(std::span<std::uint8_t> out, std::uint64_t offset)>;

// "pickle protocol N" when `head` (the file's first bytes) starts with the
// PROTO opcode 0x80 and a protocol of 2..5, as pickle.dumps and torch.save's
// legacy format write; nullopt otherwise.
std::optional<std::string> pickle_signature(ByteSpan head);

// Whether `head` starts a zip archive (local file header "PK\3\4").
bool is_zip(ByteSpan head);

// The first entry of a zip archive whose name is `data.pkl` or ends in
// `.pkl` (torch.save writes ARCHIVE/data.pkl): from the first local header
// and from the central directory (found through the end record in the last
// 64 KiB). nullopt when there is none or the archive cannot be read as a zip.
std::optional<std::string> zip_pickle_entry(const ReadAt& read, std::uint64_t size);

struct GgufInfo {
  std::uint32_t version = 0;
  std::uint64_t tensor_count = 0;
  std::uint64_t kv_count = 0;
  std::optional<std::uint32_t> file_type;  // general.file_type (llama_ftype), when present
  std::map<std::string, std::uint64_t> tensor_types;  // ggml type name -> tensors of it
  // file_type's name ("Q4_K_M"); without it, the ggml type of most tensors
  // ("Q8_0"); "unknown" when neither says.
  std::string quantization;
};

// Whether `head` starts with the GGUF magic.
bool is_gguf(ByteSpan head);

// Reads the GGUF header: magic, version (2 or 3), tensor and KV counts, every
// metadata KV (keeping general.file_type) and every tensor info (name,
// dimensions, ggml type, offset). kInvalidArgument saying what is wrong and
// at which KV or tensor; the caller adds the file's name.
Result<GgufInfo> parse_gguf(const ReadAt& read, std::uint64_t size);
Result<GgufInfo> parse_gguf(ByteSpan file);

// Names of ggml types and llama file types; "type N" for one not known.
std::string ggml_type_name(std::uint32_t type);
std::string gguf_file_type_name(std::uint32_t file_type);

}  // namespace airlock::weights

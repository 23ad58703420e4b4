#pragma once
// Before a model ships (lock, create): what its files are, by their bytes.
// Refused, every file named at once: weights that run code when loaded
// (pickle, a torch.save zip; or a file named *.bin/*.pt/*.pth/*.ckpt/*.pkl
// that is no known safe format) unless [model] allow_pickle = true; a repo
// with custom code (auto_map in a config.json or *_config.json, any *.py)
// unless allow_remote_code = true; a safetensors file whose header does not
// validate (core/safetensors/safetensors.h) or a file with the GGUF magic
// whose header does not parse, always. What was let through, and each GGUF
// file's quantization, is recorded in the model source's identity as
// `weights` (docs/FORMAT.md §3), which the signed payload carries.

#include <filesystem>
#include <map>
#include <string>

#include "bundler/lock.h"

namespace airlock::bundler {

// Where each file's bytes are on this machine, by LockedFile::path; a file
// not listed is judged by its name alone (a Hub file `lock` has not fetched).
using LocalFiles = std::map<std::string, std::filesystem::path>;

// Checks every "model" source of the lock and sets identity.weights (erased
// when there is nothing to record). kInvalidArgument listing each refused
// file and why; the lock is then unchanged.
Status check_model_weights(Lock& lock, const LocalFiles& local, std::string_view what);

}  // namespace airlock::bundler

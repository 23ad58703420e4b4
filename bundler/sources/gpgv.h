#pragma once
// OpenPGP signature checks of apt metadata with gpgv, as apt does: gpgv is
// run directly (core/os/process_runner.h, no shell) with the repository's keyring only
// (--keyring, a private empty --homedir so no user keyring is consulted),
// its verdict read from --status-fd, never from its exit code or text alone.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/error.h"
#include "core/os/process_runner.h"

namespace airlock::bundler::apt {

// A clearsigned message (InRelease) split as apt's SplitClearSignedFile
// does: exactly one "-----BEGIN PGP SIGNED MESSAGE-----" block at the start
// (only blank lines before it), hash headers, the dash-escaped text, one
// signature block, and nothing but blank lines after it. Returns the text
// (dash-escaping undone, lines ending in '\n'); kBadSignature when the
// structure is wrong (text outside the signed part is how apt was attacked).
Result<std::string> clearsigned_text(std::string_view message);

// Verifies `data` against the keyring: a clearsigned message when
// `detached_signature` is empty (returns the signed text as gpgv wrote it),
// else `data` is the signed file (returned as is). `what` names the file in
// errors ("http://…/InRelease"). kBadSignature: a signature that does not
// verify or no signature at all; kUntrusted: made by a key that is not in the
// keyring, or an expired or revoked one; kUnsupported: gpgv missing. gpgv
// runs through `runner`.
Result<std::string> gpgv_verify(os::ProcessRunner& runner, const std::filesystem::path& keyring, std::string_view data,
                                std::optional<std::string_view> detached_signature, std::string_view what);

}  // namespace airlock::bundler::apt

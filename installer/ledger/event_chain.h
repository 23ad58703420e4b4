#pragma once
// The event hash chain
// --------------------
// Every event row stores prev_hash and hash, both 64 lowercase hex characters.
// The first event (id 1) has prev_hash = 64 '0' characters; every later event
// has prev_hash = the hash of the event before it, and ids run 1, 2, 3, ...
// with no gaps.
//
// Events written before ledger schema 4 (installer_version and
// installer_sha256 both NULL) are hashed as they always were (version 1):
//
//   hash = lowercase hex( SHA-256( F(prev_hash) || F(id) || F(time) ||
//                                  F(user) || F(action) || F(target) ||
//                                  F(result) || F(detail) ) )
//
// Events written since (both set) also cover the installer that wrote them
// (version 2):
//
//   hash = lowercase hex( SHA-256( F(prev_hash) || F(id) || F(time) ||
//                                  F(user) || F(action) || F(target) ||
//                                  F(result) || F(detail) ||
//                                  F(installer_version) || F(installer_sha256) ) )
//
//   F(x) = u64-LE(byte length of x) || bytes of x
//
// where prev_hash is its 64 ASCII hex characters, id and time are signed
// 64-bit integers as 8 bytes little-endian two's complement (so F(id) is
// 08 00 00 00 00 00 00 00 followed by those 8 bytes), and the strings are
// their raw bytes as stored (UTF-8, no terminator). Every field is length-
// prefixed, so no two different events encode to the same byte string, and a
// version-1 encoding (8 fields) never equals a version-2 one (10): clearing
// the installer fields of a new event changes the formula and breaks its hash.
//
// verify_event_chain() walks the events in id order and reports the first id
// whose id, prev_hash or hash does not match, that has only one of the two
// installer fields, or that lacks them after an event that has them (a
// schema-4 ledger is written only by installers that record them: an older
// one refuses to open it). The chain shows that stored
// events were not edited, reordered or removed from the middle; removing the
// newest events (truncation) is not detectable from the chain alone.

#include <string>
#include <string_view>

#include "core/base/error.h"
#include "installer/ledger/ledger.h"

namespace airlock::installer::event_chain {

// The first event's prev_hash: 64 '0' characters.
inline constexpr std::string_view k_zero_hash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The event's hash as above: version 2 when both installer fields are set,
// else version 1.
Result<std::string> event_hash(const EventRecord& e);

}  // namespace airlock::installer::event_chain

#include "installer/ledger/event_chain.h"

#include "core/base/bytes.h"
#include "core/crypto/sha256.h"

namespace airlock::installer::event_chain {

namespace {

void append_field(Bytes& out, std::string_view bytes) {
  put_u64le(out, bytes.size());
  append(out, as_bytes(bytes));
}
void append_field(Bytes& out, std::int64_t value) {
  put_u64le(out, 8);
  put_u64le(out, static_cast<std::uint64_t>(value));
}

}  // namespace

Result<std::string> event_hash(const EventRecord& e) {
  Bytes encoded;
  append_field(encoded, e.prev_hash);
  append_field(encoded, e.id);
  append_field(encoded, e.time);
  append_field(encoded, e.user);
  append_field(encoded, e.action);
  append_field(encoded, e.target);
  append_field(encoded, e.result);
  append_field(encoded, e.detail);
  if (e.installer_version && e.installer_sha256) {  // version 2 (schema 4)
    append_field(encoded, *e.installer_version);
    append_field(encoded, *e.installer_sha256);
  }
  return crypto::sha256_hex(encoded);
}

}  // namespace airlock::installer::event_chain

#include "installer/ledger/self_identity.h"

#include <catch2/catch.hpp>

#include "core/base/text.h"
#include "core/fs/file.h"

namespace airlock::installer {
namespace {

TEST_CASE("self identity: the project version and the SHA-256 of the running executable", "[ledger]") {
  SelfIdentity& me = SelfIdentity::running();
  CHECK(me.version() == AIRLOCK_VERSION_STRING);
  const std::string sha = me.sha256();
  REQUIRE(text::is_lower_hex(sha, 64));
  // The test binary is the running executable here.
  CHECK(sha == fs::sha256_file("/proc/self/exe").value());
  CHECK(&SelfIdentity::running() == &me);  // one per process
  CHECK(me.sha256() == sha);               // hashed once
}

}  // namespace
}  // namespace airlock::installer

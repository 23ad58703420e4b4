// gpgv_verify's verdicts, read from --status-fd, with the child played by a
// FakeProcessRunner (tests/support/fake_process_runner.h): how gpgv is run
// (argv, descriptors, process group) and what each status line means,
// without gpgv installed.

#include "bundler/sources/gpgv.h"

#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "tests/support/fake_process_runner.h"
#include "tests/support/temp_dir.h"

using namespace airlock;
using namespace airlock::bundler::apt;
namespace stdfs = std::filesystem;

namespace {

// A "gpgv" that writes `status` to its fd 3 and exits with `code`.
test::FakeProcessRunner gpgv_saying(std::string status, int code = 0) {
  return test::FakeProcessRunner([status, code](const std::vector<std::string>&,
                                                const os::ProcessOptions& o) -> Result<os::ProcessResult> {
    for (const auto& [child, parent] : o.fds) {
      if (child == 3) {
        REQUIRE(::write(parent, status.data(), status.size()) == static_cast<ssize_t>(status.size()));
      }
    }
    os::ProcessResult r;
    r.exit_code = code;
    return r;
  });
}

}  // namespace

TEST_CASE("gpgv_verify runs gpgv as apt does and reads its verdict from the status fd", "[gpgv]") {
  test::TempDir dir("gpgv");
  const auto keyring = dir.path() / "key.gpg";
  std::ofstream(keyring, std::ios::binary) << "binary keyring";

  auto good = gpgv_saying("[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 0123456789ABCDEF Repo Key\n");
  auto ok = gpgv_verify(good, keyring, "Release text\n", std::string_view("sig"), "http://x/Release");
  REQUIRE(ok.has_value());
  CHECK(*ok == "Release text\n");
  REQUIRE(good.calls().size() == 1);
  const auto& call = good.calls()[0];
  REQUIRE(call.argv.size() >= 8);
  CHECK(call.argv[0] == "gpgv");
  CHECK(call.argv[1] == "--homedir");
  CHECK(call.argv[3] == "--keyring");
  CHECK(call.argv[4] == stdfs::absolute(keyring).string());
  CHECK(call.argv[5] == "--status-fd");
  CHECK(call.argv[6] == "3");
  CHECK(call.options.stdout_to_null);
  CHECK_FALSE(call.options.own_process_group);
  REQUIRE(call.options.fds.size() == 2);
  CHECK(call.options.fds[0].first == 2);
  CHECK(call.options.fds[1].first == 3);

  auto bad = gpgv_saying("[GNUPG:] BADSIG 0123456789ABCDEF Repo Key\n", 1);
  auto refused = gpgv_verify(bad, keyring, "Release text\n", std::string_view("sig"), "http://x/Release");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code() == ErrorCode::kBadSignature);
  CHECK_THAT(refused.error().message(), Catch::Contains("BAD signature by key 0123456789ABCDEF"));

  auto stranger = gpgv_saying("[GNUPG:] NO_PUBKEY FEDCBA9876543210\n", 2);
  auto untrusted = gpgv_verify(stranger, keyring, "Release text\n", std::string_view("sig"), "http://x/Release");
  REQUIRE_FALSE(untrusted.has_value());
  CHECK(untrusted.error().code() == ErrorCode::kUntrusted);

  auto silent = gpgv_saying("[GNUPG:] GOODSIG 0123456789ABCDEF Repo Key\n", 2);
  auto odd = gpgv_verify(silent, keyring, "Release text\n", std::string_view("sig"), "http://x/Release");
  REQUIRE_FALSE(odd.has_value());
  CHECK_THAT(odd.error().message(), Catch::Contains("gpgv exited with status 2"));

  test::FakeProcessRunner none([](const std::vector<std::string>& argv, const os::ProcessOptions&)
                                   -> Result<os::ProcessResult> {
    return make_error(ErrorCode::kNotFound, "cannot run '{}': No such file or directory", argv[0]);
  });
  auto missing = gpgv_verify(none, keyring, "Release text\n", std::string_view("sig"), "http://x/Release");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code() == ErrorCode::kUnsupported);
  CHECK_THAT(missing.error().message(), Catch::Contains("gpgv is not installed"));
}

// The install transaction under a simulated crash after every file-system
// call (tests/support/fault_file_system.h): after the reboot and recover(),
// either the previous version is active and nothing of the new one is left,
// or the new one is committed whole; a re-run then completes. Runs in-process,
// so under ASan/UBSan too (tests/e2e/crash_steps.sh is the end-to-end proof).

#include "installer/install/install.h"
#include "installer/install/recover.h"

#include <catch2/catch.hpp>

#include "core/crypto/sha256.h"
#include "core/fs/file.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_process_runner.h"
#include "tests/support/fault_file_system.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_bundle.h"

using namespace airlock;
using namespace airlock::installer;

namespace {

namespace stdfs = std::filesystem;

constexpr std::int64_t k_now = 1'750'000'000;

std::string blob(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>(seed + (i * 131) % 251);
  }
  return s;
}

struct Rig {
  test::TempDir dir{"install"};
  test::FakeClock clock{k_now};
  os::PosixFileSystem real;
  test::FaultFileSystem faulty{real};
  test::FakeProcessRunner processes;
  test::Publisher publisher;
  stdfs::path root = dir.path() / "root";
  stdfs::path v1, v2;

  Os real_os() { return Os{clock, real, processes}; }
  Os faulty_os() { return Os{clock, faulty, processes}; }

  Rig() {
    auto site = Site::init(root, real_os());
    REQUIRE(site.has_value());
    REQUIRE((*site)->trust_store().add_key(publisher.public_key(), "publisher").has_value());
    auto key = (*site)->site_key();
    REQUIRE(key.has_value());
    test::BundleSpec a{"demo", "1.0", 1, k_now - 100, std::nullopt,
                       {{"model/weights.bin", blob(300'000, 'a')}, {"model/config.json", "{\"v\":1}"},
                        {"serve/run.sh", "echo same\n"}}};
    test::BundleSpec b{"demo", "2.0", 2, k_now - 50, std::nullopt,
                       {{"model/weights.bin", blob(300'000, 'b')}, {"model/config.json", "{\"v\":2}"},
                        {"model/extra/tokenizer.json", blob(5'000, 'c')}, {"serve/run.sh", "echo same\n"}}};
    auto p1 = test::write_test_bundle(a, dir.path() / "b1", key->pub, publisher);
    auto p2 = test::write_test_bundle(b, dir.path() / "b2", key->pub, publisher);
    REQUIRE(p1.has_value());
    REQUIRE(p2.has_value());
    v1 = *p1;
    v2 = *p2;
  }

  std::unique_ptr<Site> open(const Os& os) {
    auto site = Site::open(root, os);
    REQUIRE(site.has_value());
    REQUIRE((*site)->lock_exclusive().has_value());
    return std::move(*site);
  }
};

std::string hash_of(const stdfs::path& p) {
  auto data = fs::read_file(p, 1u << 30);
  REQUIRE(data.has_value());
  return crypto::sha256_hex(*data);
}

// Nothing half-installed: `current` names the ledger's active version, its
// files hash as recorded, no staging is left and every version directory is
// one the ledger holds as installed.
// `resumable`: staging may hold one install stopped between volumes (its
// resume.json), which the next install of the same bundle continues.
std::string check_consistent(Site& site, bool resumable = false) {
  auto active = site.ledger().active_version("demo");
  REQUIRE(active.has_value());
  REQUIRE(active->has_value());
  std::error_code ec;
  CHECK(stdfs::read_symlink(site.deployment_dir("demo") / "current", ec).string() == **active);
  auto files = site.ledger().files("demo", **active);
  REQUIRE(files.has_value());
  REQUIRE_FALSE(files->empty());
  for (const FileRecord& f : *files) {
    INFO(f.path);
    CHECK(hash_of(site.version_dir("demo", **active) / f.path) == f.sha256);
  }
  if (resumable && !stdfs::is_empty(site.staging_dir())) {
    std::size_t stages = 0;
    for (const auto& e : stdfs::directory_iterator(site.staging_dir())) {
      ++stages;
      CHECK(stdfs::is_regular_file(e.path() / "resume.json"));
    }
    CHECK(stages == 1);
  } else {
    CHECK(stdfs::is_empty(site.staging_dir()));
  }
  for (const auto& e : stdfs::directory_iterator(site.deployment_dir("demo"))) {
    const std::string v = e.path().filename().string();
    if (v == "current") {
      continue;
    }
    auto rec = site.ledger().find_version("demo", v);
    REQUIRE(rec.has_value());
    INFO("left in deployments/: " << v);
    CHECK((rec->has_value() && (*rec)->state == "installed"));
  }
  return **active;
}

}  // namespace

TEST_CASE("a crash after any file-system call of install leaves the previous version or the new one whole",
          "[install][crash]") {
  std::size_t crashes = 0;
  bool saw_old = false;
  bool saw_new = false;
  for (std::size_t n = 0;; ++n) {
    INFO("crash after " << n << " file-system calls");
    Rig rig;
    {
      auto site = rig.open(rig.real_os());
      REQUIRE(install_bundle(*site, rig.v1, InstallOptions{}).has_value());
    }
    bool crashed = false;
    {
      auto site = rig.open(rig.faulty_os());
      rig.faulty.crash_after(n);
      auto out = install_bundle(*site, rig.v2, InstallOptions{});
      crashed = rig.faulty.crashed();
      if (!crashed) {
        REQUIRE(out.has_value());
      }
      REQUIRE(rig.faulty.drop_unsynced().has_value());  // the power cut, then the reboot
    }
    auto site = rig.open(rig.real_os());
    auto repaired = recover(*site);
    REQUIRE(repaired.has_value());
    CHECK(repaired->failures.empty());
    const std::string active = check_consistent(*site, true);
    (active == "1.0" ? saw_old : saw_new) = true;
    // A re-run completes (or finds it already installed).
    auto again = install_bundle(*site, rig.v2, InstallOptions{});
    REQUIRE(again.has_value());
    CHECK(check_consistent(*site) == "2.0");
    if (!crashed) {
      break;
    }
    ++crashes;
    REQUIRE(n < 500);
  }
  CHECK(crashes > 10);  // every step was walked: staging, sync, links, seal, rename, switch
  CHECK(saw_old);
  CHECK(saw_new);
}

TEST_CASE("a failed write or a full disk during staging changes nothing", "[install][crash]") {
  for (int fault = 0; fault < 2; ++fault) {
    Rig rig;
    {
      auto site = rig.open(rig.real_os());
      REQUIRE(install_bundle(*site, rig.v1, InstallOptions{}).has_value());
    }
    auto site = rig.open(rig.faulty_os());
    if (fault == 0) {
      rig.faulty.fail_write(2);
    } else {
      rig.faulty.fill_disk_at(100'000);  // less than the new weights need
    }
    auto out = install_bundle(*site, rig.v2, InstallOptions{});
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code() == ErrorCode::kIOError);
    CHECK_THAT(out.error().message(), Catch::Contains(fault == 0 ? "Input/output error" : "No space left on device"));
    CHECK(check_consistent(*site) == "1.0");
  }
}

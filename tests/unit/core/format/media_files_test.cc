#include "core/format/media_files.h"

#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

namespace airlock::format {
namespace {

namespace stdfs = std::filesystem;

TEST_CASE("media files: names fold as plain ISO 9660 shows them", "[format][media]") {
  CHECK(fold_medium_name("llama-3.1-8b-2024.06.vol001.tar") == "LLAMA_3_1_8B_2024_06_VOL001_TAR");
  CHECK(fold_medium_name("LLAMA_3_1_8B_2024_06_VOL001.TAR") == "LLAMA_3_1_8B_2024_06_VOL001_TAR");
  CHECK(fold_medium_name("LLAMA_3_1_8B_2024_06_VOL001.TAR;1") == "LLAMA_3_1_8B_2024_06_VOL001_TAR");
  CHECK(fold_medium_name("MEDIUM.txt") == fold_medium_name("MEDIUM.TXT;1"));
  CHECK(fold_medium_name("a--b") == "A_B");   // a run of others is one '_'
  CHECK(fold_medium_name("x;ab") == "X_AB");  // ";" and letters: not a version
  CHECK(fold_medium_name("demo.vol001.tar") != fold_medium_name("demo.vol002.tar"));
}

TEST_CASE("media files: only ISO 9660 names stand in for another", "[format][media]") {
  CHECK(iso9660_name("DEMO_2_0.TAR"));
  CHECK(iso9660_name("DEMO_2_0.TAR;1"));
  CHECK(iso9660_name("LLAMA_3_1_8B_VOL001.TAR"));
  CHECK(iso9660_name("README"));
  CHECK_FALSE(iso9660_name("demo-2.0.0.vol03.tar"));  // renamed by hand: stays missing
  CHECK_FALSE(iso9660_name("DEMO.VOL001.TAR"));        // two dots
  CHECK_FALSE(iso9660_name("DEMO-2.TAR"));
  CHECK_FALSE(iso9660_name(""));
}

TEST_CASE("media files: an entry found under its own name or one folded ISO 9660 name", "[format][media]") {
  test::TempDir tmp;
  auto touch = [&](const std::string& name) { std::ofstream(tmp.path() / name) << "x"; };
  touch("MEDIUM.TXT");
  CHECK(find_entry_folded(tmp.path(), "MEDIUM.txt") == "MEDIUM.TXT");
  touch("MEDIUM.txt");
  CHECK(find_entry_folded(tmp.path(), "MEDIUM.txt") == "MEDIUM.txt");  // its own name first
  CHECK(find_entry_folded(tmp.path(), "other.txt").empty());
  touch("DEMO_1.TAR");
  touch("DEMO_1.TAR;1");
  CHECK(find_entry_folded(tmp.path(), "demo-1.tar").empty());  // two candidates: neither
}

}  // namespace
}  // namespace airlock::format

// core/oci/layout.h: the exact bytes of oci-layout and index.json, which
// both programs write and the installer's ledger records by SHA-256.
#include "core/oci/layout.h"

#include <catch2/catch.hpp>

namespace airlock::oci {
namespace {

TEST_CASE("oci layout: oci-layout and index.json bytes", "[oci]") {
  CHECK(layout_file_text() == R"({"imageLayoutVersion":"1.0.0"})");
  CHECK(index_file_text(nlohmann::json::array()) ==
        R"({"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2})");
  const nlohmann::json manifests = nlohmann::json::array(
      {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"}, {"digest", "sha256:ab"}, {"size", 3}}});
  CHECK(index_file_text(manifests) ==
        R"({"manifests":[{"digest":"sha256:ab","mediaType":"application/vnd.oci.image.manifest.v1+json","size":3}],)"
        R"("mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2})");
}

}  // namespace
}  // namespace airlock::oci

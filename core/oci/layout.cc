#include "core/oci/layout.h"

#include "core/oci/media_types.h"

namespace airlock::oci {

std::string layout_file_text() { return nlohmann::json{{"imageLayoutVersion", "1.0.0"}}.dump(); }

std::string index_file_text(const nlohmann::json& manifests) {
  const nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", k_oci_index}, {"manifests", manifests}};
  return index.dump();
}

}  // namespace airlock::oci

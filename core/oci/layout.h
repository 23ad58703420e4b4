#pragma once
// The two small files at the top of an OCI image layout, byte for byte as
// both programs write them: the bundler carries them in the lock (inline
// files of the "oci-layout" source), the installer writes them into
// ROOT/images and into the layouts `publish` hands to skopeo. Compact JSON
// with sorted keys (nlohmann's dump()), so the same images give the same bytes.

#include <string>

#include <nlohmann/json.hpp>

namespace airlock::oci {

// `oci-layout`: {"imageLayoutVersion":"1.0.0"}
std::string layout_file_text();

// `index.json`: {"manifests":[...],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}.
// `manifests` is the array of descriptors, as given.
std::string index_file_text(const nlohmann::json& manifests);

}  // namespace airlock::oci

#pragma once
// The OCI and Docker media types and annotation keys Airlock reads and
// writes, spelled once for both programs (char arrays: they serve as
// const char*, std::string_view and JSON keys alike).

namespace airlock::oci {

inline constexpr char k_oci_index[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char k_oci_manifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char k_docker_list[] = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char k_docker_manifest[] = "application/vnd.docker.distribution.manifest.v2+json";
// The empty config of an artifact ("{}", 2 bytes) and its digest.
inline constexpr char k_empty_type[] = "application/vnd.oci.empty.v1+json";
inline constexpr char k_empty_digest[] =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

// index.json's name for an image: the full reference ("docker.io/library/ubuntu:22.04").
inline constexpr char k_ref_annotation[] = "org.opencontainers.image.ref.name";
inline constexpr char k_title_annotation[] = "org.opencontainers.image.title";

}  // namespace airlock::oci

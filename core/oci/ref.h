#pragma once
// Image references and platforms, as docker and the distribution spec spell
// them; the one grammar both programs use (the bundler resolving [[image]],
// the installer naming what `publish` pushes):
//
//   [HOST[:PORT]/]PATH[:TAG][@sha256:HEX]
//
// HOST is recognised as such when the first component has a '.' or a ':',
// is "localhost", or is a bracketed IPv6 address; otherwise the image is on
// Docker Hub ("docker.io", with "library/" before a single-component name).
// Parsing is strict: lowercase path components, the tag charset, and only
// sha256 digests (other algorithms are refused by name).

#include <optional>
#include <string>
#include <string_view>

#include "core/base/error.h"

namespace airlock::oci {

struct ImageRef {
  std::string registry;    // as users write it: "docker.io", "nvcr.io", "127.0.0.1:5000"
  std::string repository;  // "library/ubuntu", "vllm/vllm-openai"
  std::string tag;         // empty only when a digest is given without a tag
  std::string digest;      // "sha256:<64 hex>" or empty

  // "docker.io/library/ubuntu:22.04", "host:5000/engine:v1@sha256:…":
  // the normalized reference, for annotations, identities and messages.
  std::string full() const;
  // What to ask the registry for: the digest when there is one, else the tag.
  std::string reference() const { return digest.empty() ? tag : digest; }
  // The host[:port] the API lives on: registry-1.docker.io for docker.io.
  std::string api_host() const;
};

Result<ImageRef> parse_image_ref(std::string_view text);

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;  // may be empty

  std::string str() const;  // "linux/arm64/v8"
};

// "OS/ARCH[/VARIANT]".
Result<Platform> parse_platform(std::string_view text);
// True when an index entry's platform is what was asked for. An empty variant
// asked for matches any variant; arm64's "v8" is its default (same as none).
bool platform_matches(const Platform& wanted, const Platform& entry);

// A "sha256:<64 lowercase hex>" digest; the error names `what`.
Status check_digest(std::string_view digest, std::string_view what);

// The grammar's parts, for names built rather than parsed:
// path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
bool is_path_component(std::string_view s);
// repository := path-component ( "/" path-component )*
bool is_repository(std::string_view s);
// tag := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
bool is_tag(std::string_view s);

}  // namespace airlock::oci

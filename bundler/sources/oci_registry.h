#pragma once
// Talking to one repository of an OCI registry (distribution-spec v1.1):
// URLs, the bearer-token dance, credentials from the docker config file, and
// errors that quote the registry's own JSON error codes.
//
// Auth: a request answered 401 with `WWW-Authenticate: Bearer realm=…,
// service=…` gets a token from realm?service=…&scope=repository:NAME:pull
// (with Basic credentials from the docker config file when it has some for
// this registry) and is sent again once with `Authorization: Bearer TOKEN`;
// a `Basic` challenge is answered with those credentials directly. The
// authorization is origin-bound (net::Request::authorization): a blob
// redirected to a CDN never sees it. Not thread-safe: one per thread.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "net/http.h"
#include "core/oci/media_types.h"
#include "core/oci/ref.h"

namespace airlock::bundler::oci {

// The shared OCI vocabulary (core/oci/), as the bundler's oci:: spells it.
using airlock::oci::check_digest;
using airlock::oci::ImageRef;
using airlock::oci::k_docker_list;
using airlock::oci::k_docker_manifest;
using airlock::oci::k_oci_index;
using airlock::oci::k_oci_manifest;
using airlock::oci::parse_image_ref;
using airlock::oci::parse_platform;
using airlock::oci::Platform;
using airlock::oci::platform_matches;

// Every manifest type we take, for `Accept`: without the OCI types some
// registries answer 404 for OCI images, and without any a schema2 image by
// tag may be rewritten to schema1 (another digest).
std::string manifest_accept();

struct Challenge {
  std::string scheme;                         // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;  // names lowercased, values unquoted
};
// Parses WWW-Authenticate values (RFC 7235): one or more challenges, each a
// scheme and comma-separated auth-params, values bare or quoted.
std::vector<Challenge> parse_challenges(const std::vector<std::string>& headers);

struct Credentials {
  std::string user;
  std::string password;
  std::string from;  // the config file, for messages
};
// The docker config file: $REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json,
// else ~/.docker/config.json; "auths" → host → "auth" = base64("user:pass").
// nullopt when there is no file or no entry for this registry; an error
// when the file is there but unreadable or malformed.
Result<std::optional<Credentials>> find_credentials(const ImageRef& ref);

class Registry {
 public:
  Registry(net::HttpClient& http, ImageRef ref, bool insecure);

  const ImageRef& ref() const { return m_ref; }
  bool insecure() const { return m_insecure; }
  std::string endpoint() const;  // "https://registry-1.docker.io", "http://127.0.0.1:5000"
  std::string manifest_url(std::string_view reference) const;
  std::string blob_url(std::string_view digest) const;
  Status check_allowed() const;  // the scheme policy, naming the image

  // GET with auth (one retry after a 401 challenge). accept_manifests sends
  // the manifest Accept list. Non-2xx answers come back as responses.
  Result<net::Response> get(const std::string& url, bool accept_manifests, std::size_t max_body);
  // A fresh authorization value for this repository (empty when the registry
  // needs none), challenging with `probe_url`.
  Result<std::string> authorize(const std::string& probe_url);
  const std::string& authorization() const { return m_authorization; }

 private:
  Result<std::string> answer_challenge(const net::Response& unauthorized);
  Result<std::string> fetch_token(const Challenge& bearer);
  Result<std::optional<Credentials>> credentials();

  net::HttpClient& m_http;
  ImageRef m_ref;
  bool m_insecure;
  std::string m_authorization;
  bool m_credentials_loaded = false;
  std::optional<Credentials> m_credentials;
};

// An error for a registry's non-2xx answer to `doing` ("manifest v1",
// "blob sha256:…"): names the image, quotes the registry's error codes and
// messages (MANIFEST_UNKNOWN, NAME_UNKNOWN, …) and says what to do.
Error registry_error(const ImageRef& ref, const net::Response& response, std::string_view doing);

// Text from a server, safe to print: control characters replaced, bounded.
std::string printable(std::string_view text, std::size_t max = 300);

}  // namespace airlock::bundler::oci

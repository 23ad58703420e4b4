#pragma once
// airlock-installer publish: push one installed version's images (manifest
// digests unchanged) and its model (an OCI artifact, one layer per file)
// into the site's own registry through `skopeo copy`. Every byte pushed is
// first checked against the ledger's SHA-256; a pushed digest that differs
// from the installed one is an error. The verb's options and output are
// installer/commands/publish.cc's.

#include <functional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "installer/site/site.h"

namespace airlock::installer {

struct PublishOptions {
  std::string name;      // deployment
  std::string registry;  // HOST[:PORT][/PREFIX]
  std::string version;   // empty: the active one
  std::string authfile;  // skopeo --dest-authfile
  bool insecure = false;
  bool no_model = false;
};

struct PublishedPush {
  std::string kind;         // "image" | "model"
  std::string source;       // the ref it was pulled as, or "NAME VERSION model/"
  std::string destination;  // REGISTRY/PATH:TAG
  std::string digest;       // the manifest digest, as installed and as pushed
};

struct Published {
  std::string version;   // the version pushed
  std::string registry;  // the registry's base, as parsed
  std::vector<PublishedPush> pushes;
};

// Pushes; `note` gets a line before each push ("[1/3] pushing image ...").
// Logs a "publish" event, ok or failed, in the ledger.
Result<Published> publish(Site& site, const PublishOptions& o, const std::function<void(const std::string&)>& note);

}  // namespace airlock::installer

// airlock-installer publish NAME --registry HOST[:PORT][/PREFIX]: the verb
// (options, output); the pushing is installer/publish/publish.h's.
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "installer/commands/commands.h"
#include "installer/publish/publish.h"

namespace airlock::installer {

void add_publish_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<PublishOptions>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "publish", "Push a version's images and model into the site's own registry, digests unchanged (via skopeo)");
  cmd->add_option("name", o->name, "deployment name")->required();
  cmd->add_option("--registry", o->registry, "the site registry: HOST[:PORT][/PREFIX]")->required();
  cmd->add_option("--version", o->version, "version to publish (default: the active one)");
  cmd->add_flag("--insecure", o->insecure, "plain http, no TLS verification (always so for loopback hosts)");
  cmd->add_option("--authfile", o->authfile, "registry credentials for skopeo (its --dest-authfile)");
  cmd->add_flag("--no-model", o->no_model, "push the images only");
  cmd->add_flag("--json", *json, "print what was pushed as JSON");
  cmd->footer(
      "The installer has no network code: each push is `skopeo copy --preserve-digests` (apt-get install skopeo).\n\n"
      "  airlock-installer publish llama --registry registry.lan:5000\n"
      "  airlock-installer publish llama --registry registry.lan:5000/team --version 2026.11.0 --authfile auth.json\n"
      "  airlock-installer publish llama --registry 127.0.0.1:5000 --no-model --json\n\n"
      "What goes where (REGISTRY is --registry, with its prefix):\n"
      "  image docker.io/vllm/vllm-openai:v0.6.3   -> REGISTRY/vllm/vllm-openai:v0.6.3\n"
      "  image host:5000/engine@sha256:HEX         -> REGISTRY/engine:sha256-HEX (pull it by tag or by digest)\n"
      "  every file under model/, one layer each   -> REGISTRY/airlock/NAME/model:VERSION ('+' becomes '_')\n"
      "Images keep their manifest digest, so IMAGE@sha256:... pins stay valid. An image locked from a\n"
      "multi-platform index ships as its one platform's manifest and is pushed under that digest (printed).\n"
      "The model is a CNCF ModelPack v1 artifact (application/vnd.cncf.model.manifest.v1+json): a config\n"
      "blob with the name, version, Hub commit, licenses, format, paramSize and precision, and one raw\n"
      "layer per file (weight, weight.config, doc or code by kind) whose digest is the file's SHA-256 and\n"
      "whose org.cncf.model.filepath and org.opencontainers.image.title are its path under model/, so\n"
      "Kubernetes image volumes, modctl and `oras pull` read it; republishing gives the same digest.\n"
      "Loopback registries (127.0.0.0/8, ::1, localhost) are spoken to over plain http, others over https\n"
      "unless --insecure. Output: one line per push, KIND DESTINATION DIGEST; the ledger records it.\n"
      "Exit codes: 0 ok, 1 error (registry, skopeo), 3 installed bytes or a pushed digest do not match.");
  cmd->callback([&ctx, o, json] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      ASSIGN_OR_RETURN(Published out, publish(*site, *o, [&](const std::string& line) { ctx.printer.note("{}", line); }));
      if (*json) {
        nlohmann::json j = nlohmann::json::array();
        for (const PublishedPush& p : out.pushes) {
          j.push_back({{"kind", p.kind}, {"source", p.source}, {"destination", p.destination}, {"digest", p.digest}});
        }
        fmt::print("{}\n", j.dump(2));
      } else {
        for (const PublishedPush& p : out.pushes) {
          fmt::print("{:<5} {} {}\n", p.kind, p.destination, p.digest);
        }
      }
      ctx.printer.note("published {} {} to {}: {} push(es), digests as installed", o->name, out.version, out.registry,
                       out.pushes.size());
      return ok_status();
    });
  });
}

}  // namespace airlock::installer

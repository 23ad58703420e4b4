// airlock-installer targets: rebuild ROOT/hf, ROOT/images, ROOT/apt and
// ROOT/wheels from the ledger and say how each tool finds them.
#include <fmt/format.h>
#include "installer/commands/commands.h"
#include "installer/targets/targets.h"

namespace airlock::installer {

namespace {

Status show_targets(Site& site, bool json) {
  ASSIGN_OR_RETURN(TargetsSummary sum, sync_targets(site));
  const std::string root = stdfs::absolute(site.root()).lexically_normal().string();  // pasteable from anywhere
  if (json) {
    nlohmann::json j = {{"hf", {{"path", root + "/hf"}, {"models", sum.models}, {"snapshots", sum.snapshots}}},
                        {"images", {{"path", root + "/images"}, {"images", sum.images}}},
                        {"apt", {{"path", root + "/apt"}, {"packages", sum.debs}, {"signed", sum.apt_signed}}},
                        {"wheels", {{"path", root + "/wheels"}, {"files", sum.wheels}}},
                        {"notes", sum.notes},
                        {"conflicts", sum.conflicts},
                        {"left_alone", sum.left_alone}};
    fmt::print("{}\n", j.dump(2));
    return ok_status();
  }
  fmt::print("hf      {}/hf: {} model(s), {} snapshot(s)\n", root, sum.models.size(), sum.snapshots);
  for (const std::string& m : sum.models) {
    fmt::print("          {}\n", m);
  }
  if (!sum.models.empty()) {
    fmt::print("          use: HF_HUB_CACHE={}/hf HF_HUB_OFFLINE=1 vllm serve {}\n", root,
               sum.models.front().substr(0, sum.models.front().find('@')));
  }
  fmt::print("images  {}/images: {} image(s)\n", root, sum.images);
  if (sum.images > 0) {
    fmt::print("          use: skopeo inspect oci:{}/images:REF   |   tar -C {}/images -c . | docker load\n", root, root);
  }
  fmt::print("apt     {}/apt: {} package(s), {}\n", root, sum.debs, sum.apt_signed ? "signed (InRelease)" : "unsigned");
  if (sum.debs > 0) {
    if (sum.apt_signed) {
      fmt::print("          use: deb [signed-by=/etc/apt/keyrings/airlock-site.gpg] file:{}/apt ./\n", root);
    } else {
      fmt::print("          use: deb [trusted=yes] file:{}/apt ./\n", root);
    }
  }
  fmt::print("wheels  {}/wheels: {} file(s)\n", root, sum.wheels);
  if (sum.wheels > 0) {
    fmt::print("          use: pip install --no-index --find-links {}/wheels -r requirements.txt\n", root);
  }
  for (const std::string& n : sum.notes) {
    fmt::print("note: {}\n", n);
  }
  for (const std::string& c : sum.conflicts) {
    fmt::print("conflict: {}\n", c);
  }
  for (const std::string& p : sum.left_alone) {
    fmt::print("left alone (not Airlock's): {}\n", p);
  }
  return ok_status();
}

}  // namespace

void add_targets_command(CLI::App& app, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("targets", "Rebuild the HF cache, OCI layout, apt repo and wheelhouse; show how to use them");
  cmd->add_flag("--json", *json, "print the result as JSON");
  cmd->footer(
      "install and rollback keep these up to date; run this after upgrading airlock or to repair them.\n"
      "  ROOT/hf      Hugging Face cache: HF_HUB_CACHE=ROOT/hf HF_HUB_OFFLINE=1 (refs/main = the active version)\n"
      "  ROOT/images  OCI image layout + docker-archive manifest.json (skopeo, podman, docker, ctr)\n"
      "  ROOT/apt     flat apt repository; signed when ROOT/keys/apt is a GnuPG home with a secret key\n"
      "  ROOT/wheels  pip install --no-index --find-links ROOT/wheels");
  cmd->callback([&ctx, json] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      return show_targets(*site, *json);
    });
  });
}

}  // namespace airlock::installer

// airlock-installer trust add|list|remove|revoke|threshold: the publisher keys this
// site accepts and how many of them must sign a bundle.
#include "installer/commands/commands.h"

namespace airlock::installer {

void add_trust_command(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("trust", "Manage trusted publisher keys");
  cmd->require_subcommand(1);

  auto add_path = std::make_shared<std::string>();
  auto add_name = std::make_shared<std::string>();
  auto add_threshold = std::make_shared<std::size_t>(0);
  CLI::App* add = cmd->add_subcommand("add", "Trust a publisher public key (.pub from 'airlock-bundler keygen')");
  add->add_option("key", *add_path, "public key file")->required();
  add->add_option("--name", *add_name, "name for the key (default: its file name)");
  add->add_option("--threshold", *add_threshold,
                  "then require this many distinct trusted keys to sign every bundle (see 'trust threshold')");
  add->callback([&ctx, add_path, add_name, add_threshold] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      std::string name = add_name->empty() ? stdfs::path(*add_path).stem().string() : *add_name;
      ASSIGN_OR_RETURN(keys::TrustedKey k, site->trust_store().add(*add_path, name));
      TRY(site->log("trust-add", "key/" + k.name, "ok", fmt::format("key id {}", k.key.keyid)));
      fmt::print("trusted {} ({})\n", k.name, k.key.keyid);
      if (*add_threshold != 0) {
        TRY(site->trust_store().set_threshold(*add_threshold));
        TRY(site->log("trust-threshold", "policy", "ok", fmt::format("threshold {}", *add_threshold)));
        fmt::print("threshold {}\n", *add_threshold);
      }
      return ok_status();
    });
  });

  auto rv_name = std::make_shared<std::string>();
  CLI::App* rv = cmd->add_subcommand(
      "revoke", "Stop trusting a publisher key for good: its signatures never count again and it cannot be re-added");
  rv->add_option("name", *rv_name, "key name")->required();
  rv->callback([&ctx, rv_name] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      ASSIGN_OR_RETURN(keys::TrustedKey k, site->trust_store().revoke(*rv_name));
      TRY(site->log("trust-revoke", "key/" + k.name, "ok", fmt::format("key id {}", k.key.keyid)));
      fmt::print("revoked {} ({})\n", k.name, k.key.keyid);
      return ok_status();
    });
  });

  auto threshold = std::make_shared<std::size_t>(0);
  CLI::App* th = cmd->add_subcommand(
      "threshold",
      "Require N distinct trusted keys to sign every bundle (each key counts once, however many times it signed)");
  th->add_option("n", *threshold, "signatures required, 1 .. number of trusted keys")->required();
  th->callback([&ctx, threshold] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      TRY(site->trust_store().set_threshold(*threshold));
      TRY(site->log("trust-threshold", "policy", "ok", fmt::format("threshold {}", *threshold)));
      fmt::print("threshold {}\n", *threshold);
      return ok_status();
    });
  });

  auto json = std::make_shared<bool>(false);
  CLI::App* list = cmd->add_subcommand("list", "List trusted publisher keys");
  list->add_flag("--json", *json, "print as JSON");
  list->callback([&ctx, json] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      ASSIGN_OR_RETURN(auto keys, site->trust_store().list());
      ASSIGN_OR_RETURN(std::size_t need, site->trust_store().threshold());
      nlohmann::json entries = nlohmann::json::array();
      for (const auto& k : keys) {
        entries.push_back({{"name", k.name}, {"keyid", k.key.keyid}});
        if (!*json) {
          fmt::print("{}  {}\n", k.key.keyid, k.name);
        }
      }
      ASSIGN_OR_RETURN(auto gone, site->trust_store().revoked());
      nlohmann::json revoked = nlohmann::json::array();
      for (const auto& k : gone) {
        revoked.push_back({{"name", k.name}, {"keyid", k.key.keyid}});
        if (!*json) {
          fmt::print("{}  {}  (revoked)\n", k.key.keyid, k.name);
        }
      }
      if (*json) {
        fmt::print("{}\n",
                   nlohmann::json{{"keys", entries}, {"revoked", revoked}, {"threshold", need}}.dump(2));
      } else {
        fmt::print("threshold: {} of {} key(s) must sign\n", need, keys.size());
      }
      return ok_status();
    });
  });

  auto rm_name = std::make_shared<std::string>();
  CLI::App* rm = cmd->add_subcommand("remove", "Stop trusting a publisher key");
  rm->add_option("name", *rm_name, "key name")->required();
  rm->callback([&ctx, rm_name] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      TRY(site->trust_store().remove(*rm_name));
      TRY(site->log("trust-remove", "key/" + *rm_name, "ok", ""));
      fmt::print("removed {}\n", *rm_name);
      return ok_status();
    });
  });
}

}  // namespace airlock::installer

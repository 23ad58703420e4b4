// airlock-installer trust add|list|remove|revoke|threshold: the keys this
// site accepts, in two roles (publisher keys sign bundles; root keys, once a
// site has any, must also sign key rotations), and how many of each must sign.
#include "installer/commands/commands.h"

namespace airlock::installer {

namespace {

constexpr const char* k_role_help =
    "publisher (default): signs bundles; root: must also sign bundles that rotate keys, once the site has any";

keys::TrustStore store_for(const Site& site, const std::string& role) {
  return role == "root" ? site.root_store() : site.trust_store();
}

void add_role_option(CLI::App* cmd, std::string& role) {
  cmd->add_option("--role", role, k_role_help)->check(CLI::IsMember({"publisher", "root"}));
}

}  // namespace

void add_trust_command(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("trust", "Manage trusted publisher and root keys and their thresholds");
  cmd->require_subcommand(1);

  auto add_path = std::make_shared<std::string>();
  auto add_name = std::make_shared<std::string>();
  auto add_role = std::make_shared<std::string>("publisher");
  auto add_threshold = std::make_shared<std::size_t>(0);
  CLI::App* add = cmd->add_subcommand("add", "Trust a public key (.pub from 'airlock-bundler keygen')");
  add->add_option("key", *add_path, "public key file")->required();
  add->add_option("--name", *add_name, "name for the key (default: its file name)");
  add_role_option(add, *add_role);
  add->add_option("--threshold", *add_threshold,
                  "then require this many distinct keys of the role to sign (see 'trust threshold')");
  add->callback([&ctx, add_path, add_name, add_role, add_threshold] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      std::string name = add_name->empty() ? stdfs::path(*add_path).stem().string() : *add_name;
      keys::TrustStore store = store_for(*site, *add_role);
      ASSIGN_OR_RETURN(keys::TrustedKey k, store.add(*add_path, name));
      TRY(site->log("trust-add", "key/" + k.name, "ok", fmt::format("{} key id {}", *add_role, k.key.keyid)));
      fmt::print("trusted {} ({}) as {}\n", k.name, k.key.keyid, *add_role);
      if (*add_threshold != 0) {
        TRY(store.set_threshold(*add_threshold));
        TRY(site->log("trust-threshold", "policy", "ok", fmt::format("{} threshold {}", *add_role, *add_threshold)));
        fmt::print("{} threshold {}\n", *add_role, *add_threshold);
      }
      return ok_status();
    });
  });

  auto rv_name = std::make_shared<std::string>();
  auto rv_role = std::make_shared<std::string>("publisher");
  CLI::App* rv = cmd->add_subcommand(
      "revoke", "Stop trusting a key for good: its signatures never count again and it cannot be re-added");
  rv->add_option("name", *rv_name, "key name")->required();
  add_role_option(rv, *rv_role);
  rv->callback([&ctx, rv_name, rv_role] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      ASSIGN_OR_RETURN(keys::TrustedKey k, store_for(*site, *rv_role).revoke(*rv_name));
      TRY(site->log("trust-revoke", "key/" + k.name, "ok", fmt::format("{} key id {}", *rv_role, k.key.keyid)));
      fmt::print("revoked {} ({})\n", k.name, k.key.keyid);
      return ok_status();
    });
  });

  auto threshold = std::make_shared<std::size_t>(0);
  auto th_role = std::make_shared<std::string>("publisher");
  CLI::App* th = cmd->add_subcommand(
      "threshold",
      "Require N distinct keys of a role to sign (each key counts once, however many times it signed)");
  th->add_option("n", *threshold, "signatures required, 1 .. number of keys in the role")->required();
  add_role_option(th, *th_role);
  th->callback([&ctx, threshold, th_role] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      TRY(store_for(*site, *th_role).set_threshold(*threshold));
      TRY(site->log("trust-threshold", "policy", "ok", fmt::format("{} threshold {}", *th_role, *threshold)));
      fmt::print("{} threshold {}\n", *th_role, *threshold);
      return ok_status();
    });
  });

  auto json = std::make_shared<bool>(false);
  CLI::App* list = cmd->add_subcommand("list", "List trusted and revoked keys and the thresholds");
  list->add_flag("--json", *json, "print as JSON");
  list->callback([&ctx, json] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      nlohmann::json out;
      std::vector<std::string> lines;
      for (const char* role : {"publisher", "root"}) {
        keys::TrustStore store = store_for(*site, role);
        ASSIGN_OR_RETURN(auto keys, store.list());
        ASSIGN_OR_RETURN(std::size_t need, store.threshold());
        nlohmann::json entries = nlohmann::json::array();
        for (const auto& k : keys) {
          entries.push_back({{"name", k.name}, {"keyid", k.key.keyid}});
          if (!*json) {
            fmt::print("{}  {}{}\n", k.key.keyid, k.name, std::string_view(role) == "root" ? "  (root)" : "");
          }
        }
        const bool root = std::string_view(role) == "root";
        out[root ? "root_keys" : "keys"] = entries;
        out[root ? "root_threshold" : "threshold"] = need;
        if (!root) {
          lines.push_back(fmt::format("threshold: {} of {} key(s) must sign", need, keys.size()));
        } else if (!keys.empty()) {
          lines.push_back(fmt::format("root threshold: {} of {} root key(s) must sign key rotations", need,
                                      keys.size()));
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
      out["revoked"] = revoked;
      if (*json) {
        fmt::print("{}\n", out.dump(2));
      } else {
        for (const auto& l : lines) {
          fmt::print("{}\n", l);
        }
      }
      return ok_status();
    });
  });

  auto rm_name = std::make_shared<std::string>();
  auto rm_role = std::make_shared<std::string>("publisher");
  CLI::App* rm = cmd->add_subcommand("remove", "Stop trusting a key (see also 'revoke')");
  rm->add_option("name", *rm_name, "key name")->required();
  add_role_option(rm, *rm_role);
  rm->callback([&ctx, rm_name, rm_role] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      TRY(store_for(*site, *rm_role).remove(*rm_name));
      TRY(site->log("trust-remove", "key/" + *rm_name, "ok", *rm_role));
      fmt::print("removed {}\n", *rm_name);
      return ok_status();
    });
  });
}

}  // namespace airlock::installer

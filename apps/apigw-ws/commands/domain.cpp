// apigw-ws domain apply|show: the API's custom domain (CreateDomainName with an ACM certificate)
// and its API mapping to the recorded API and stage (CreateApiMapping, or UpdateApiMapping when the
// mapping at that base path points elsewhere). A domain that exists with another certificate (or,
// when configured, another endpoint type or security policy) is updated with UpdateDomainName.
// Like `api apply`, a second run changes nothing.
//
// DNS stays manual (as in the reference): the command prints the regional target name
// (d-xxxx.execute-api.{region}.amazonaws.com) to point a CNAME or alias record at.
#include "apigw/core/json.hpp"
#include "apigw/mgmt/control_plane.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "cli_common.hpp"
#include "infra.hpp"

#include <fmt/format.h>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <utility>

namespace apigw::cli {
namespace {

namespace asio = boost::asio;
using object = boost::json::object;

struct domain_cli_options {
  std::string config;
  bool dry_run = false;
  control_plane_cli cp;
};

// target_name: the first configuration's apiGatewayDomainName (the CNAME target).
std::string target_name(const object& domain) {
  const auto* c = domain.if_contains("domainNameConfigurations");
  if (c == nullptr || !c->is_array() || c->get_array().empty() || !c->get_array()[0].is_object()) return {};
  return member_string(c->get_array()[0].get_object(), "apiGatewayDomainName");
}

// first_configuration: the domain's first configuration (empty when it has none).
object first_configuration(const object& domain) {
  const auto* c = domain.if_contains("domainNameConfigurations");
  if (c == nullptr || !c->is_array() || c->get_array().empty() || !c->get_array()[0].is_object()) return {};
  return c->get_array()[0].get_object();
}

std::string certificate_of(const object& domain) {
  return member_string(first_configuration(domain), "certificateArn");
}

// configuration_changes: "certificate a -> b" etc. for what the existing configuration `have`
// holds differently from the file (endpoint type and security policy only when configured), and
// the UpdateDomainName configuration that fixes it (the existing one with those members set).
std::pair<std::string, object> configuration_changes(const object& have, const infra_domain& d) {
  std::string what;
  object want = have;
  const auto check = [&](std::string_view member, std::string_view label, const std::string& value) {
    if (value.empty() || member_string(have, member) == value) return;
    what += fmt::format("{}{} {} -> {}", what.empty() ? "" : ", ", label, member_string(have, member), value);
    want[member] = value;
  };
  check("certificateArn", "certificate", d.certificate_arn);
  check("endpointType", "endpoint type", d.endpoint_type);
  check("securityPolicy", "security policy", d.security_policy);
  // Only what UpdateDomainName accepts in a configuration goes back (not the read-only members).
  object body;
  for (std::string_view k : {"certificateArn", "certificateName", "endpointType", "securityPolicy", "ipAddressType",
                             "ownershipVerificationCertificateArn"}) {
    if (const auto* v = want.if_contains(k)) body[k] = *v;
  }
  return {what, body};
}

// converge_domain: the domain name and its mapping. Returns the CNAME target.
asio::awaitable<result<std::string>> converge_domain(mgmt::control_plane_client& client, const infra_domain& d,
                                                     const store::gateway& gw, bool dry_run, bool quiet) {
  const auto say = [&](const std::string& what) {
    if (!quiet || dry_run) fmt::print("{}{}\n", dry_run ? "plan: " : "", what);
  };
  std::string target;
  auto existing = co_await client.get_domain_name(d.name);
  if (!existing && existing.error() != condition::not_found) co_return existing.error();
  if (!existing) {
    say(fmt::format("+ domain name {} (certificate {})", d.name, d.certificate_arn));
    if (dry_run) co_return std::string{};
    object cfg;
    cfg["certificateArn"] = d.certificate_arn;
    cfg["endpointType"] = d.endpoint_type.empty() ? std::string("REGIONAL") : d.endpoint_type;
    cfg["securityPolicy"] = d.security_policy.empty() ? std::string("TLS_1_2") : d.security_policy;
    if (!d.hosted_zone_id.empty()) cfg["hostedZoneId"] = d.hosted_zone_id;
    // (Braced temporaries stay out of co_await expressions: GCC 12 cannot put their arrays in the
    // coroutine frame.)
    boost::json::array configs;
    configs.push_back(std::move(cfg));
    object body;
    body["domainName"] = d.name;
    body["domainNameConfigurations"] = std::move(configs);
    auto created = co_await client.create_domain_name(std::move(body));
    if (!created) co_return created.error();
    target = target_name(*created);
  } else {
    target = target_name(*existing);
    auto changes = configuration_changes(first_configuration(*existing), d);
    const std::string what = std::move(changes.first);
    object configuration = std::move(changes.second);
    if (!what.empty()) {
      // UpdateDomainName with the whole configuration list (the first one changed): AWS keeps the
      // domain's regional target name, so the DNS record stays valid.
      say(fmt::format("~ domain name {}: {}", d.name, what));
      if (!dry_run) {
        boost::json::array configs;
        configs.push_back(std::move(configuration));
        if (const auto* all = existing->if_contains("domainNameConfigurations"); all != nullptr && all->is_array()) {
          for (std::size_t i = 1; i < all->get_array().size(); ++i) configs.push_back(all->get_array()[i]);
        }
        object body;
        body["domainNameConfigurations"] = std::move(configs);
        auto updated = co_await client.update_domain_name(d.name, std::move(body));
        if (!updated) co_return updated.error();
        if (auto t = target_name(*updated); !t.empty()) target = t;
      }
    }
  }
  auto mappings = co_await client.get_api_mappings(d.name);
  if (!mappings) co_return mappings.error();
  const object* at_path = nullptr;
  for (const auto& m : *mappings) {
    if (member_string(m, "apiMappingKey") == d.base_path) at_path = &m;
  }
  if (at_path == nullptr) {
    say(fmt::format("+ API mapping {}/{} -> API {} stage {}", d.name, d.base_path, gw.api_id, gw.stage));
    if (!dry_run) {
      object body{{"apiId", gw.api_id}, {"stage", gw.stage}};
      if (!d.base_path.empty()) body["apiMappingKey"] = d.base_path;
      auto r = co_await client.create_api_mapping(d.name, std::move(body));
      if (!r) co_return r.error();
    }
  } else if (member_string(*at_path, "apiId") != gw.api_id || member_string(*at_path, "stage") != gw.stage) {
    say(fmt::format("~ API mapping {}/{} -> API {} stage {} (was {} {})", d.name, d.base_path, gw.api_id, gw.stage,
                    member_string(*at_path, "apiId"), member_string(*at_path, "stage")));
    if (!dry_run) {
      object body;
      body["apiId"] = gw.api_id;
      body["stage"] = gw.stage;
      auto r = co_await client.update_api_mapping(d.name, member_string(*at_path, "apiMappingId"), std::move(body));
      if (!r) co_return r.error();
    }
  }
  co_return target;
}

asio::awaitable<result<void>> print_domain(mgmt::control_plane_client& client, std::string name) {
  auto d = co_await client.get_domain_name(name);
  if (!d) co_return d.error();
  fmt::print("domain:      {}\ncertificate: {}\nDNS target:  {}\n", name, certificate_of(*d), target_name(*d));
  auto mappings = co_await client.get_api_mappings(name);
  if (!mappings) co_return mappings.error();
  for (const auto& m : *mappings) {
    fmt::print("mapping:     /{} -> API {} stage {}\n", member_string(m, "apiMappingKey"), member_string(m, "apiId"),
               member_string(m, "stage"));
  }
  co_return ok();
}

int domain_apply(const globals& g, const domain_cli_options& o) {
  auto cfg = load_infra_config(o.config);
  if (!cfg) return fail("domain apply", cfg.error());
  if (!cfg->domain) {
    return fail("domain apply", failure{core::error::invalid_config, o.config + ": domain: is required here"});
  }
  auto setup = resolve_control_plane(o.cp);
  if (!setup) return fail("domain apply", setup.error());
  auto st = open_migrated_store(g);
  if (!st) return fail("domain apply", st.error());
  auto gw = (*st)->find_gateway_by_name(cfg->name);
  if (!gw || gw->api_id.empty()) {
    return fail("domain apply", failure{core::error::not_found,
                                        fmt::format("API {} has not been created: run `apigw-ws api apply --config {}` "
                                                    "first",
                                                    cfg->name, o.config)});
  }
  asio::io_context io;
  net::http_client_pool pool(io.get_executor());
  auto client = mgmt::control_plane_client::create(pool, setup->endpoint_url, setup->options);
  if (!client) return fail("domain apply", client.error());
  // The record says "domain configured, not mapped yet" until the mapping exists.
  if (!o.dry_run && gw->domain != cfg->domain->name) {
    gw->domain = cfg->domain->name;
    gw->custom_domain_created = false;
    auto saved = (*st)->upsert_gateway(*gw);
    if (!saved) return fail("domain apply", saved.error());
    *gw = *saved;
  }
  auto target = run_io(io, converge_domain(*client, *cfg->domain, *gw, o.dry_run, g.quiet));
  if (!target) return fail("domain apply", target.error());
  if (o.dry_run) return k_exit_ok;
  if (!gw->custom_domain_created) {
    gw->custom_domain_created = true;
    if (auto saved = (*st)->upsert_gateway(*gw); !saved) return fail("domain apply", saved.error());
  }
  if (!g.quiet) {
    fmt::print("{} is mapped to API {} stage {}; point a CNAME (or alias) record for it at {}\n", cfg->domain->name,
               gw->api_id, gw->stage, target->empty() ? "(see domain show)" : *target);
  }
  return k_exit_ok;
}

int domain_show(const globals& g, const domain_cli_options& o) {
  auto cfg = load_infra_config(o.config);
  if (!cfg) return fail("domain show", cfg.error());
  std::string name = cfg->domain ? cfg->domain->name : std::string{};
  if (name.empty()) {
    auto st = open_migrated_store(g);
    if (!st) return fail("domain show", st.error());
    auto gw = (*st)->find_gateway_by_name(cfg->name);
    if (!gw) return fail("domain show", gw.error());
    name = gw->domain;
  }
  if (name.empty()) return fail("domain show", failure{core::error::not_found, cfg->name + " has no custom domain"});
  auto setup = resolve_control_plane(o.cp);
  if (!setup) return fail("domain show", setup.error());
  asio::io_context io;
  net::http_client_pool pool(io.get_executor());
  auto client = mgmt::control_plane_client::create(pool, setup->endpoint_url, setup->options);
  if (!client) return fail("domain show", client.error());
  auto r = run_io(io, print_domain(*client, name));
  if (!r) return fail("domain show", r.error());
  return k_exit_ok;
}

}  // namespace

void register_domain(CLI::App& app, const globals& g, command_runner& run) {
  auto o = std::make_shared<domain_cli_options>();
  auto* domain = app.add_subcommand("domain", "The API's custom domain name and API mapping");
  domain->require_subcommand(1);

  auto* apply_cmd = domain->add_subcommand(
      "apply", "Create the custom domain of --config (certificate ARN) and map it to the applied API's stage");
  apply_cmd->add_option("--config", o->config, "api.json with a \"domain\" object")->required();
  apply_cmd->add_flag("--dry-run", o->dry_run, "Print the plan; change nothing");
  add_control_plane_options(apply_cmd, o->cp);
  apply_cmd->callback([&g, &run, o] { run = [&g, o] { return domain_apply(g, *o); }; });

  auto* show_cmd = domain->add_subcommand("show", "Print the custom domain, its DNS target and its API mappings");
  show_cmd->add_option("--config", o->config, "api.json")->required();
  add_control_plane_options(show_cmd, o->cp);
  show_cmd->callback([&g, &run, o] { run = [&g, o] { return domain_show(g, *o); }; });
}

}  // namespace apigw::cli

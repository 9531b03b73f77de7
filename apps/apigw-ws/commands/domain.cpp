// apigw-ws domain apply|show: the API's custom domain (CreateDomainName with an ACM certificate)
// and its API mapping to the recorded API and stage (CreateApiMapping, or UpdateApiMapping when the
// mapping at that base path points elsewhere). A domain that exists with another certificate (or,
// when configured, another endpoint type or security policy) is updated with UpdateDomainName.
// The work is provision::apply_domain; this file reads the record, prints, and records the domain.
// Like `api apply`, a second run changes nothing.
//
// DNS stays manual (as in the reference): the command prints the regional target name
// (d-xxxx.execute-api.{region}.amazonaws.com) to point a CNAME or alias record at.
#include "apigw/mgmt/control_plane.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/provision/apply.hpp"
#include "cli_common.hpp"
#include "infra.hpp"

#include "apigw/core/json.hpp"

#include <fmt/format.h>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <memory>
#include <string>
#include <vector>

namespace apigw::cli {
namespace {

namespace asio = boost::asio;
using provision::member_string;

struct domain_cli_options {
  std::string config;
  bool dry_run = false;
  std::string format = "text";
  control_plane_cli cp;
};

// step_printer: prints each step ("plan: " before it in a dry run).
// With `collect` it keeps them for one JSON report (--format json) instead.
class step_printer final : public provision::api_hooks {
 public:
  step_printer(bool dry_run, bool quiet, bool collect) : dry_run_(dry_run), quiet_(quiet), collect_(collect) {}
  void step(const provision::operation& o) override {
    if (collect_) {
      steps_.push_back(o.line);
    } else if (!quiet_ || dry_run_) {
      fmt::print("{}{}\n", dry_run_ ? "plan: " : "", o.line);
    }
  }
  const std::vector<std::string>& steps() const { return steps_; }

 private:
  bool dry_run_;
  bool quiet_;
  bool collect_;
  std::vector<std::string> steps_;
};

asio::awaitable<result<void>> print_domain(mgmt::control_plane_client& client, std::string name, bool as_json) {
  auto d = co_await client.get_domain_name(name);
  if (!d) co_return d.error();
  auto mappings = co_await client.get_api_mappings(name);
  if (!mappings) co_return mappings.error();
  if (as_json) {
    json::array ms;
    for (const auto& m : *mappings) {
      ms.push_back(json::object{{"base_path", member_string(m, "apiMappingKey")},
                                {"api_id", member_string(m, "apiId")},
                                {"stage", member_string(m, "stage")}});
    }
    fmt::print("{}\n", json::serialize(json::object{{"domain", name},
                                                    {"certificate", provision::domain_certificate(*d)},
                                                    {"dns_target", provision::domain_target(*d)},
                                                    {"mappings", std::move(ms)}}));
    co_return ok();
  }
  fmt::print("domain:      {}\ncertificate: {}\nDNS target:  {}\n", name, provision::domain_certificate(*d),
             provision::domain_target(*d));
  for (const auto& m : *mappings) {
    fmt::print("mapping:     /{} -> API {} stage {}\n", member_string(m, "apiMappingKey"), member_string(m, "apiId"),
               member_string(m, "stage"));
  }
  co_return ok();
}

int domain_apply(const globals& g, const domain_cli_options& o) {
  auto cfg = provision::load_api_config(o.config);
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
    return fail("domain apply",
                failure{core::error::not_found,
                        fmt::format("API {} has not been created: run `{} --db {} api apply --config "
                                    "{}` first",
                                    cfg->name, self_command(), shell_quote(g.db), shell_quote(o.config))});
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
  const bool as_json = o.format == "json";
  step_printer printer(o.dry_run, g.quiet, as_json);
  auto done = run_io(io, provision::apply_domain(*client, *cfg->domain, gw->api_id, gw->stage, o.dry_run, printer));
  if (!done) return fail("domain apply", done.error());
  const std::string& target = done->target;
  if (!o.dry_run && !gw->custom_domain_created) {
    gw->custom_domain_created = true;
    if (auto saved = (*st)->upsert_gateway(*gw); !saved) return fail("domain apply", saved.error());
  }
  if (as_json) {
    fmt::print("{}\n", json::serialize(
                           json::object{{"domain", cfg->domain->name},
                                        {"api_id", gw->api_id},
                                        {"stage", gw->stage},
                                        {"dry_run", o.dry_run},
                                        {"steps", json::value_from(printer.steps())},
                                        {"dns_target", target.empty() ? json::value(nullptr) : json::value(target)}}));
    return k_exit_ok;
  }
  if (o.dry_run) return k_exit_ok;
  if (!g.quiet) {
    fmt::print("{} is mapped to API {} stage {}; point a CNAME (or alias) record for it at {}\n", cfg->domain->name,
               gw->api_id, gw->stage, target.empty() ? "(see domain show)" : target);
  }
  return k_exit_ok;
}

int domain_show(const globals& g, const domain_cli_options& o) {
  auto cfg = provision::load_api_config(o.config);
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
  auto r = run_io(io, print_domain(*client, name, o.format == "json"));
  if (!r) return fail("domain show", r.error());
  return k_exit_ok;
}

}  // namespace

void register_domain(CLI::App& app, const globals& g, command_runner& run) {
  auto o = std::make_shared<domain_cli_options>();
  auto* domain = app.add_subcommand("domain", "The API's custom domain name and API mapping");
  domain->require_subcommand(1);

  auto* apply_cmd = domain->add_subcommand(
      "apply",
      "Create the custom domain of --config (certificate ARN; REGIONAL and TLS_1_2, the only ones WebSocket APIs "
      "allow) and map it to the applied API's stage. A throttled domain call is retried no sooner than 30 s later "
      "(AWS's quota: one per 30 s)");
  apply_cmd->add_option("--config", o->config, "api.json with a \"domain\" object")->required();
  apply_cmd->add_flag("--dry-run", o->dry_run, "Print the plan; change nothing");
  add_control_plane_options(apply_cmd, o->cp);
  add_format_option(apply_cmd, o->format);
  add_example(apply_cmd, "apigw-ws domain apply --config api.json --region eu-west-1 --dry-run");
  apply_cmd->callback([&g, &run, o] { run = [&g, o] { return domain_apply(g, *o); }; });

  auto* show_cmd = domain->add_subcommand("show", "Print the custom domain, its DNS target and its API mappings");
  show_cmd->add_option("--config", o->config, "api.json")->required();
  add_control_plane_options(show_cmd, o->cp);
  add_format_option(show_cmd, o->format);
  add_example(show_cmd, "apigw-ws domain show --config api.json --region eu-west-1");
  show_cmd->callback([&g, &run, o] { run = [&g, o] { return domain_show(g, *o); }; });
}

}  // namespace apigw::cli

// apigw-ws api apply|show|delete: the WebSocket API on API Gateway (or the local gateway), made to
// match api.json.
//
// apply is provision::apply_api (read what exists, plan the difference, make it; see
// docs/design/provision.md); this file parses the flags, keeps the record in the store as the
// work goes (store_recorder), and prints the steps ("plan: " before each in a dry run) and the
// outcome. A second apply makes only GETs; a run that fails part-way leaves a record of what
// really exists and the next apply continues from there.
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

#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace apigw::cli {
namespace {

namespace asio = boost::asio;
using provision::member_string;

struct api_cli_options {
  std::string config;
  std::string name;
  bool dry_run = false;
  bool live = false;
  bool yes = false;
  std::string format = "text";
  control_plane_cli cp;
};

// store_recorder: prints the steps and keeps the gateway row and its route rows in step with what
// the control plane has (no store writes happen in a dry run: apply makes no record_* call then).
class store_recorder final : public provision::api_hooks {
 public:
  store_recorder(store::session_store* st, const control_plane_setup& setup, const provision::api_config& cfg,
                 bool dry_run, bool quiet)
      : store_(st), setup_(setup), cfg_(cfg), dry_run_(dry_run), quiet_(quiet) {}

  // recorded: what the store holds under the API's name (and the row, kept for later updates).
  result<provision::api_record> recorded() {
    provision::api_record rec;
    if (store_ == nullptr) return rec;
    auto g = store_->find_gateway_by_name(cfg_.name);
    if (!g) {
      if (g.error() == condition::not_found) return rec;
      return g.error();
    }
    gateway_ = *g;
    rec.api_id = g->api_id;
    rec.stage = g->stage;
    rec.deployment_id = g->deployment_id;
    auto rows = store_->list_gateway_routes(g->id);
    if (!rows) return rows.error();
    for (auto& r : *rows) {
      rec.routes.push_back(provision::recorded_route{r.route_key, r.name, r.integration_url, r.deployed});
    }
    return rec;
  }

  // collect: keep the steps and notes for one JSON report (--format json) instead of printing them.
  void collect() { collect_ = true; }
  const std::vector<std::string>& steps() const { return steps_; }
  const std::vector<std::string>& notes() const { return notes_; }

  void step(const provision::operation& o) override {
    if (collect_) {
      steps_.push_back(o.line);
    } else if (!quiet_ || dry_run_) {
      fmt::print("{}{}\n", dry_run_ ? "plan: " : "", o.line);
    }
  }
  void note(const std::string& text) override {
    if (collect_) {
      notes_.push_back(text);
    } else if (!quiet_) {
      fmt::print("{}\n", text);
    }
  }

  // record_api: the gateway row as known now; a deployment recorded for another API, or another
  // stage, no longer counts.
  result<void> record_api(const std::string& api_id, bool found) override {
    api_id_ = api_id;
    return record(found);
  }

  // record_undeployed: the recorded deployment is cleared before the first change the deployment
  // holds, so a run that stops before deploying leaves a record saying the stage does not serve
  // what the control plane now has, and the next apply deploys.
  result<void> record_undeployed() override {
    if (store_ == nullptr || gateway_.id == 0 || gateway_.deployment_id.empty()) return ok();
    gateway_.deployment_id.clear();
    auto saved = store_->upsert_gateway(gateway_);
    if (!saved) return saved.error();
    gateway_ = *saved;
    return ok();
  }

  result<void> record_route(const provision::recorded_route& r) override {
    if (store_ == nullptr) return ok();
    auto saved = store_->upsert_gateway_route(store::gateway_route{.gateway = gateway_.id,
                                                                   .name = r.name,
                                                                   .route_key = r.route_key,
                                                                   .integration_url = r.integration_url,
                                                                   .deployed = false});
    if (!saved) return saved.error();
    return ok();
  }

  result<void> forget_route(const std::string& route_key) override {
    if (store_ == nullptr) return ok();
    if (auto d = store_->delete_gateway_route(gateway_.id, route_key); !d) return d.error();
    return ok();
  }

  result<void> record_deployed(const std::string& deployment_id) override {
    if (store_ == nullptr) return ok();
    if (auto r = record(); !r) return r.error();
    gateway_.deployment_id = deployment_id;
    auto saved = store_->upsert_gateway(gateway_);
    if (!saved) return saved.error();
    gateway_ = *saved;
    if (auto m = store_->mark_gateway_routes_deployed(gateway_.id); !m) return m.error();
    return ok();
  }

 private:
  result<void> record(bool clear_deployment = false) {
    if (store_ == nullptr) return ok();
    store::gateway g;
    if (auto old = store_->find_gateway_by_name(cfg_.name); old) {
      g = *old;
    } else if (old.error() != condition::not_found) {
      return old.error();
    }
    g.name = cfg_.name;
    if (g.api_id != api_id_ || clear_deployment || g.stage != cfg_.stage) g.deployment_id.clear();
    g.api_id = api_id_;
    g.endpoint = management_endpoint(setup_, api_id_, cfg_.stage);
    g.region = setup_.region;
    g.stage = cfg_.stage;
    g.default_channel = cfg_.default_channel;
    g.route_selection_expression = cfg_.route_selection_expression;
    g.target_base = cfg_.target_base;
    g.api_created = true;
    auto saved = store_->upsert_gateway(g);
    if (!saved) return saved.error();
    gateway_ = *saved;
    return ok();
  }

  store::session_store* store_;
  const control_plane_setup& setup_;
  const provision::api_config& cfg_;
  bool dry_run_;
  bool quiet_;
  bool collect_ = false;
  std::vector<std::string> steps_;
  std::vector<std::string> notes_;
  std::string api_id_;
  store::gateway gateway_;
};

int apply(const globals& g, const api_cli_options& o) {
  auto cfg = provision::load_api_config(o.config);
  if (!cfg) return fail("api apply", cfg.error());
  auto setup = resolve_control_plane(o.cp);
  if (!setup) return fail("api apply", setup.error());
  std::unique_ptr<store::session_store> st;
  if (!o.dry_run) {
    auto opened = open_migrated_store(g);
    if (!opened) return fail("api apply", opened.error());
    st = std::move(*opened);
  } else if (database_exists(g.db)) {
    // A dry run reads the record when there is one; it never writes, nor creates a database file.
    if (auto opened = open_migrated_store(g); opened) st = std::move(*opened);
  }
  asio::io_context io;
  net::http_client_pool pool(io.get_executor());
  auto client = mgmt::control_plane_client::create(pool, setup->endpoint_url, setup->options);
  if (!client) return fail("api apply", client.error());
  store_recorder rec(st.get(), *setup, *cfg, o.dry_run, g.quiet);
  if (o.format == "json") rec.collect();
  auto recorded = rec.recorded();
  if (!recorded) return fail("api apply", recorded.error());
  auto r = run_io(io, provision::apply_api(*client, *cfg, std::move(*recorded), setup->region, o.dry_run, rec));
  if (!r) return fail("api apply", r.error());
  if (o.format == "json") {
    fmt::print("{}\n",
               json::serialize(json::object{
                   {"name", cfg->name},
                   {"api_id", r->api_id.empty() ? json::value(nullptr) : json::value(r->api_id)},
                   {"stage", cfg->stage},
                   {"dry_run", o.dry_run},
                   {"changes", r->changes},
                   {"steps", json::value_from(rec.steps())},
                   {"notes", json::value_from(rec.notes())},
                   {"endpoint", r->api_id.empty() ? json::value(nullptr)
                                                  : json::value(management_endpoint(*setup, r->api_id, cfg->stage))}}));
    return k_exit_ok;
  }
  if (g.quiet) return k_exit_ok;
  if (r->changes == 0) {
    fmt::print("{} is up to date (API {}, stage {})\n", cfg->name, r->api_id, cfg->stage);
  } else {
    fmt::print("{} {} change(s) to {} (API {}, stage {}); endpoint {}\n", o.dry_run ? "would make" : "made", r->changes,
               cfg->name, r->api_id.empty() ? "(new)" : r->api_id, cfg->stage,
               r->api_id.empty() ? "(after apply)" : management_endpoint(*setup, r->api_id, cfg->stage));
  }
  return k_exit_ok;
}

// live_state: what the control plane has for the API: its routes (route key, integration URI) and
// the deployment its stage serves.
struct live_state {
  std::vector<std::pair<std::string, std::string>> routes;
  std::optional<std::string> deployment_id;
};

asio::awaitable<result<live_state>> read_live(mgmt::control_plane_client& client, std::string api_id,
                                              std::string stage) {
  auto routes = co_await client.get_routes(api_id);
  if (!routes) co_return routes.error();
  auto ints = co_await client.get_integrations(api_id);
  if (!ints) co_return ints.error();
  std::map<std::string, std::string> uri;
  for (const auto& i : *ints) {
    // A MOCK integration has no URI: shown as MOCK, as its record row is.
    const bool mock = member_string(i, "integrationType") == "MOCK";
    uri.emplace(member_string(i, "integrationId"), mock ? std::string("MOCK") : member_string(i, "integrationUri"));
  }
  live_state live;
  for (const auto& r : *routes) {
    const std::string t = member_string(r, "target");
    const auto it = t.starts_with("integrations/") ? uri.find(t.substr(13)) : uri.end();
    live.routes.emplace_back(member_string(r, "routeKey"), it == uri.end() ? std::string{} : it->second);
  }
  auto stages = co_await client.get_stages(api_id);
  if (!stages) co_return stages.error();
  for (const auto& st : *stages) {
    if (member_string(st, "stageName") == stage) live.deployment_id = member_string(st, "deploymentId");
  }
  co_return live;
}

// api_name: --name, else the name in --config (one of them is there: checked before).
result<std::string> api_name(const api_cli_options& o) {
  if (!o.name.empty()) return o.name;
  auto cfg = provision::load_api_config(o.config);
  if (!cfg) return cfg.error();
  return cfg->name;
}

// needs_name: the usage error of show and delete without --name or --config.
std::optional<int> needs_name(std::string_view what, const api_cli_options& o) {
  if (!o.name.empty() || !o.config.empty()) return std::nullopt;
  return usage_error(what, "--name NAME is required (or --config api.json, to take the name from it)");
}

void print_show_text(const store::gateway& gw, const std::vector<store::gateway_route>& routes,
                     const std::optional<live_state>& live) {
  fmt::print(
      "name:        {}\napi id:      {}\nendpoint:    {}\nregion:      {}\nstage:       {}\n"
      "target base: {}\ndeployment:  {}\ndomain:      {}\n",
      gw.name, gw.api_id, gw.endpoint, gw.region, gw.stage, gw.target_base,
      gw.deployment_id.empty() ? "(not deployed)" : gw.deployment_id,
      gw.domain.empty() ? "(none)" : gw.domain + (gw.custom_domain_created ? "" : " (not mapped yet)"));
  fmt::print("routes:\n");
  for (const auto& r : routes) {
    fmt::print("  {:<20} {}{}\n", r.route_key, r.integration_url, r.deployed ? "" : "  (not deployed)");
  }
  if (!live) return;
  fmt::print("live routes:\n");
  for (const auto& [key, uri] : live->routes) {
    fmt::print("  {:<20} {}\n", key, uri.empty() ? "(no integration)" : uri);
  }
  if (live->deployment_id) fmt::print("live stage {}: deployment {}\n", gw.stage, *live->deployment_id);
}

void print_show_json(const store::gateway& gw, const std::vector<store::gateway_route>& routes,
                     const std::optional<live_state>& live) {
  json::array rs;
  for (const auto& r : routes) {
    rs.push_back(
        json::object{{"route_key", r.route_key}, {"integration_url", r.integration_url}, {"deployed", r.deployed}});
  }
  json::object out{{"name", gw.name},
                   {"api_id", gw.api_id},
                   {"endpoint", gw.endpoint},
                   {"region", gw.region},
                   {"stage", gw.stage},
                   {"target_base", gw.target_base},
                   {"deployment_id", gw.deployment_id.empty() ? json::value(nullptr) : json::value(gw.deployment_id)},
                   {"domain", gw.domain.empty() ? json::value(nullptr) : json::value(gw.domain)},
                   {"domain_mapped", gw.custom_domain_created},
                   {"routes", std::move(rs)}};
  if (live) {
    json::array lr;
    for (const auto& [key, uri] : live->routes) {
      lr.push_back(
          json::object{{"route_key", key}, {"integration_uri", uri.empty() ? json::value(nullptr) : json::value(uri)}});
    }
    out["live"] =
        json::object{{"routes", std::move(lr)},
                     {"deployment_id", live->deployment_id ? json::value(*live->deployment_id) : json::value(nullptr)}};
  }
  fmt::print("{}\n", json::serialize(out));
}

int show(const globals& g, const api_cli_options& o) {
  if (auto usage = needs_name("api show", o)) return *usage;
  auto name = api_name(o);
  if (!name) return fail("api show", name.error());
  auto st = open_migrated_store(g);
  if (!st) return fail("api show", st.error());
  auto gw = (*st)->find_gateway_by_name(*name);
  if (!gw) return fail("api show", gw.error());
  auto routes = (*st)->list_gateway_routes(gw->id);
  if (!routes) return fail("api show", routes.error());
  std::optional<live_state> live;
  if (o.live) {
    auto setup = resolve_control_plane(o.cp);
    if (!setup) return fail("api show", setup.error());
    asio::io_context io;
    net::http_client_pool pool(io.get_executor());
    auto client = mgmt::control_plane_client::create(pool, setup->endpoint_url, setup->options);
    if (!client) return fail("api show", client.error());
    auto r = run_io(io, read_live(*client, gw->api_id, gw->stage));
    if (!r) return fail("api show", r.error());
    live = std::move(*r);
  }
  if (o.format == "json") {
    print_show_json(*gw, *routes, live);
  } else {
    print_show_text(*gw, *routes, live);
  }
  return k_exit_ok;
}

int delete_api(const globals& g, const api_cli_options& o) {
  if (auto usage = needs_name("api delete", o)) return *usage;
  auto name = api_name(o);
  if (!name) return fail("api delete", name.error());
  if (auto refused = confirm("api delete",
                             fmt::format("delete the API {} (DeleteApi: every route, integration and stage, and "
                                         "every open connection) and its record in {}?",
                                         *name, g.db),
                             o.yes)) {
    return *refused;
  }
  auto setup = resolve_control_plane(o.cp);
  if (!setup) return fail("api delete", setup.error());
  auto st = open_migrated_store(g);
  if (!st) return fail("api delete", st.error());
  auto gw = (*st)->find_gateway_by_name(*name);
  if (!gw) return fail("api delete", gw.error());
  if (!gw->api_id.empty()) {
    asio::io_context io;
    net::http_client_pool pool(io.get_executor());
    auto client = mgmt::control_plane_client::create(pool, setup->endpoint_url, setup->options);
    if (!client) return fail("api delete", client.error());
    auto r = run_io(io, client->delete_api(gw->api_id));
    if (!r && r.error() != condition::not_found) return fail("api delete", r.error());
    if (!g.quiet) fmt::print("deleted API {} ({}){}\n", gw->api_id, *name, r ? "" : ": it was already gone");
  }
  if (auto d = (*st)->delete_gateway(gw->id); !d) return fail("api delete", d.error());
  return k_exit_ok;
}

}  // namespace

void register_api(CLI::App& app, const globals& g, command_runner& run) {
  auto o = std::make_shared<api_cli_options>();
  auto* api =
      app.add_subcommand("api", "Create, update and delete the WebSocket API on API Gateway (or the local gateway)");
  api->require_subcommand(1);

  auto* apply_cmd = api->add_subcommand(
      "apply",
      "Make the API match --config: create what is missing, update what differs (stage settings included), "
      "delete removed routes, deploy once, then delete stages the file no longer names (unless in keep_stages)");
  apply_cmd->add_option("--config", o->config, "api.json (see docs/design/infra.md)")->required();
  apply_cmd->add_flag("--dry-run", o->dry_run, "Print the plan; change nothing");
  add_control_plane_options(apply_cmd, o->cp);
  add_format_option(apply_cmd, o->format);
  add_example(apply_cmd, "apigw-ws api apply --config api.json --endpoint http://127.0.0.1:4510 --dry-run");
  apply_cmd->callback([&g, &run, o] { run = [&g, o] { return apply(g, *o); }; });

  auto* show_cmd = api->add_subcommand("show", "Print the recorded API, its routes and what is deployed");
  show_cmd->add_option("--name", o->name, "The API's name (required, or --config)");
  show_cmd->add_option("--config", o->config, "Take the name from this api.json");
  show_cmd->add_flag("--live", o->live, "Also read the routes and stage from the control plane");
  add_control_plane_options(show_cmd, o->cp);
  add_format_option(show_cmd, o->format);
  add_example(show_cmd, "apigw-ws api show --name chat --live --region eu-west-1 --format json");
  show_cmd->callback([&g, &run, o] { run = [&g, o] { return show(g, *o); }; });

  auto* delete_cmd =
      api->add_subcommand("delete", "Delete the API (DeleteApi) and its record (asks first unless --yes)");
  delete_cmd->add_option("--name", o->name, "The API's name");
  delete_cmd->add_option("--config", o->config, "Take the name from this api.json");
  add_control_plane_options(delete_cmd, o->cp);
  add_yes_flag(delete_cmd, o->yes);
  add_example(delete_cmd, "apigw-ws api delete --name chat --region eu-west-1 --yes");
  delete_cmd->callback([&g, &run, o] { run = [&g, o] { return delete_api(g, *o); }; });
}

}  // namespace apigw::cli

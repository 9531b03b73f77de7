// apigw-ws api apply|show|delete: the WebSocket API on API Gateway (or the local gateway), made to
// match api.json.
//
// apply converges: it reads what exists (the API by the recorded id, else by name; its
// integrations, routes and stage), creates what is missing, updates what differs (an integration
// whose URL, method, timeout or request parameters changed; a route pointing elsewhere; the API's
// description, route selection expression and tags, removed tags included; the stage's
// description, variables (a removed one sent with an empty value, which removes it), throttling
// and tags), deletes routes no longer configured (and integrations no route uses, including ones
// a failed run left behind), then deploys once if anything the deployment holds changed or the
// last deployment never happened. Nothing unchanged is written: a second apply makes only GETs.
//
// The store is updated as the work goes (the API id as soon as the API exists, each route as soon
// as AWS has it, `deployed` only after the deployment), so a run that fails part-way leaves a
// record of what really exists and the next apply continues from there.
#include "apigw/core/json.hpp"
#include "apigw/mgmt/control_plane.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "cli_common.hpp"
#include "infra.hpp"

#include <fmt/format.h>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <set>

namespace apigw::cli {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using object = json::object;

struct api_cli_options {
  std::string config;
  std::string name;
  bool dry_run = false;
  bool live = false;
  control_plane_cli cp;
};

object string_object(const std::map<std::string, std::string>& m) {
  object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

std::map<std::string, std::string> object_strings(const object& o, std::string_view key) {
  std::map<std::string, std::string> out;
  if (const auto* v = o.if_contains(key); v != nullptr && v->is_object()) {
    for (const auto& [k, x] : v->get_object()) {
      if (x.is_string()) out.emplace(std::string(k), std::string(x.get_string()));
    }
  }
  return out;
}

// desired_route: a route key and the integration it should have.
struct desired_route {
  std::string key;
  std::string name;
  object integration;  // the CreateIntegration body
};

std::vector<desired_route> desired_routes(const infra_config& c) {
  std::map<std::string, std::string> params{{"integration.request.header.connectionId", "context.connectionId"}};
  if (!c.shared_secret.empty()) {
    params.emplace("integration.request.header." + c.shared_secret_header, "'" + c.shared_secret + "'");
  }
  const auto integration = [&](const std::string& url) {
    return object{{"integrationType", "HTTP_PROXY"},
                  {"integrationMethod", "POST"},
                  {"integrationUri", url},
                  {"connectionType", "INTERNET"},
                  {"payloadFormatVersion", "1.0"},
                  {"timeoutInMillis", c.timeout_ms},
                  {"requestParameters", string_object(params)}};
  };
  std::vector<desired_route> out;
  for (std::string_view k : {"connect", "disconnect", "default"}) {
    out.push_back({"$" + std::string(k), std::string(k), integration(c.target_base + std::string(k))});
  }
  for (const auto& r : c.routes) out.push_back({r.route_key, r.name, integration(r.url)});
  return out;
}

// map_update_body: the map to send in an Update* call so that, whether the control plane merges
// the map it is given or replaces its map with it, the result is `want`: every wanted entry, plus
// each key `have` holds that `want` does not, with an empty value. AWS merges UpdateStage
// stageVariables and UpdateIntegration requestParameters and removes a key given an empty value
// (docs/design/infra.md, "Maps on update"). Empty when nothing differs (empty values in `have`
// count as absent).
object map_update_body(const std::map<std::string, std::string>& want, std::map<std::string, std::string> have) {
  std::erase_if(have, [](const auto& kv) { return kv.second.empty(); });
  if (have == want) return {};
  object body = string_object(want);
  for (const auto& [k, v] : have) {
    if (!want.contains(k)) body[k] = "";
  }
  return body;
}

// integration_changes: the members of `want` that `have` lacks or holds differently (connectionType and
// payloadFormatVersion are AWS's defaults, so a control plane that omits them is not "different").
// requestParameters goes as map_update_body says: a mapping dropped from the file is removed.
object integration_changes(const object& want, const object& have) {
  object changes;
  for (const auto& [k, v] : want) {
    if (k == "connectionType" || k == "payloadFormatVersion") continue;  // defaults AWS fills in the same way
    if (k == "requestParameters") {
      auto params = map_update_body(object_strings(want, k), object_strings(have, k));
      if (!params.empty()) changes[k] = std::move(params);
      continue;
    }
    const auto* h = have.if_contains(k);
    if (h == nullptr || *h != v) changes[k] = v;
  }
  return changes;
}

bool same_number(const json::value* v, double want) {
  return v != nullptr && v->is_number() && v->to_number<double>() == want;
}

// applier: one apply run. Mutating calls go through `mutate`, which prints the step and, in a dry
// run, skips the call.
class applier {
 public:
  applier(mgmt::control_plane_client& client, store::session_store* st, const control_plane_setup& setup,
          const infra_config& cfg, bool dry_run, bool quiet)
      : client_(client), store_(st), setup_(setup), cfg_(cfg), dry_run_(dry_run), quiet_(quiet) {}

  asio::awaitable<result<void>> run() {
    auto api = co_await find_or_create_api();
    if (!api) co_return api.error();
    if (auto r = co_await converge_api(*api); !r) co_return r.error();
    if (auto r = co_await converge_routes(); !r) co_return r.error();
    if (auto r = co_await converge_stage(); !r) co_return r.error();
    if (auto r = co_await deploy_if_needed(); !r) co_return r.error();
    if (!quiet_) {
      if (changes_ == 0) {
        fmt::print("{} is up to date (API {}, stage {})\n", cfg_.name, api_id_, cfg_.stage);
      } else {
        fmt::print("{} {} change(s) to {} (API {}, stage {}); endpoint {}\n", dry_run_ ? "would make" : "made",
                   changes_, cfg_.name, api_id_.empty() ? "(new)" : api_id_, cfg_.stage,
                   api_id_.empty() ? "(after apply)" : management_endpoint(setup_, api_id_, cfg_.stage));
      }
    }
    co_return ok();
  }

 private:
  // mutate: one change. Prints "+ what" (create), "~ what" (update) or "- what" (delete); in a dry
  // run returns `placeholder` without calling.
  asio::awaitable<result<object>> mutate(std::string what, asio::awaitable<result<object>> call,
                                         object placeholder = {}) {
    ++changes_;
    if (!quiet_ || dry_run_) fmt::print("{}{}\n", dry_run_ ? "plan: " : "", what);
    if (dry_run_) co_return placeholder;
    co_return co_await std::move(call);
  }

  // routes_changing: called before each change the deployment holds (an integration or a route).
  // The recorded deployment is cleared first, so a run that stops before deploying leaves a record
  // saying the stage does not serve what AWS now has, and the next apply deploys.
  result<void> routes_changing() {
    deployment_stale_ = true;
    if (dry_run_ || store_ == nullptr || gateway_.id == 0 || gateway_.deployment_id.empty()) return ok();
    gateway_.deployment_id.clear();
    auto saved = store_->upsert_gateway(gateway_);
    if (!saved) return saved.error();
    gateway_ = *saved;
    return ok();
  }

  // record: the gateway row as known now (no store writes in a dry run).
  result<void> record(bool clear_deployment = false) {
    if (dry_run_ || store_ == nullptr) return ok();
    store::gateway g;
    if (auto old = store_->find_gateway_by_name(cfg_.name); old) {
      g = *old;
    } else if (old.error() != condition::not_found) {
      return old.error();
    }
    g.name = cfg_.name;
    if (g.api_id != api_id_) g.deployment_id.clear();
    if (clear_deployment) g.deployment_id.clear();
    g.api_id = api_id_;
    g.endpoint = management_endpoint(setup_, api_id_, cfg_.stage);
    g.region = setup_.region;
    if (g.stage != cfg_.stage) g.deployment_id.clear();
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

  asio::awaitable<result<object>> find_or_create_api() {
    std::string known_id;
    if (store_ != nullptr) {
      if (auto g = store_->find_gateway_by_name(cfg_.name); g) {
        known_id = g->api_id;
        gateway_ = *g;
      }
    }
    if (!known_id.empty()) {
      auto api = co_await client_.get_api(known_id);
      if (api) {
        api_id_ = known_id;
        if (auto r = record(); !r) co_return r.error();
        co_return std::move(*api);
      }
      if (api.error() != condition::not_found) co_return api.error();
      if (!quiet_)
        fmt::print("note: API {} recorded for {} no longer exists; looking it up by name\n", known_id, cfg_.name);
    }
    auto apis = co_await client_.get_apis();
    if (!apis) co_return apis.error();
    std::vector<object> named;
    for (auto& a : *apis) {
      if (member_string(a, "name") == cfg_.name && member_string(a, "protocolType") == "WEBSOCKET")
        named.push_back(std::move(a));
    }
    if (named.size() > 1) {
      co_return failure{core::error::invalid_argument,
                        fmt::format("{} WebSocket APIs are named \"{}\"; record the one to manage by deleting the "
                                    "others or renaming them",
                                    named.size(), cfg_.name)};
    }
    if (named.size() == 1) {
      api_id_ = member_string(named.front(), "apiId");
      if (auto r = record(true); !r) co_return r.error();
      co_return std::move(named.front());
    }
    object body{{"name", cfg_.name},
                {"protocolType", "WEBSOCKET"},
                {"routeSelectionExpression", cfg_.route_selection_expression}};
    if (!cfg_.description.empty()) body["description"] = cfg_.description;
    if (!cfg_.tags.empty()) body["tags"] = string_object(cfg_.tags);
    auto created = co_await mutate(fmt::format("+ api {}", cfg_.name), client_.create_api(body), body);
    if (!created) co_return created.error();
    api_new_ = true;
    if (dry_run_) co_return std::move(*created);
    api_id_ = member_string(*created, "apiId");
    if (auto r = record(true); !r) co_return r.error();
    co_return std::move(*created);
  }

  asio::awaitable<result<void>> converge_api(const object& api) {
    if (api_new_) co_return ok();
    object changes;
    if (member_string(api, "routeSelectionExpression") != cfg_.route_selection_expression) {
      changes["routeSelectionExpression"] = cfg_.route_selection_expression;
    }
    if (member_string(api, "description") != cfg_.description) changes["description"] = cfg_.description;
    if (member_string(api, "name") != cfg_.name) changes["name"] = cfg_.name;
    if (!changes.empty()) {
      auto r = co_await mutate(fmt::format("~ api {}: {}", cfg_.name, json::serialize(changes)),
                               client_.update_api(api_id_, changes));
      if (!r) co_return r.error();
    }
    co_return co_await converge_tags(fmt::format("api {}", cfg_.name),
                                     fmt::format("arn:aws:apigateway:{}::/apis/{}", setup_.region, api_id_),
                                     object_strings(api, "tags"));
  }

  // converge_tags: the tags of one resource (the API, the stage) made those of the file, which is
  // the whole set: keys no longer in it are removed (UntagResource; AWS's own "aws:" tags cannot
  // be and are left alone), missing or different ones set (TagResource).
  asio::awaitable<result<void>> converge_tags(std::string what, std::string arn,
                                              std::map<std::string, std::string> have) {
    std::map<std::string, std::string> missing;
    for (const auto& [k, v] : cfg_.tags) {
      if (auto it = have.find(k); it == have.end() || it->second != v) missing.emplace(k, v);
    }
    std::vector<std::string> dropped;
    for (const auto& [k, v] : have) {
      if (!cfg_.tags.contains(k) && !k.starts_with("aws:")) dropped.push_back(k);
    }
    if (!dropped.empty()) {
      json::array keys;
      for (const auto& k : dropped) keys.push_back(json::value(k));
      auto r = co_await mutate(fmt::format("- {} tags: {}", what, json::serialize(keys)),
                               client_.untag_resource(arn, dropped));
      if (!r) co_return r.error();
    }
    if (!missing.empty()) {
      auto r = co_await mutate(fmt::format("~ {} tags: {}", what, json::serialize(string_object(missing))),
                               client_.tag_resource(arn, string_object(missing)));
      if (!r) co_return r.error();
    }
    co_return ok();
  }

  asio::awaitable<result<void>> converge_routes() {
    std::map<std::string, object> integrations;  // by id
    std::map<std::string, object> routes;        // by route key
    if (!api_new_) {
      auto ints = co_await client_.get_integrations(api_id_);
      if (!ints) co_return ints.error();
      for (auto& i : *ints) integrations.emplace(member_string(i, "integrationId"), std::move(i));
      auto rs = co_await client_.get_routes(api_id_);
      if (!rs) co_return rs.error();
      for (auto& r : *rs) routes.emplace(member_string(r, "routeKey"), std::move(r));
    }
    std::map<std::string, store::gateway_route> recorded;
    if (store_ != nullptr && gateway_.id != 0) {
      auto rows = store_->list_gateway_routes(gateway_.id);
      if (!rows) co_return rows.error();
      for (auto& r : *rows) recorded.emplace(r.route_key, std::move(r));
    }
    const auto desired = desired_routes(cfg_);
    std::set<std::string> wanted_keys;
    std::set<std::string> used_integrations;
    for (const auto& [key, r] : routes) {
      const std::string t = member_string(r, "target");
      if (t.starts_with("integrations/")) used_integrations.insert(t.substr(13));
    }
    for (const auto& d : desired) {
      wanted_keys.insert(d.key);
      const std::string url = member_string(d.integration, "integrationUri");
      bool changed = false;
      std::string integration_id;
      auto route = routes.find(d.key);
      if (route != routes.end()) {
        const std::string t = member_string(route->second, "target");
        if (t.starts_with("integrations/") && integrations.contains(t.substr(13))) integration_id = t.substr(13);
      }
      if (!integration_id.empty()) {
        const auto changes = integration_changes(d.integration, integrations.at(integration_id));
        if (!changes.empty()) {
          if (auto m = routes_changing(); !m) co_return m.error();
          auto r =
              co_await mutate(fmt::format("~ integration {} ({}): {}", integration_id, d.key, json::serialize(changes)),
                              client_.update_integration(api_id_, integration_id, changes));
          if (!r) co_return r.error();
          changed = true;
        }
      } else {
        // An integration no route uses, left by a run that failed before its route was made, is
        // reused when it already calls the right URL.
        for (const auto& [id, i] : integrations) {
          if (!used_integrations.contains(id) && integration_changes(d.integration, i).empty()) {
            integration_id = id;
            break;
          }
        }
        if (integration_id.empty()) {
          if (auto m = routes_changing(); !m) co_return m.error();
          // (Braced temporaries stay out of co_await expressions: GCC 12 cannot put their arrays in
          // the coroutine frame.)
          object placeholder;
          placeholder["integrationId"] = "(new)";
          auto r = co_await mutate(fmt::format("+ integration {} -> {}", d.key, url),
                                   client_.create_integration(api_id_, d.integration), std::move(placeholder));
          if (!r) co_return r.error();
          integration_id = member_string(*r, "integrationId");
          integrations.emplace(integration_id, *r);
        }
        used_integrations.insert(integration_id);
        changed = true;
      }
      const std::string target = "integrations/" + integration_id;
      if (route == routes.end()) {
        if (auto m = routes_changing(); !m) co_return m.error();
        object body{{"routeKey", d.key}, {"target", target}, {"authorizationType", "NONE"}, {"apiKeyRequired", false}};
        auto r = co_await mutate(fmt::format("+ route {}", d.key), client_.create_route(api_id_, body));
        if (!r) co_return r.error();
        changed = true;
      } else if (member_string(route->second, "target") != target) {
        if (auto m = routes_changing(); !m) co_return m.error();
        object body;
        body["target"] = target;
        auto r =
            co_await mutate(fmt::format("~ route {} -> {}", d.key, target),
                            client_.update_route(api_id_, member_string(route->second, "routeId"), std::move(body)));
        if (!r) co_return r.error();
        changed = true;
      }
      auto rec = recorded.find(d.key);
      const bool record_differs =
          rec == recorded.end() || rec->second.integration_url != url || rec->second.name != d.name;
      if (changed || record_differs) {
        deployment_stale_ = true;
        if (!dry_run_ && store_ != nullptr) {
          auto saved = store_->upsert_gateway_route(store::gateway_route{
              .gateway = gateway_.id, .name = d.name, .route_key = d.key, .integration_url = url, .deployed = false});
          if (!saved) co_return saved.error();
        }
      } else if (!rec->second.deployed) {
        deployment_stale_ = true;
      }
    }
    for (const auto& [key, r] : routes) {
      if (wanted_keys.contains(key)) continue;
      if (auto m = routes_changing(); !m) co_return m.error();
      auto del =
          co_await mutate(fmt::format("- route {}", key), client_.delete_route(api_id_, member_string(r, "routeId")));
      if (!del) co_return del.error();
      deployment_stale_ = true;
      const std::string t = member_string(r, "target");
      if (t.starts_with("integrations/")) used_integrations.erase(t.substr(13));
      if (!dry_run_ && store_ != nullptr) {
        if (auto d = store_->delete_gateway_route(gateway_.id, key); !d) co_return d.error();
      }
    }
    for (const auto& [key, rec] : recorded) {
      if (!wanted_keys.contains(key) && !routes.contains(key) && !dry_run_ && store_ != nullptr) {
        if (auto d = store_->delete_gateway_route(gateway_.id, key); !d) co_return d.error();
      }
    }
    for (const auto& [id, i] : integrations) {
      if (used_integrations.contains(id) || id == "(new)") continue;
      auto del = co_await mutate(fmt::format("- integration {} ({})", id, member_string(i, "integrationUri")),
                                 client_.delete_integration(api_id_, id));
      if (!del) co_return del.error();
    }
    co_return ok();
  }

  object wanted_route_settings(const object* have) const {
    object s = have != nullptr
                   ? *have
                   : object{{"dataTraceEnabled", false}, {"detailedMetricsEnabled", false}, {"loggingLevel", "OFF"}};
    if (cfg_.throttling_burst_limit) s["throttlingBurstLimit"] = *cfg_.throttling_burst_limit;
    if (cfg_.throttling_rate_limit) s["throttlingRateLimit"] = *cfg_.throttling_rate_limit;
    return s;
  }

  asio::awaitable<result<void>> converge_stage() {
    std::optional<object> stage;
    if (!api_new_) {
      auto stages = co_await client_.get_stages(api_id_);
      if (!stages) co_return stages.error();
      for (auto& s : *stages) {
        if (member_string(s, "stageName") == cfg_.stage) stage = std::move(s);
      }
    }
    if (!stage) {
      object body{{"stageName", cfg_.stage},
                  {"stageVariables", string_object(cfg_.stage_variables)},
                  {"defaultRouteSettings", wanted_route_settings(nullptr)}};
      if (!cfg_.stage_description.empty()) body["description"] = cfg_.stage_description;
      if (!cfg_.tags.empty()) body["tags"] = string_object(cfg_.tags);
      auto r = co_await mutate(fmt::format("+ stage {}", cfg_.stage), client_.create_stage(api_id_, body));
      if (!r) co_return r.error();
      if (auto m = routes_changing(); !m) co_return m.error();
      co_return ok();
    }
    stage_deployment_ = member_string(*stage, "deploymentId");
    object changes;
    if (auto vars = map_update_body(cfg_.stage_variables, object_strings(*stage, "stageVariables")); !vars.empty()) {
      changes["stageVariables"] = std::move(vars);
    }
    if (member_string(*stage, "description") != cfg_.stage_description) changes["description"] = cfg_.stage_description;
    const auto* drs_value = stage->if_contains("defaultRouteSettings");
    const object* drs = drs_value != nullptr && drs_value->is_object() ? &drs_value->get_object() : nullptr;
    const bool burst_ok = !cfg_.throttling_burst_limit ||
                          (drs != nullptr && same_number(drs->if_contains("throttlingBurstLimit"),
                                                         static_cast<double>(*cfg_.throttling_burst_limit)));
    const bool rate_ok =
        !cfg_.throttling_rate_limit ||
        (drs != nullptr && same_number(drs->if_contains("throttlingRateLimit"), *cfg_.throttling_rate_limit));
    if (!burst_ok || !rate_ok) changes["defaultRouteSettings"] = wanted_route_settings(drs);
    if (!changes.empty()) {
      auto r = co_await mutate(fmt::format("~ stage {}: {}", cfg_.stage, json::serialize(changes)),
                               client_.update_stage(api_id_, cfg_.stage, changes));
      if (!r) co_return r.error();
    }
    // The stage carries the file's tags too (given at CreateStage), kept in step like the API's.
    co_return co_await converge_tags(
        fmt::format("stage {}", cfg_.stage),
        fmt::format("arn:aws:apigateway:{}::/apis/{}/stages/{}", setup_.region, api_id_, cfg_.stage),
        object_strings(*stage, "tags"));
  }

  asio::awaitable<result<void>> deploy_if_needed() {
    const bool never_deployed = stage_deployment_.empty() || gateway_.deployment_id != stage_deployment_;
    if (!deployment_stale_ && !never_deployed) co_return ok();
    object body{{"stageName", cfg_.stage}};
    if (!cfg_.stage_description.empty()) body["description"] = cfg_.stage_description;
    auto r =
        co_await mutate(fmt::format("+ deployment of stage {}", cfg_.stage), client_.create_deployment(api_id_, body));
    if (!r) co_return r.error();
    if (dry_run_) co_return ok();
    const std::string id = member_string(*r, "deploymentId");
    if (store_ != nullptr) {
      if (auto rec = record(); !rec) co_return rec.error();
      gateway_.deployment_id = id;
      auto saved = store_->upsert_gateway(gateway_);
      if (!saved) co_return saved.error();
      if (auto m = store_->mark_gateway_routes_deployed(gateway_.id); !m) co_return m.error();
    }
    if (!quiet_) fmt::print("deployed {} to stage {} (deployment {})\n", cfg_.name, cfg_.stage, id);
    co_return ok();
  }

  mgmt::control_plane_client& client_;
  store::session_store* store_;
  const control_plane_setup& setup_;
  const infra_config& cfg_;
  bool dry_run_;
  bool quiet_;
  std::string api_id_;
  bool api_new_ = false;
  store::gateway gateway_;
  std::string stage_deployment_;
  bool deployment_stale_ = false;
  int changes_ = 0;
};

// database_exists: false for a SQLite file that is not there yet (opening it would create it).
bool database_exists(std::string_view db) {
  if (db.starts_with("postgres")) return true;
  if (db.starts_with("sqlite://")) {
    db.remove_prefix(8);
  } else if (db.starts_with("sqlite:")) {
    db.remove_prefix(7);
  }
  return std::filesystem::exists(std::filesystem::path(db));
}

int apply(const globals& g, const api_cli_options& o) {
  auto cfg = load_infra_config(o.config);
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
  applier a(*client, st.get(), *setup, *cfg, o.dry_run, g.quiet);
  auto r = run_io(io, a.run());
  if (!r) return fail("api apply", r.error());
  return k_exit_ok;
}

asio::awaitable<result<void>> print_live(mgmt::control_plane_client& client, std::string api_id, std::string stage) {
  auto routes = co_await client.get_routes(api_id);
  if (!routes) co_return routes.error();
  auto ints = co_await client.get_integrations(api_id);
  if (!ints) co_return ints.error();
  std::map<std::string, std::string> uri;
  for (const auto& i : *ints) uri.emplace(member_string(i, "integrationId"), member_string(i, "integrationUri"));
  fmt::print("live routes:\n");
  for (const auto& r : *routes) {
    const std::string t = member_string(r, "target");
    const auto it = t.starts_with("integrations/") ? uri.find(t.substr(13)) : uri.end();
    fmt::print("  {:<20} {}\n", member_string(r, "routeKey"), it == uri.end() ? "(no integration)" : it->second);
  }
  auto stages = co_await client.get_stages(api_id);
  if (!stages) co_return stages.error();
  for (const auto& s : *stages) {
    if (member_string(s, "stageName") == stage)
      fmt::print("live stage {}: deployment {}\n", stage, member_string(s, "deploymentId"));
  }
  co_return ok();
}

// api_name: --name, else the name in --config.
result<std::string> api_name(const api_cli_options& o) {
  if (!o.name.empty()) return o.name;
  if (o.config.empty()) return failure{core::error::invalid_argument, "pass --name or --config"};
  auto cfg = load_infra_config(o.config);
  if (!cfg) return cfg.error();
  return cfg->name;
}

int show(const globals& g, const api_cli_options& o) {
  auto name = api_name(o);
  if (!name) return fail("api show", name.error());
  auto st = open_migrated_store(g);
  if (!st) return fail("api show", st.error());
  auto gw = (*st)->find_gateway_by_name(*name);
  if (!gw) return fail("api show", gw.error());
  auto routes = (*st)->list_gateway_routes(gw->id);
  if (!routes) return fail("api show", routes.error());
  fmt::print(
      "name:        {}\napi id:      {}\nendpoint:    {}\nregion:      {}\nstage:       {}\n"
      "target base: {}\ndeployment:  {}\ndomain:      {}\n",
      gw->name, gw->api_id, gw->endpoint, gw->region, gw->stage, gw->target_base,
      gw->deployment_id.empty() ? "(not deployed)" : gw->deployment_id,
      gw->domain.empty() ? "(none)" : gw->domain + (gw->custom_domain_created ? "" : " (not mapped yet)"));
  fmt::print("routes:\n");
  for (const auto& r : *routes) {
    fmt::print("  {:<20} {}{}\n", r.route_key, r.integration_url, r.deployed ? "" : "  (not deployed)");
  }
  if (!o.live) return k_exit_ok;
  auto setup = resolve_control_plane(o.cp);
  if (!setup) return fail("api show", setup.error());
  asio::io_context io;
  net::http_client_pool pool(io.get_executor());
  auto client = mgmt::control_plane_client::create(pool, setup->endpoint_url, setup->options);
  if (!client) return fail("api show", client.error());
  auto r = run_io(io, print_live(*client, gw->api_id, gw->stage));
  if (!r) return fail("api show", r.error());
  return k_exit_ok;
}

int delete_api(const globals& g, const api_cli_options& o) {
  auto name = api_name(o);
  if (!name) return fail("api delete", name.error());
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
      "Make the API match --config: create what is missing, update what differs, delete removed routes, "
      "deploy once");
  apply_cmd->add_option("--config", o->config, "api.json (see docs/design/infra.md)")->required();
  apply_cmd->add_flag("--dry-run", o->dry_run, "Print the plan; change nothing");
  add_control_plane_options(apply_cmd, o->cp);
  apply_cmd->callback([&g, &run, o] { run = [&g, o] { return apply(g, *o); }; });

  auto* show_cmd = api->add_subcommand("show", "Print the recorded API, its routes and what is deployed");
  show_cmd->add_option("--name", o->name, "The API's name");
  show_cmd->add_option("--config", o->config, "Take the name from this api.json");
  show_cmd->add_flag("--live", o->live, "Also read the routes and stage from the control plane");
  add_control_plane_options(show_cmd, o->cp);
  show_cmd->callback([&g, &run, o] { run = [&g, o] { return show(g, *o); }; });

  auto* delete_cmd = api->add_subcommand("delete", "Delete the API (DeleteApi) and its record");
  delete_cmd->add_option("--name", o->name, "The API's name");
  delete_cmd->add_option("--config", o->config, "Take the name from this api.json");
  add_control_plane_options(delete_cmd, o->cp);
  delete_cmd->callback([&g, &run, o] { run = [&g, o] { return delete_api(g, *o); }; });
}

}  // namespace apigw::cli

// Integration tests of provision::apply_api and apply_domain over a real control-plane client and
// real sockets: the local gateway's control plane (gateway::detail::control_plane, the model
// `apigw-ws gateway` serves) behind the shared recording server on 127.0.0.1, port 0; the test
// counts the changing requests and can answer a chosen one with a 500. The record is a small in-memory store behind
// provision's own api_hooks interface, so a failed run and the next one can be followed.
#include "apigw/core/json.hpp"
#include "apigw/gateway/config.hpp"
#include "apigw/mgmt/control_plane.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/provision/apply.hpp"
#include "gateway/control_plane.hpp"
#include "support/io_runner.hpp"
#include "support/recording_server.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>

namespace apigw::provision {
namespace {

namespace json = boost::json;
using object = json::object;

const apigw::clock::time_point k_now{std::chrono::seconds{1'741'168'800}};

// local_control_plane: the local gateway's control plane served on 127.0.0.1.
class local_control_plane {
 public:
  local_control_plane() = default;

  std::string url() const { return server_.url(); }

  // changing: the requests other than GET, as "METHOD /path".
  std::vector<std::string> changing() const {
    std::vector<std::string> out;
    for (const auto& s : server_.requests()) {
      if (s.method != "GET") out.push_back(s.method + " " + s.path);
    }
    return out;
  }
  void forget() { server_.forget(); }

  // served: what the gateway would serve from the model now.
  gateway::gateway_config served() { return cp_.build(); }
  // fail_next: the next request of `method` whose path ends with `suffix` gets a 500.
  void fail_next(std::string method, std::string suffix) {
    std::lock_guard lock(mu_);
    fail_method_ = std::move(method);
    fail_suffix_ = std::move(suffix);
  }
  // call: a request straight to the model (no socket), for setting up and checking.
  object call(std::string_view method, std::string_view target, std::string_view body = "") {
    auto a = cp_.handle(method, target, body, k_now);
    auto o = parse_json_object(a.response.body);
    return o ? *o : object{};
  }

 private:
  net::http_response answer(const testing::seen_request& req) {
    {
      std::lock_guard lock(mu_);
      if (!fail_method_.empty() && req.method == fail_method_ && req.path.ends_with(fail_suffix_)) {
        fail_method_.clear();
        net::http_response r;
        r.status = 500;
        r.headers.push_back({"x-amzn-ErrorType", "InternalServerErrorException"});
        r.headers.push_back({"Content-Type", "application/json"});
        r.body = R"({"message":"injected"})";
        return r;
      }
    }
    const std::string target = req.query.empty() ? req.path : req.path + "?" + req.query;
    return cp_.handle(req.method, target, req.body, k_now).response;
  }

  gateway::detail::control_plane cp_{gateway::default_dev_config(), k_now};
  std::mutex mu_;
  std::string fail_method_;
  std::string fail_suffix_;
  testing::recording_server server_{[this](const testing::seen_request& req, std::size_t) { return answer(req); }};
};

// memory_record: the record kept as the store would keep it, and every event as a line.
class memory_record final : public api_hooks {
 public:
  api_record rec;
  std::vector<std::string> events;
  std::string fail_route;  // record_route of this key fails

  void step(const operation& o) override { events.push_back("step " + o.line); }
  void note(const std::string& text) override { events.push_back(text); }
  result<void> record_api(const std::string& api_id, bool found) override {
    events.push_back(fmt::format("record_api {}{}", api_id, found ? " found" : ""));
    if (found || rec.api_id != api_id || rec.stage != "production") rec.deployment_id.clear();
    rec.api_id = api_id;
    rec.stage = "production";
    return ok();
  }
  result<void> record_undeployed() override {
    rec.deployment_id.clear();
    return ok();
  }
  result<void> record_route(const recorded_route& r) override {
    events.push_back("record_route " + r.route_key);
    if (r.route_key == fail_route) return failure{core::error::io_error, "disk full"};
    std::erase_if(rec.routes, [&](const recorded_route& x) { return x.route_key == r.route_key; });
    rec.routes.push_back(r);
    return ok();
  }
  result<void> forget_route(const std::string& key) override {
    events.push_back("forget_route " + key);
    std::erase_if(rec.routes, [&](const recorded_route& x) { return x.route_key == key; });
    return ok();
  }
  result<void> record_deployed(const std::string& id) override {
    events.push_back("record_deployed");
    rec.deployment_id = id;
    for (auto& r : rec.routes) r.deployed = true;
    return ok();
  }
  std::vector<std::string> steps() const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.starts_with("step ")) out.push_back(e.substr(5));
    }
    return out;
  }
};

api_config base_config() {
  auto c = parse_api_config(
      R"({"name": "chat", "target_base": "http://127.0.0.1:9000/ws/", "tags": {"team": "web"},
          "stage_variables": {"env": "prod"}})");
  if (!c) throw std::runtime_error(c.error().message);
  return *c;
}

class ProvisionApply : public ::testing::Test {
 protected:
  ProvisionApply() : pool_(runner_.executor()) {
    mgmt::control_plane_options o;
    o.throttle_retries = 0;
    o.throttle_pause = std::chrono::milliseconds(1);
    auto c = mgmt::control_plane_client::create(pool_, cp_.url(), o);
    if (!c) throw std::runtime_error(c.error().message);
    client_.emplace(std::move(*c));
  }

  result<api_outcome> apply(const api_config& c, memory_record& r, bool dry_run = false) {
    r.events.clear();
    cp_.forget();
    return runner_.run(apply_api(*client_, c, r.rec, "us-east-1", dry_run, r));
  }
  result<domain_outcome> apply_dom(const domain_config& d, const std::string& api_id, memory_record& r,
                                   bool dry_run = false) {
    r.events.clear();
    cp_.forget();
    return runner_.run(apply_domain(*client_, d, api_id, "production", dry_run, r));
  }

  local_control_plane cp_;
  apigw::testing::io_runner runner_{1};
  net::http_client_pool pool_;
  std::optional<mgmt::control_plane_client> client_;
};

TEST_F(ProvisionApply, MockRoutesConvergeAndAreServedWithoutABackend) {
  auto c = parse_api_config(
      R"({"name": "beat", "target_base": "http://127.0.0.1:9000/ws/",
          "routes": [{"route_key": "heartbeat", "integration": "mock"},
                     {"route_key": "ping", "integration": "mock", "response": "pong $context.connectionId"}]})");
  ASSERT_TRUE(c) << c.error().message;
  memory_record r;
  auto out = apply(*c, r);
  ASSERT_TRUE(out) << out.error().message;
  const auto calls = cp_.changing();
  EXPECT_EQ(std::count_if(calls.begin(), calls.end(),
                          [](const std::string& x) { return x.ends_with("/integrationresponses"); }),
            2);
  EXPECT_EQ(
      std::count_if(calls.begin(), calls.end(), [](const std::string& x) { return x.ends_with("/routeresponses"); }),
      1);
  const auto cfg = cp_.served();
  const gateway::api_config* api = nullptr;
  for (const auto& a : cfg.apis) {
    if (a.id == out->api_id) api = &a;
  }
  ASSERT_NE(api, nullptr);
  const auto* heartbeat = api->find_route("heartbeat");
  const auto* ping = api->find_route("ping");
  ASSERT_NE(heartbeat, nullptr);
  ASSERT_NE(ping, nullptr);
  EXPECT_FALSE(heartbeat->two_way);
  EXPECT_TRUE(ping->two_way);
  ASSERT_NE(api->integration_of(*heartbeat), nullptr);
  EXPECT_TRUE(api->integration_of(*heartbeat)->is_mock());
  ASSERT_EQ(api->integration_of(*ping)->responses.size(), 1u);
  EXPECT_EQ(api->integration_of(*ping)->responses[0].templates.at("$default"), "pong $context.connectionId");
  EXPECT_EQ(r.rec.routes.size(), 5u);

  // The second run only reads.
  auto again = apply(*c, r);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->changes, 0);
  EXPECT_EQ(cp_.changing(), std::vector<std::string>{});

  // A changed response template is one UpdateIntegrationResponse and the deployment.
  c->routes[1].response = "PONG";
  auto changed = apply(*c, r);
  ASSERT_TRUE(changed) << changed.error().message;
  const auto patch = cp_.changing();
  ASSERT_EQ(patch.size(), 2u);
  EXPECT_TRUE(patch[0].starts_with("PATCH /v2/apis/" + out->api_id + "/integrations/")) << patch[0];
  EXPECT_EQ(patch[1], fmt::format("POST /v2/apis/{}/deployments", out->api_id));
  auto settled = apply(*c, r);
  ASSERT_TRUE(settled) << settled.error().message;
  EXPECT_EQ(settled->changes, 0);
}

TEST_F(ProvisionApply, CreatesEverythingThenOnlyReads) {
  memory_record r;
  auto out = apply(base_config(), r);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->changes, 9);
  EXPECT_FALSE(out->api_id.empty());
  EXPECT_FALSE(out->deployment_id.empty());
  const auto calls = cp_.changing();
  EXPECT_EQ(calls.size(), 9u);
  EXPECT_EQ(calls.front(), "POST /v2/apis");
  EXPECT_EQ(calls.back(), fmt::format("POST /v2/apis/{}/deployments", out->api_id));
  // Each route targets the integration made for it (the placeholder replaced by the real id).
  auto routes = cp_.call("GET", fmt::format("/v2/apis/{}/routes", out->api_id));
  auto ints = cp_.call("GET", fmt::format("/v2/apis/{}/integrations", out->api_id));
  std::map<std::string, std::string> uri;
  for (const auto& i : ints["items"].as_array()) {
    uri[member_string(i.as_object(), "integrationId")] = member_string(i.as_object(), "integrationUri");
  }
  ASSERT_EQ(routes["items"].as_array().size(), 3u);
  for (const auto& x : routes["items"].as_array()) {
    const auto key = member_string(x.as_object(), "routeKey");
    const auto target = member_string(x.as_object(), "target");
    ASSERT_TRUE(target.starts_with("integrations/")) << target;
    EXPECT_EQ(uri[target.substr(13)], "http://127.0.0.1:9000/ws/" + key.substr(1));
  }
  // The record followed: the API as soon as it existed, each route, then the deployment.
  EXPECT_EQ(r.events[1], fmt::format("record_api {} found", out->api_id));
  EXPECT_EQ(std::count(r.events.begin(), r.events.end(), "record_route $default"), 1);
  EXPECT_EQ(r.events.back(), fmt::format("deployed chat to stage production (deployment {})", out->deployment_id));
  EXPECT_EQ(r.rec.deployment_id, out->deployment_id);
  ASSERT_EQ(r.rec.routes.size(), 3u);
  EXPECT_TRUE(std::all_of(r.rec.routes.begin(), r.rec.routes.end(), [](const auto& x) { return x.deployed; }));

  auto again = apply(base_config(), r);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->changes, 0);
  EXPECT_EQ(again->api_id, out->api_id);
  EXPECT_TRUE(cp_.changing().empty());
  EXPECT_EQ(r.events, std::vector<std::string>{fmt::format("record_api {}", out->api_id)});
}

TEST_F(ProvisionApply, DryRunMakesOnlyGetsAndRecordsNothing) {
  memory_record r;
  auto out = apply(base_config(), r, true);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->changes, 9);
  EXPECT_TRUE(out->api_id.empty());
  EXPECT_TRUE(cp_.changing().empty());
  EXPECT_EQ(r.steps().size(), 9u);
  EXPECT_EQ(r.steps().front(), "+ api chat");
  EXPECT_EQ(r.events.size(), 9u);  // steps only: no record_* call
  EXPECT_TRUE(r.rec.api_id.empty());
}

TEST_F(ProvisionApply, AChangedFileAppliesExactlyTheDifference) {
  memory_record r;
  ASSERT_TRUE(apply(base_config(), r));
  auto c = base_config();
  c.target_base = "http://127.0.0.1:9001/ws/";
  c.stage_variables.clear();
  c.tags.clear();
  auto out = apply(c, r);
  ASSERT_TRUE(out) << out.error().message;
  const auto id = out->api_id;
  const auto calls = cp_.changing();
  ASSERT_EQ(calls.size(), 7u) << fmt::format("{}", fmt::join(calls, "\n"));
  EXPECT_TRUE(calls[0].starts_with("DELETE /v2/tags/")) << calls[0];
  EXPECT_TRUE(calls[1].starts_with(fmt::format("PATCH /v2/apis/{}/integrations/", id)));
  EXPECT_EQ(calls[4], fmt::format("PATCH /v2/apis/{}/stages/production", id));
  EXPECT_TRUE(calls[5].starts_with("DELETE /v2/tags/")) << calls[5];
  EXPECT_EQ(calls[6], fmt::format("POST /v2/apis/{}/deployments", id));
  auto stages = cp_.call("GET", fmt::format("/v2/apis/{}/stages", id));
  ASSERT_EQ(stages["items"].as_array().size(), 1u) << json::serialize(stages);
  const auto& stage = stages["items"].as_array()[0].as_object();
  EXPECT_FALSE(stage.at("stageVariables").as_object().contains("env")) << json::serialize(stage);
  EXPECT_TRUE(apply(c, r)->changes == 0);
}

TEST_F(ProvisionApply, AFailedRunLeavesARecordTheNextOneContinuesFrom) {
  memory_record r;
  ASSERT_TRUE(apply(base_config(), r));
  auto c = base_config();
  c.routes.push_back(route_config{"chat", "http://127.0.0.1:9000/chat", "chat"});
  cp_.fail_next("POST", "/routes");
  auto failed = apply(c, r);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("CreateRoute: HTTP 500 InternalServerErrorException"), std::string::npos)
      << failed.error().message;
  EXPECT_TRUE(r.rec.deployment_id.empty());  // the record no longer claims the stage serves it all
  EXPECT_EQ(std::count(r.events.begin(), r.events.end(), "record_route chat"), 0);

  auto out = apply(c, r);
  ASSERT_TRUE(out) << out.error().message;
  // The integration the failed run made is reused: only the route and the deployment are made.
  const auto calls = cp_.changing();
  ASSERT_EQ(calls.size(), 2u) << fmt::format("{}", fmt::join(calls, "\n"));
  EXPECT_EQ(calls[0], fmt::format("POST /v2/apis/{}/routes", out->api_id));
  EXPECT_EQ(calls[1], fmt::format("POST /v2/apis/{}/deployments", out->api_id));
  EXPECT_FALSE(r.rec.deployment_id.empty());
  EXPECT_EQ(apply(c, r)->changes, 0);
}

TEST_F(ProvisionApply, ARecordingFailureStopsTheRun) {
  memory_record r;
  r.fail_route = "$disconnect";
  auto out = apply(base_config(), r);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message, "disk full");
  // Nothing after the failed record: no further route, no stage, no deployment.
  const auto calls = cp_.changing();
  EXPECT_EQ(calls.size(), 5u) << fmt::format("{}", fmt::join(calls, "\n"));
}

TEST_F(ProvisionApply, AnApiRecordedButGoneIsLookedUpByName) {
  memory_record r;
  auto first = apply(base_config(), r);
  ASSERT_TRUE(first);
  r.rec.api_id = "gone000001";
  auto out = apply(base_config(), r);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->api_id, first->api_id);
  ASSERT_GE(r.events.size(), 2u);
  EXPECT_EQ(r.events[0], "note: API gone000001 recorded for chat no longer exists; looking it up by name");
  EXPECT_EQ(r.events[1], fmt::format("record_api {} found", first->api_id));
  // The recorded deployment was for another API id: deployed again so the record is true.
  EXPECT_EQ(cp_.changing(), std::vector<std::string>{fmt::format("POST /v2/apis/{}/deployments", out->api_id)});
}

TEST_F(ProvisionApply, TwoApisWithTheNameAreRefused) {
  cp_.call("POST", "/v2/apis",
           R"({"name":"chat","protocolType":"WEBSOCKET","routeSelectionExpression":"$request.body.action"})");
  cp_.call("POST", "/v2/apis",
           R"({"name":"chat","protocolType":"WEBSOCKET","routeSelectionExpression":"$request.body.action"})");
  memory_record r;
  auto out = apply(base_config(), r);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, core::error::invalid_argument);
  EXPECT_TRUE(cp_.changing().empty());
}

TEST_F(ProvisionApply, DomainCreatedMappedThenUpdated) {
  memory_record r;
  auto api = apply(base_config(), r);
  ASSERT_TRUE(api);
  domain_config d{"ws.example.com", "arn:aws:acm:us-east-1:1:certificate/abc", "", "", "", ""};
  // A dry run plans the mapping too, though the domain does not exist yet.
  auto dry = apply_dom(d, api->api_id, r, true);
  ASSERT_TRUE(dry) << dry.error().message;
  EXPECT_EQ(dry->changes, 2);
  EXPECT_EQ(r.steps(), (std::vector<std::string>{
                           "+ domain name ws.example.com (certificate arn:aws:acm:us-east-1:1:certificate/abc)",
                           fmt::format("+ API mapping ws.example.com/ -> API {} stage production", api->api_id)}));
  EXPECT_TRUE(cp_.changing().empty());
  auto out = apply_dom(d, api->api_id, r);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->changes, 2);
  EXPECT_TRUE(out->target.starts_with("d-")) << out->target;
  EXPECT_EQ(cp_.changing(),
            (std::vector<std::string>{"POST /v2/domainnames", "POST /v2/domainnames/ws.example.com/apimappings"}));
  const auto target = out->target;

  auto again = apply_dom(d, api->api_id, r);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->changes, 0);
  EXPECT_EQ(again->target, target);
  EXPECT_TRUE(cp_.changing().empty());

  d.certificate_arn = "arn:aws:acm:us-east-1:1:certificate/def";
  auto plan = apply_dom(d, api->api_id, r, true);
  ASSERT_TRUE(plan);
  EXPECT_EQ(r.steps(), std::vector<std::string>{"~ domain name ws.example.com: certificate "
                                                "arn:aws:acm:us-east-1:1:certificate/abc -> "
                                                "arn:aws:acm:us-east-1:1:certificate/def"});
  EXPECT_TRUE(cp_.changing().empty());
  auto updated = apply_dom(d, api->api_id, r);
  ASSERT_TRUE(updated);
  EXPECT_EQ(cp_.changing(), std::vector<std::string>{"PATCH /v2/domainnames/ws.example.com"});
  EXPECT_EQ(updated->target, target);
  EXPECT_EQ(domain_certificate(cp_.call("GET", "/v2/domainnames/ws.example.com")), d.certificate_arn);
}

}  // namespace
}  // namespace apigw::provision

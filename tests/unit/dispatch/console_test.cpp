// console_test.cpp: the operator console's API (apigw/server/console.hpp) over the backend fixture:
// who may use it (401 anonymous, 403 without the permission, 403 for a write without the CSRF
// proof), the session filters and pages, preview == what a send delivers, kick through the
// delivery (the session marked disconnected), and stats sampled from the backend's counters
// (per channel too; the store counted only while someone reads them). Also built into pg_dispatch.
#include "apigw/server/console.hpp"

#include "backend_fixture.hpp"

#include <boost/json/serialize.hpp>

namespace apigw::dispatch::testing_support {
namespace {

class console_test : public backend_test {
 protected:
  void SetUp() override {
    backend_test::SetUp();
    v_.enable_channel_handlers();
    v_.handle("ping", [](request_context&) { return response::ok(); });
    start(v_);
    console_ = std::make_unique<server::console>(
        *app_,
        server::console_options{.authorize = server::require_permission(*auth_, "admin"),
                                .channels =
                                    [] {
                                      return std::vector<std::string>{"general", "other"};
                                    },
                                .sample_thread = false,
                                .actor = server::username_of(*auth_),
                                .on_action = [this](const server::console_action& a) { actions_.push_back(a); }});
    admin_ = login("alice", {"admin"});
    admin_csrf_ = last_csrf_;
    bob_ = login("bob");
    bob_csrf_ = last_csrf_;
  }
  void TearDown() override {
    console_.reset();
    backend_test::TearDown();
  }

  response get(const std::string& path, const std::string& query = {}, const std::string& cookie = {}) {
    request r;
    r.method = "GET";
    r.path = "/api/console/" + path;
    r.query = query;
    r.headers = {{"Cookie", cookie.empty() ? admin_ : cookie}};
    return console_->handle(r);
  }
  response post(const std::string& path, const json::object& body, std::optional<std::string> csrf = std::nullopt,
                const std::string& cookie = {}) {
    request r;
    r.method = "POST";
    r.path = "/api/console/" + path;
    r.body = boost::json::serialize(body);
    r.headers = {{"Cookie", cookie.empty() ? admin_ : cookie}, {"X-CSRF-Token", csrf.value_or(admin_csrf_)}};
    return console_->handle(r);
  }
  static json::object body_of(const response& r) {
    auto b = parse_json_object(r.body);
    EXPECT_TRUE(b) << r.body;
    return b ? *b : json::object{};
  }
  static std::vector<std::string> ids_of(const response& r) {
    EXPECT_EQ(r.status, 200U) << r.body;
    std::vector<std::string> out;
    const auto body = body_of(r);
    if (!body.contains("sessions")) return out;
    for (const auto& s : body.at("sessions").as_array()) {
      out.emplace_back(s.as_object().at("connection_id").as_string());
    }
    return out;
  }

  view v_;
  std::vector<server::console_action> actions_;
  std::unique_ptr<server::console> console_;
  std::string admin_, admin_csrf_, bob_, bob_csrf_;
};

TEST_P(console_test, only_admins_may_use_it_and_writes_need_the_csrf_token) {
  request anon;
  anon.method = "GET";
  anon.path = "/api/console/sessions";
  EXPECT_EQ(console_->handle(anon).status, 401U);
  EXPECT_EQ(get("sessions", "", bob_).status, 403U);
  EXPECT_EQ(post("send", {{"target", "everyone"}, {"message", "x"}}, bob_csrf_, bob_).status, 403U);
  EXPECT_EQ(get("sessions").status, 200U);
  EXPECT_EQ(post("kick", {{"connection_id", cid(1)}}, std::string("wrong")).status, 403U);
  EXPECT_EQ(post("send", {{"target", "everyone"}, {"message", "x"}}, std::string("")).status, 403U);
  EXPECT_EQ(post("kick", {{"connection_id", cid(1)}}).status, 404U) << "past the checks: no such connection";
  EXPECT_EQ(get("kick").status, 405U) << "a write is never a GET";
  EXPECT_EQ(out_->total(), 0U);
}

TEST_P(console_test, sessions_filter_by_user_channel_connected_and_age) {
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=general", .cookie = bob_}).status, 200U);
  ASSERT_EQ(gw_->connect(cid(2), {.query = "channel=other"}).status, 200U);
  ASSERT_EQ(gw_->connect(cid(3), {.query = "channel=general", .cookie = bob_}).status, 200U);
  ASSERT_EQ(gw_->disconnect(cid(3)).status, 200U);

  // Newest first: the session that connected last leads.
  EXPECT_EQ(ids_of(get("sessions")), (std::vector<std::string>{cid(2), cid(1)}));
  EXPECT_EQ(ids_of(get("sessions", "user=bob")), std::vector<std::string>{cid(1)});
  EXPECT_EQ(ids_of(get("sessions", "user=bob&connected=any")), (std::vector<std::string>{cid(3), cid(1)}));
  EXPECT_EQ(ids_of(get("sessions", "connected=no")), std::vector<std::string>{cid(3)});
  EXPECT_EQ(ids_of(get("sessions", "channel=other")), std::vector<std::string>{cid(2)});
  EXPECT_TRUE(ids_of(get("sessions", "user=nobody")).empty());
  EXPECT_TRUE(ids_of(get("sessions", "min_age_s=60")).empty());
  clock_.advance(std::chrono::seconds(61));
  EXPECT_EQ(ids_of(get("sessions", "min_age_s=60")).size(), 2U);

  auto first = get("sessions", "limit=1");
  EXPECT_EQ(ids_of(first), std::vector<std::string>{cid(2)});
  const auto after = body_of(first).at("next_after").as_int64();
  auto second = get("sessions", "limit=1&after=" + std::to_string(after));
  EXPECT_EQ(ids_of(second), std::vector<std::string>{cid(1)});
  auto third = get("sessions", "limit=1&after=" + std::to_string(body_of(second).at("next_after").as_int64()));
  EXPECT_TRUE(ids_of(third).empty());
  EXPECT_TRUE(body_of(third).at("next_after").is_null());
  EXPECT_EQ(get("sessions", "connected=maybe").status, 400U);
  EXPECT_EQ(get("sessions", "limit=0").status, 400U);

  const auto one = body_of(get("sessions", "user=bob"));
  const auto& s = one.at("sessions").as_array().at(0).as_object();
  EXPECT_EQ(s.at("username").as_string(), "bob");
  EXPECT_EQ(s.at("channels").as_array().at(0).as_string(), "general");
  auto detail = get("sessions/" + std::to_string(s.at("id").as_int64()));
  ASSERT_EQ(detail.status, 200U);
  EXPECT_EQ(body_of(detail).at("connection_id").as_string(), cid(1));
  EXPECT_EQ(get("sessions/999999").status, 404U);
}

TEST_P(console_test, preview_counts_what_the_send_delivers) {
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=general", .cookie = bob_}).status, 200U);
  ASSERT_EQ(gw_->connect(cid(2), {.query = "channel=general"}).status, 200U);
  ASSERT_EQ(gw_->connect(cid(3), {.query = "channel=other", .cookie = bob_}).status, 200U);
  const std::pair<json::object, std::int64_t> cases[] = {
      {{{"target", "everyone"}}, 3},
      {{{"target", "channel"}, {"value", "general"}}, 2},
      {{{"target", "user"}, {"value", "bob"}}, 2},
      {{{"target", "session"}, {"value", cid(2)}}, 1},
  };
  for (const auto& [target, n] : cases) {
    auto preview = post("preview", target);
    ASSERT_EQ(preview.status, 200U) << preview.body;
    EXPECT_EQ(body_of(preview).at("recipients").as_int64(), n) << boost::json::serialize(target);
    auto body = target;
    body["kind"] = "toast";
    body["level"] = "warning";
    body["title"] = "Ops";
    body["message"] = "Restart at 18:00";
    auto sent = post("send", body);
    ASSERT_EQ(sent.status, 200U) << sent.body;
    EXPECT_EQ(body_of(sent).at("delivered").as_int64(), n);
    EXPECT_EQ(body_of(sent).at("recipients").as_int64(), n);
    EXPECT_EQ(body_of(sent).at("failed").as_int64(), 0);
  }
  const auto got = out_->json_for(cid(2));
  ASSERT_EQ(got.size(), 3U);
  EXPECT_EQ(got.back().as_object().at("type").as_string(), "toast");
  EXPECT_EQ(got.back().as_object().at("title").as_string(), "Ops");

  auto system = post("send", {{"target", "session"}, {"value", cid(1)}, {"kind", "system"}, {"message", "Bye"}});
  ASSERT_EQ(system.status, 200U) << system.body;
  EXPECT_EQ(out_->json_for(cid(1)).back().as_object().at("type").as_string(), "system");
  EXPECT_EQ(post("send", {{"target", "everyone"}, {"kind", "toast"}, {"level", "loud"}, {"message", "x"}}).status,
            400U);
  EXPECT_EQ(post("preview", {{"target", "user"}, {"value", "nobody"}}).status, 404U);
  EXPECT_EQ(post("preview", {{"target", "planet"}}).status, 400U);
}

TEST_P(console_test, kick_closes_the_connection_and_marks_the_session) {
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=general", .cookie = bob_}).status, 200U);
  auto kicked = post("kick", {{"connection_id", cid(1)}});
  ASSERT_EQ(kicked.status, 200U) << kicked.body;
  EXPECT_TRUE(body_of(kicked).at("kicked").as_bool());
  EXPECT_TRUE(out_->disconnected(cid(1)));
  EXPECT_FALSE(store_->find_session(cid(1))->connected);
  EXPECT_TRUE(ids_of(get("sessions")).empty());
  EXPECT_EQ(post("preview", {{"target", "session"}, {"value", cid(1)}}).body, R"({"recipients":0})");
}

TEST_P(console_test, stats_are_rates_of_the_backend_counters) {
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=general", .cookie = bob_}).status, 200U);
  ASSERT_EQ(get("stats").status, 200U) << "a reader makes the console count sessions";
  console_->sample();
  clock_.advance(std::chrono::seconds(1));
  for (int i = 0; i < 4; ++i) ASSERT_EQ(gw_->message(cid(1), json::object{{"handler", "ping"}}).status, 200U);
  ASSERT_EQ(post("send", {{"target", "everyone"}, {"kind", "toast"}, {"title", "Hi"}, {"message", "hi"}}).status, 200U);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(
        post("send", {{"target", "channel"}, {"value", "general"}, {"kind", "toast"}, {"title", "G"}, {"message", "g"}})
            .status,
        200U);
  }
  console_->sample();
  auto r = get("stats");
  ASSERT_EQ(r.status, 200U);
  auto s = body_of(r);
  ASSERT_EQ(s.at("t").as_array().size(), 1U) << "one rate from two samples";
  EXPECT_EQ(s.at("connected").as_array().at(0).as_int64(), 1);
  EXPECT_DOUBLE_EQ(s.at("messages_per_s").as_array().at(0).as_double(), 4.0);
  EXPECT_DOUBLE_EQ(s.at("delivered_per_s").as_array().at(0).as_double(), 4.0);
  EXPECT_EQ(s.at("channels").as_object().at("general").as_array().at(0).as_int64(), 1);
  EXPECT_EQ(s.at("channels").as_object().at("other").as_array().at(0).as_int64(), 0);
  // Messages per channel: the three sends to general; the broadcast went to no channel.
  const auto& rates = s.at("channel_messages_per_s").as_object();
  EXPECT_DOUBLE_EQ(rates.at("general").as_array().at(0).as_double(), 3.0);
  EXPECT_DOUBLE_EQ(rates.at("other").as_array().at(0).as_double(), 0.0);
}

TEST_P(console_test, unwatched_samples_do_not_ask_the_store) {
  // Nobody has read stats: the samples keep the backend's rates, and the store's counts are null
  // (not 0, which would chart a false drop).
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=general", .cookie = bob_}).status, 200U);
  console_->sample();
  clock_.advance(std::chrono::seconds(1));
  for (int i = 0; i < 2; ++i) ASSERT_EQ(gw_->message(cid(1), json::object{{"handler", "ping"}}).status, 200U);
  console_->sample();
  auto s = body_of(get("stats"));
  ASSERT_EQ(s.at("t").as_array().size(), 1U) << "unwatched samples are kept, not skipped";
  EXPECT_TRUE(s.at("connected").as_array().at(0).is_null());
  EXPECT_TRUE(s.at("channels").as_object().at("general").as_array().at(0).is_null());
  EXPECT_DOUBLE_EQ(s.at("messages_per_s").as_array().at(0).as_double(), 2.0);
  // That read made the console watched: the next sample counts.
  clock_.advance(std::chrono::seconds(1));
  console_->sample();
  s = body_of(get("stats"));
  ASSERT_EQ(s.at("connected").as_array().size(), 2U);
  EXPECT_EQ(s.at("connected").as_array().at(1).as_int64(), 1);
}

TEST_P(console_test, every_write_is_audited_with_who_what_and_the_outcome) {
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=general", .cookie = bob_}).status, 200U);
  ASSERT_EQ(post("preview", {{"target", "everyone"}}).status, 200U);
  ASSERT_EQ(
      post("send", {{"target", "channel"}, {"value", "general"}, {"kind", "system"}, {"message", "Deploy"}}).status,
      200U);
  ASSERT_EQ(post("send", {{"target", "everyone"}, {"kind", "shout"}, {"message", "x"}}).status, 400U);
  ASSERT_EQ(post("kick", {{"connection_id", cid(1)}}).status, 200U);
  // Refused before the console acts (bob is no admin): not an action, so not audited.
  ASSERT_EQ(post("kick", {{"connection_id", cid(1)}}, bob_csrf_, bob_).status, 403U);

  ASSERT_EQ(actions_.size(), 3U) << "preview only reads; the refusal never reached the console";
  EXPECT_EQ(actions_[0].actor, "alice");
  EXPECT_EQ(actions_[0].action, "send");
  EXPECT_EQ(actions_[0].target, "channel");
  EXPECT_EQ(actions_[0].value, "general");
  EXPECT_EQ(actions_[0].status, 200U);
  EXPECT_EQ(actions_[0].outcome.at("delivered").as_int64(), 1);
  EXPECT_EQ(actions_[1].status, 400U);
  EXPECT_TRUE(actions_[1].outcome.contains("error"));
  EXPECT_EQ(actions_[2].action, "kick");
  EXPECT_EQ(actions_[2].value, cid(1));
  EXPECT_TRUE(actions_[2].outcome.at("kicked").as_bool());

  const auto listed = body_of(get("audit")).at("actions").as_array();
  ASSERT_EQ(listed.size(), 3U);
  EXPECT_EQ(listed.at(0).as_object().at("action").as_string(), "kick") << "newest first";
  EXPECT_EQ(listed.at(2).as_object().at("request").as_object().at("message").as_string(), "Deploy");
  EXPECT_EQ(get("audit", "", bob_).status, 403U) << "the audit list is for admins too";
}

INSTANTIATE_TEST_SUITE_P(dispatch, console_test, ::testing::Values(linked_provider()), provider_name);

}  // namespace
}  // namespace apigw::dispatch::testing_support

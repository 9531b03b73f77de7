// The backend suite, history part: publish (offsets, the envelope, the checks) and the built-in
// recovery handler (replay in order, the end marker, the gaps it cannot fill, the channel policy),
// through the full request pipeline, against SQLite and PostgreSQL.
#include "apigw/dispatch/history.hpp"

#include "backend_fixture.hpp"

#include <chrono>

namespace apigw::dispatch::testing_support {
namespace {

using namespace std::chrono_literals;

class history_view : public view {
 public:
  history_view() {
    authorize_channels([](const identity&, std::string_view channel) { return channel != "room-secret"; });
  }
};

// jobs_delivery: the recording delivery plus send_durable as sender_delivery does it (a job in the
// store), so a durable publish can be checked without a sender.
class jobs_delivery : public recording_delivery {
 public:
  explicit jobs_delivery(store::session_store& store) : recording_delivery(store), jobs_(store) {}
  result<store::job_id> send_durable(const store::session_query& q, const json::value& message,
                                     const job_options& options) override {
    auto target = job_target_of(q);
    if (!target) return target.error();
    auto job = start_job(jobs_, *target, message, options);
    if (!job) return job.error();
    return job->id;
  }

 private:
  store::job_repository& jobs_;
};

class history_test : public backend_test {
 protected:
  void SetUp() override {
    backend_test::SetUp();
    options_.history.rules = {{"room-*", {.max_messages = 5}}, {"room-secret", {.max_messages = 5}}};
    start(view_);
  }

  publish_handle publish(const std::string& channel, int n) {
    return app_->sessions().in_channel(channel).publish(json::object{{"type", "note"}, {"n", n}});
  }

  // recover: the client's recovery request for one channel; the replies it got since `from`.
  std::vector<json::value> recover(const std::string& channel, const std::string& epoch, std::int64_t offset,
                                   std::size_t from = 0) {
    const auto status =
        gw_->message(
               cid(1),
               json::object{
                   {"handler", "apigw.recover"},
                   {"channels", json::array{json::object{{"channel", channel}, {"epoch", epoch}, {"offset", offset}}}}})
            .status;
    EXPECT_EQ(status, 200U);
    auto all = out_->json_for(cid(1));
    return {all.begin() + static_cast<std::ptrdiff_t>(from), all.end()};
  }

  history_view view_;
};

TEST_P(history_test, publish_numbers_the_messages_and_adds_the_envelope) {
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=room-a"}).status, 200U);
  auto first = publish("room-a", 1);
  ASSERT_TRUE(first.wait()) << why(first.wait());
  EXPECT_EQ(first.offset(), 1);
  EXPECT_EQ(first.epoch().size(), 16U);
  auto second = publish("room-a", 2);
  ASSERT_TRUE(second.wait());
  EXPECT_EQ(second.offset(), 2);
  EXPECT_EQ(second.epoch(), first.epoch());

  const auto got = out_->json_for(cid(1));
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[1].at("type"), "note");
  EXPECT_EQ(got[1].at("n"), 2);
  EXPECT_EQ(got[1].at("apigw").at("channel"), "room-a");
  EXPECT_EQ(got[1].at("apigw").at("epoch"), json::value(first.epoch()));
  EXPECT_EQ(got[1].at("apigw").at("offset"), 2);
}

TEST_P(history_test, publish_refuses_the_reserved_key_and_a_set_without_a_channel) {
  auto reserved = app_->sessions().in_channel("room-a").publish(json::object{{"apigw", json::object{}}});
  EXPECT_EQ(reserved.wait().error(), condition::invalid_argument);
  auto nowhere = app_->sessions().publish(json::object{{"type", "x"}});
  EXPECT_EQ(nowhere.wait().error(), condition::invalid_argument);
  auto not_object = app_->sessions().in_channel("room-a").publish(json::value(3));
  EXPECT_EQ(not_object.wait().error(), condition::invalid_argument);
  EXPECT_EQ(store_->history_position_of("room-a").error(), condition::not_found);
}

TEST_P(history_test, a_channel_without_a_rule_gets_no_history_and_no_envelope) {
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=plain"}).status, 200U);
  auto h = publish("plain", 1);
  ASSERT_TRUE(h.wait());
  EXPECT_EQ(h.offset(), 0);
  const auto got = out_->json_for(cid(1));
  ASSERT_EQ(got.size(), 1U);
  EXPECT_FALSE(got[0].as_object().contains("apigw"));
  EXPECT_EQ(store_->history_position_of("plain").error(), condition::not_found);
}

TEST_P(history_test, recovery_replays_the_missed_messages_in_order_then_marks_the_end) {
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=room-a"}).status, 200U);
  std::string epoch;
  for (int i = 1; i <= 4; ++i) epoch = publish("room-a", i).epoch();
  const auto before = out_->json_for(cid(1)).size();

  const auto got = recover("room-a", epoch, 1, before);
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0].at("type"), "apigw.replay");
  EXPECT_EQ(got[0].at("channel"), "room-a");
  const auto& replayed = got[0].at("messages").as_array();
  ASSERT_EQ(replayed.size(), 3U);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(replayed[i].at("n"), static_cast<std::int64_t>(i + 2));
    EXPECT_EQ(replayed[i].at("apigw").at("offset"), static_cast<std::int64_t>(i + 2));
    EXPECT_EQ(replayed[i].at("apigw").at("epoch"), json::value(epoch));
  }
  EXPECT_EQ(got[1].at("type"), "apigw.recovered");
  EXPECT_EQ(got[1].at("recovered"), true);
  EXPECT_EQ(got[1].at("offset"), 4);

  // Up to date: nothing to replay, recovered.
  const auto up_to_date = recover("room-a", epoch, 4, out_->json_for(cid(1)).size());
  ASSERT_EQ(up_to_date.size(), 1U);
  EXPECT_EQ(up_to_date[0].at("recovered"), true);
}

TEST_P(history_test, gaps_the_history_cannot_fill_are_reported_not_recovered) {
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=room-a"}).status, 200U);
  std::string epoch;
  for (int i = 1; i <= 8; ++i) epoch = publish("room-a", i).epoch();  // keeps 4..8

  auto got = recover("room-a", epoch, 1, out_->json_for(cid(1)).size());
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].at("type"), "apigw.recovered");
  EXPECT_EQ(got[0].at("recovered"), false);
  EXPECT_EQ(got[0].at("reason"), "retention");
  EXPECT_EQ(got[0].at("epoch"), json::value(epoch));
  EXPECT_EQ(got[0].at("offset"), 8);

  got = recover("room-a", "another-epoch", 7, out_->json_for(cid(1)).size());
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].at("recovered"), false);
  EXPECT_EQ(got[0].at("reason"), "epoch");

  got = recover("plain", "e", 1, out_->json_for(cid(1)).size());
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].at("reason"), "no_history");
  // Recovering resubscribes, with or without history.
  EXPECT_EQ(*store_->channels_of(cid(1)), (std::vector<std::string>{"plain", "room-a"}));
}

TEST_P(history_test, recovery_checks_the_channel_policy_and_the_request) {
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=room-a"}).status, 200U);
  std::string epoch;
  for (int i = 1; i <= 3; ++i) epoch = publish("room-secret", i).epoch();
  const auto got = recover("room-secret", epoch, 0, out_->json_for(cid(1)).size());
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].at("recovered"), false);
  EXPECT_EQ(got[0].at("reason"), "forbidden");
  EXPECT_EQ(*store_->channels_of(cid(1)), std::vector<std::string>{"room-a"});

  EXPECT_EQ(gw_->message(cid(1), json::object{{"handler", "apigw.recover"}}).status, 400U);
  EXPECT_EQ(gw_->message(cid(1), json::object{{"handler", "apigw.recover"},
                                              {"channels", json::array{json::object{{"channel", "room-a"}}}}})
                .status,
            400U);
}

TEST_P(history_test, a_channel_only_the_server_api_may_name_keeps_history_but_is_not_recovered) {
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=room-a"}).status, 200U);
  // "room-a.b" matches the rule "room-*", and the server API takes it; a client may not name it.
  auto h = publish("room-a.b", 1);
  ASSERT_TRUE(h.wait());
  EXPECT_EQ(h.offset(), 1);
  const auto got = recover("room-a.b", h.epoch(), 0, out_->json_for(cid(1)).size());
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].at("type"), "apigw.recovered");
  EXPECT_EQ(got[0].at("recovered"), false);
  EXPECT_EQ(got[0].at("reason"), "invalid_channel");
  EXPECT_EQ(*store_->channels_of(cid(1)), std::vector<std::string>{"room-a"}) << "not joined either";
}

TEST_P(history_test, a_durable_publish_is_stored_then_recorded_as_a_job_before_any_request) {
  jobs_delivery jobs(*store_);
  channel_history durable(*store_, clock_, {.rules = {{"room-*", {.max_messages = 5}}}, .durable = true});
  const auto q = store::session_query{}.in_channel("room-a");
  auto first = durable.publish(jobs, q, json::object{{"type", "note"}, {"n", 1}});
  ASSERT_TRUE(first.wait()) << why(first.wait());
  EXPECT_EQ(first.wait()->delivered, 0U) << "nothing is sent by the publish itself";
  EXPECT_EQ(jobs.total(), 0U);
  ASSERT_TRUE(first.job());
  EXPECT_EQ(first.offset(), 1);
  auto job = store_->get_job(*first.job());
  ASSERT_TRUE(job) << why(job);
  // The job carries the message as recipients get it: the history envelope and the job's id.
  auto sent = parse_json_object(job->message);
  ASSERT_TRUE(sent);
  const auto& envelope = sent->at("apigw").as_object();
  EXPECT_EQ(envelope.at("channel").as_string(), "room-a");
  EXPECT_EQ(envelope.at("offset").as_int64(), 1);
  EXPECT_EQ(envelope.at("id").as_string(), job->message_id);
  EXPECT_EQ(sent->at("n").as_int64(), 1);
  // A channel without history is still recorded as a job, without an offset.
  auto plain = durable.publish(jobs, store::session_query{}.in_channel("lobby"), json::object{{"type", "note"}});
  ASSERT_TRUE(plain.wait());
  ASSERT_TRUE(plain.job());
  EXPECT_EQ(plain.offset(), 0);
  EXPECT_NE(*plain.job(), *first.job());
}

INSTANTIATE_TEST_SUITE_P(store, history_test, ::testing::Values(linked_provider()), provider_name);

}  // namespace
}  // namespace apigw::dispatch::testing_support

// The example application's own tests: its message patterns (unicast, channel sends, broadcasts,
// permission failures, stale connections, message size) driven exactly as API Gateway would,
// with an in-memory @connections. Runs on SQLite and PostgreSQL with the backend suite.
#include "example/chat_app.hpp"

#include "apigw/dispatch/testing.hpp"
#include "backend_fixture.hpp"

namespace apigw::dispatch::testing_support {
namespace {

// chat_test: the backend suite's fixture with the chat app started and three people connected:
// alice (c1) and bob (c2) in "general", carol (c3) in "random"; carol may announce.
class chat_test : public backend_test {
 protected:
  void SetUp() override {
    backend_test::SetUp();
    start(view_);
    const auto alice = login("alice");
    const auto bob = login("bob");
    const auto carol = login("carol", {"announce"});
    ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=general", .cookie = alice}).status, 200U);
    ASSERT_EQ(gw_->connect(cid(2), {.query = "channel=general", .cookie = bob}).status, 200U);
    ASSERT_EQ(gw_->connect(cid(3), {.query = "channel=random", .cookie = carol}).status, 200U);
    out_->clear();  // forget the welcome messages
  }

  // last_type: the "type" of the last message `c` received ("" when none).
  std::string last_type(int c) {
    auto got = out_->json_for(cid(c));
    if (got.empty()) return {};
    return std::string{got.back().as_object().at("type").as_string()};
  }

  example::chat_app_view view_;
};

TEST_P(chat_test, connect_is_greeted) {
  ASSERT_EQ(gw_->connect(cid(4)).status, 200U);
  EXPECT_EQ(last_type(4), "system");
}

TEST_P(chat_test, say_reaches_the_room_only) {
  auto r = gw_->message(cid(1), {{"handler", "say"}, {"room", "general"}, {"text", "hi"}});
  EXPECT_EQ(r.status, 200U) << r.body;
  EXPECT_EQ(last_type(1), "chat_message");
  EXPECT_EQ(last_type(2), "chat_message");
  EXPECT_TRUE(out_->messages_for(cid(3)).empty());
  EXPECT_EQ(gw_->message(cid(3), {{"handler", "say"}, {"room", "general"}, {"text", "x"}}).status, 403U);
}

TEST_P(chat_test, whisper_is_unicast_to_every_connection_of_the_user) {
  const auto bob = login("bob2");
  ASSERT_EQ(gw_->connect(cid(5), {.cookie = bob}).status, 200U);
  out_->clear();
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "whisper"}, {"to", "bob"}, {"text", "psst"}}).status, 200U);
  EXPECT_EQ(out_->total(), 1U);
  EXPECT_EQ(out_->messages_for(cid(2)).size(), 1U);
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "whisper"}, {"to", "nobody"}, {"text", "x"}}).status, 404U);
}

TEST_P(chat_test, announce_is_a_broadcast_that_needs_permission) {
  auto denied = gw_->message(cid(1), {{"handler", "announce"}, {"text", "x"}});
  EXPECT_EQ(denied.status, 403U);
  EXPECT_EQ(denied.body, "Permission Denied");
  EXPECT_EQ(out_->total(), 0U);
  EXPECT_EQ(gw_->message(cid(3), {{"handler", "announce"}, {"text", "maintenance"}}).status, 200U);
  EXPECT_EQ(out_->total(), 3U);
}

TEST_P(chat_test, stale_connections_are_marked_gone_and_skipped) {
  clock_.advance(std::chrono::minutes{1});  // bob connected a while ago (past the connect window)...
  out_->gone_on_send(cid(2));               // ...and his browser vanished without a $disconnect
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "say"}, {"room", "general"}, {"text", "1"}}).status, 200U);
  EXPECT_FALSE(store_->find_session(cid(2))->connected);
  EXPECT_EQ(*app_->sessions().in_channel("general").count(), 1);
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "say"}, {"room", "general"}, {"text", "2"}}).status, 200U);
  EXPECT_EQ(out_->messages_for(cid(1)).size(), 2U);
}

TEST_P(chat_test, oversize_messages_are_refused_and_the_sender_is_told) {
  // A request body at exactly the 128 KiB limit is accepted, but the chat message built from it
  // has a larger envelope: the send is refused before anything goes out, and the sender is told.
  const std::string head = R"({"handler":"say","room":"general","text":")";
  const std::string tail = "\"}";
  const std::string body = head + std::string(k_max_message_bytes - head.size() - tail.size(), 'x') + tail;
  ASSERT_EQ(body.size(), k_max_message_bytes);
  auto r = gw_->message_text(cid(1), body);
  EXPECT_EQ(r.status, 413U);
  EXPECT_TRUE(out_->messages_for(cid(2)).empty()) << "nothing was sent to the room";
  ASSERT_EQ(out_->messages_for(cid(1)).size(), 1U);
  EXPECT_EQ(last_type(1), "system");
  EXPECT_EQ(out_->json_for(cid(1)).back().at("message"), "Message too large");
}

TEST_P(chat_test, channel_handlers_move_people_between_rooms) {
  EXPECT_EQ(gw_->message(cid(3), {{"handler", "join_channel"}, {"channel", "general"}}).status, 200U);
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "say"}, {"room", "general"}, {"text", "hi"}}).status, 200U);
  EXPECT_EQ(last_type(3), "chat_message");
  auto p = app_->presence("general");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sessions, 3);
  EXPECT_EQ(p->users.size(), 3U);
}

INSTANTIATE_TEST_SUITE_P(example, chat_test, ::testing::Values(linked_provider()), provider_name);

}  // namespace
}  // namespace apigw::dispatch::testing_support

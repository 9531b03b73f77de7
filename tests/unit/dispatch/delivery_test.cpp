// Tests of sending: send handles, session sets, the in-memory @connections, and sender_delivery
// through the real fan-out sender to the fake @connections server on loopback.
#include "apigw/dispatch/delivery.hpp"

#include "apigw/dispatch/error.hpp"
#include "apigw/dispatch/sender_delivery.hpp"
#include "apigw/mgmt/error.hpp"
#include "backend_fixture.hpp"
#include "support/connections_server.hpp"

#include <thread>

namespace apigw::dispatch::testing_support {
namespace {

using namespace std::chrono_literals;

TEST(send_handle, completes_once_and_wakes_waiters) {
  auto [h, done] = send_handle::make();
  EXPECT_FALSE(h.ready());
  EXPECT_FALSE(h.wait_for(1ms));
  std::thread t([c = done] {
    delivery_report r;
    r.delivered = 3;
    c.complete(r);
  });
  auto r = h.wait();
  t.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->delivered, 3U);
  done.complete(failure{error::overloaded});
  EXPECT_TRUE(h.wait()) << "the first outcome stays";
  EXPECT_FALSE(send_handle::failed(failure{error::overloaded}).wait());
}

TEST_P(backend_test, recording_delivery_records_gone_and_oversize) {
  ASSERT_TRUE(store_->create_session(cid(1), 7, gateway_.id, std::vector<std::string>{"room"}));
  ASSERT_TRUE(store_->create_session(cid(2), 8, gateway_.id, std::vector<std::string>{"room"}));
  ASSERT_TRUE(store_->create_session(cid(3), 8, gateway_.id, std::vector<std::string>{"room"}));
  ASSERT_TRUE(store_->create_session(cid(4), 9, gateway_.id));
  clock_.advance(1min);  // past their connect window: a 410 now means gone
  out_->gone_on_send(cid(2));
  out_->fail_on_send(cid(3), failure{mgmt::error::server_error});
  session_set all(*out_, *store_);
  auto r = all.in_channel("room").send_message(json::object{{"type", "chat"}}).wait();
  ASSERT_TRUE(r) << why(r);
  EXPECT_EQ(r->delivered, 1U);
  EXPECT_EQ(r->gone, std::vector<std::string>{cid(2)});
  ASSERT_EQ(r->failed.size(), 1U);
  EXPECT_EQ(r->failed[0].reason, condition::server_error);
  EXPECT_FALSE(store_->find_session(cid(2))->connected) << "gone is marked disconnected";
  EXPECT_EQ(*all.in_channel("room").count(), 2);
  EXPECT_EQ(out_->messages_for(cid(1)).size(), 1U);

  auto big = all.for_user(9).send_message(json::string(std::string(k_max_message_bytes, 'x'))).wait();
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error(), condition::payload_too_large);
  EXPECT_TRUE(out_->messages_for(cid(4)).empty());
}

TEST_P(backend_test, store_recipients_pages_connected_sessions_with_their_endpoints) {
  store::gateway other;
  other.name = "other";
  other.endpoint = "http://127.0.0.1:9/prod";
  auto o = store_->upsert_gateway(other);
  ASSERT_TRUE(o);
  ASSERT_TRUE(store_->create_session(cid(1), 7, gateway_.id));
  ASSERT_TRUE(store_->create_session(cid(2), 7, o->id));
  ASSERT_TRUE(store_->create_session(cid(3), 7, std::nullopt));
  ASSERT_TRUE(store_->create_session(cid(4), 7, gateway_.id));
  const std::string gone[] = {cid(4)};
  ASSERT_TRUE(store_->mark_disconnected(gone));
  store_recipients source(*store_, store::session_query{}.for_user(7), std::nullopt, 2);
  std::vector<mgmt::recipient> all;
  for (;;) {
    auto page = source.next_page();
    ASSERT_TRUE(page) << why(page);
    if (page->empty()) break;
    all.insert(all.end(), page->begin(), page->end());
  }
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[0].endpoint, gateway_.endpoint);
  EXPECT_EQ(all[1].endpoint, "http://127.0.0.1:9/prod");
  EXPECT_EQ(all[2].endpoint, "") << "no gateway: the sender reports it as failed";
  EXPECT_EQ(source.handed_out(), 3U);

  clock_.advance(1min);
  store_gone_sink sink(*store_);
  EXPECT_EQ(sink.created_before(), clock_.now() - k_connect_window);
  const std::string ids[] = {cid(1), cid(4)};
  ASSERT_TRUE(sink.mark_disconnected(ids));
  EXPECT_EQ(sink.marked(), 1U);
}

TEST_P(backend_test, gone_sink_spares_sessions_inside_their_connect_window) {
  // API Gateway answers 410 for a connection whose $connect has not returned yet.
  ASSERT_TRUE(store_->create_session(cid(1), 7, gateway_.id));  // established
  clock_.advance(k_connect_window + 1s);
  ASSERT_TRUE(store_->create_session(cid(2), 7, gateway_.id));  // still connecting
  clock_.advance(1s);
  store_gone_sink sink(*store_);
  const std::string ids[] = {cid(1), cid(2)};
  ASSERT_TRUE(sink.mark_disconnected(ids));
  EXPECT_EQ(sink.marked(), 1U);
  EXPECT_FALSE(store_->find_session(cid(1))->connected);
  EXPECT_TRUE(store_->find_session(cid(2))->connected) << "a 410 inside the connect window marks nothing";

  // The window is configurable: with 500 ms, cid(2) (created 1 s ago) is old enough.
  store_gone_sink short_window(*store_, 500ms);
  ASSERT_TRUE(short_window.mark_disconnected(ids));
  EXPECT_EQ(short_window.marked(), 1U);
  EXPECT_FALSE(store_->find_session(cid(2))->connected);
}

TEST_P(backend_test, recording_delivery_plays_gone_by_the_same_rule) {
  ASSERT_TRUE(store_->create_session(cid(1), 7, gateway_.id, std::vector<std::string>{"room"}));
  out_->gone_on_send(cid(1));
  session_set room = session_set(*out_, *store_).in_channel("room");
  auto young = room.send_message(json::object{{"n", 1}}).wait();
  ASSERT_TRUE(young) << why(young);
  EXPECT_EQ(young->gone, std::vector<std::string>{cid(1)});
  EXPECT_TRUE(store_->find_session(cid(1))->connected);
  clock_.advance(k_connect_window);  // created exactly k_connect_window ago: still spared
  ASSERT_TRUE(room.send_message(json::object{{"n", 2}}).wait());
  EXPECT_TRUE(store_->find_session(cid(1))->connected);
  clock_.advance(1ms);
  ASSERT_TRUE(out_->send_to(cid(1), "", json::object{{"n", 3}}).wait());
  EXPECT_FALSE(store_->find_session(cid(1))->connected);
}

TEST_P(backend_test, sender_delivery_posts_through_the_management_api) {
  testing::connections_server fake;
  mgmt::sender sender;
  sender_delivery out(sender, *store_, fake.endpoint("/dev"));
  ASSERT_TRUE(store_->create_session(cid(1), 7, gateway_.id, std::vector<std::string>{"room"}));
  ASSERT_TRUE(store_->create_session(cid(2), 8, gateway_.id, std::vector<std::string>{"room"}));
  clock_.advance(1min);
  fake.script(cid(2), {{.status = 410}});
  auto h = session_set(out, *store_).in_channel("room").send_message(json::object{{"n", 1}});
  auto r = h.wait_for(10s);
  ASSERT_TRUE(r) << why(r);
  EXPECT_EQ(r->delivered, 1U);
  EXPECT_EQ(r->gone, std::vector<std::string>{cid(2)});
  EXPECT_FALSE(store_->find_session(cid(2))->connected);
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2U);
  EXPECT_EQ(fake.count_for(cid(1)), 1U);
  EXPECT_EQ(session_set(out, *store_).send_message(json::string(std::string(k_max_message_bytes, 'x'))).wait().error(),
            condition::payload_too_large);
}

// A kick (the operator console's) is one DeleteConnection through the session's gateway endpoint;
// the session is marked at once, and a connection already gone is reported as such.
TEST_P(backend_test, sender_delivery_disconnect_deletes_through_the_gateway_endpoint) {
  testing::connections_server fake;
  store::gateway g = gateway_;
  g.endpoint = fake.endpoint("/dev");
  ASSERT_TRUE(store_->upsert_gateway(g));
  mgmt::sender sender;
  sender_delivery out(sender, *store_);
  auto one = store_->create_session(cid(1), 7, gateway_.id);
  auto two = store_->create_session(cid(2), 7, gateway_.id);
  auto orphan = store_->create_session(cid(3), 7, std::nullopt);
  ASSERT_TRUE(one && two && orphan);
  clock_.advance(1min);
  fake.script(cid(2), {{.status = 410}});
  auto closed = out.disconnect(*one);
  ASSERT_TRUE(closed) << why(closed);
  EXPECT_TRUE(*closed);
  EXPECT_FALSE(store_->find_session(cid(1))->connected);
  closed = out.disconnect(*two);
  ASSERT_TRUE(closed) << why(closed);
  EXPECT_FALSE(*closed) << "it was already gone";
  EXPECT_FALSE(store_->find_session(cid(2))->connected);
  EXPECT_FALSE(out.disconnect(*orphan)) << "no gateway, no endpoint to close it through";
  EXPECT_TRUE(store_->find_session(cid(3))->connected);
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2U);
  EXPECT_EQ(reqs[0].method, "DELETE");
  EXPECT_EQ(reqs[0].connection_id, cid(1));
}

TEST_P(backend_test, sender_delivery_replies_to_one_connection_without_the_store) {
  testing::connections_server fake;
  mgmt::sender sender;
  sender_delivery out(sender, *store_);
  ASSERT_TRUE(store_->create_session(cid(1), 7, gateway_.id));
  ASSERT_TRUE(store_->create_session(cid(2), 7, gateway_.id));
  clock_.advance(1min);
  fake.script(cid(2), {{.status = 410}});
  auto r = out.send_to(cid(1), fake.endpoint("/dev"), json::object{{"n", 1}}).wait_for(10s);
  ASSERT_TRUE(r) << why(r);
  EXPECT_EQ(r->delivered, 1U);
  r = out.send_to(cid(2), fake.endpoint("/dev"), json::object{{"n", 2}}).wait_for(10s);
  ASSERT_TRUE(r) << why(r);
  EXPECT_EQ(r->gone, std::vector<std::string>{cid(2)});
  EXPECT_FALSE(store_->find_session(cid(2))->connected);
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2U);
  EXPECT_EQ(reqs[0].base_path, "/dev");
  EXPECT_EQ(reqs[0].body, R"({"n":1})");
}

TEST_P(backend_test, sender_delivery_410_marks_established_sessions_not_connecting_ones) {
  // Through the real sender: "room" has an established session (cid 1, created 40 s ago) and one
  // whose $connect is still running (cid 2, created 2 s ago); the gateway answers 410 for both.
  testing::connections_server fake;
  mgmt::sender sender;
  sender_delivery_options o;
  o.endpoint_override = fake.endpoint("/dev");
  sender_delivery out(sender, *store_, o);
  const std::vector<std::string> room{"room"};
  ASSERT_TRUE(store_->create_session(cid(1), 7, gateway_.id, room));
  clock_.advance(38s);
  ASSERT_TRUE(store_->create_session(cid(2), 8, gateway_.id, room));
  clock_.advance(2s);
  fake.script(cid(1), {{.status = 410}});
  fake.script(cid(2), {{.status = 410}});
  auto r = session_set(out, *store_).in_channel("room").send_message(json::object{{"n", 1}}).wait_for(10s);
  ASSERT_TRUE(r) << why(r);
  EXPECT_EQ(r->gone.size(), 2U);
  EXPECT_FALSE(r->gone_sink_error);
  EXPECT_FALSE(store_->find_session(cid(1))->connected) << "established and gone";
  EXPECT_TRUE(store_->find_session(cid(2))->connected) << "still connecting: not lost";

  // Its connect returned; a later send reaches it.
  fake.script(cid(2), {{.status = 200}});
  auto again = session_set(out, *store_).in_channel("room").send_message(json::object{{"n", 2}}).wait_for(10s);
  ASSERT_TRUE(again) << why(again);
  EXPECT_EQ(again->delivered, 1U);
  EXPECT_EQ(fake.count_for(cid(2)), 2U);

  // A reply from inside $connect (send_to) is answered 410 too, and must not mark the session.
  ASSERT_TRUE(store_->create_session(cid(3), 9, gateway_.id));
  fake.script(cid(3), {{.status = 410}});
  auto reply = out.send_to(cid(3), "", json::object{{"hello", true}}).wait_for(10s);
  ASSERT_TRUE(reply) << why(reply);
  EXPECT_EQ(reply->gone, std::vector<std::string>{cid(3)});
  EXPECT_TRUE(store_->find_session(cid(3))->connected);
}

}  // namespace
}  // namespace apigw::dispatch::testing_support

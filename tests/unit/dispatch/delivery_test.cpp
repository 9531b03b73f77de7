// Tests of sending: send handles, session sets, the in-memory @connections, and sender_delivery
// through the real fan-out sender to the fake @connections server on loopback.
#include "apigw/dispatch/delivery.hpp"

#include "apigw/dispatch/error.hpp"
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

  store_gone_sink sink(*store_);
  const std::string ids[] = {cid(1), cid(4)};
  ASSERT_TRUE(sink.mark_disconnected(ids));
  EXPECT_EQ(sink.marked(), 1U);
}

TEST_P(backend_test, sender_delivery_posts_through_the_management_api) {
  testing::connections_server fake;
  mgmt::sender sender;
  sender_delivery out(sender, *store_, fake.endpoint("/dev"));
  ASSERT_TRUE(store_->create_session(cid(1), 7, gateway_.id, std::vector<std::string>{"room"}));
  ASSERT_TRUE(store_->create_session(cid(2), 8, gateway_.id, std::vector<std::string>{"room"}));
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

TEST_P(backend_test, sender_delivery_replies_to_one_connection_without_the_store) {
  testing::connections_server fake;
  mgmt::sender sender;
  sender_delivery out(sender, *store_);
  ASSERT_TRUE(store_->create_session(cid(1), 7, gateway_.id));
  ASSERT_TRUE(store_->create_session(cid(2), 7, gateway_.id));
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

}  // namespace
}  // namespace apigw::dispatch::testing_support

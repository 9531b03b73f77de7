#include "apigw/mgmt/sender.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace apigw::mgmt {
namespace {

class never_called_sink final : public gone_sink {
 public:
  result<void> mark_disconnected(std::span<const std::string>) override {
    ++calls;
    return ok();
  }
  int calls = 0;
};

TEST(mgmt_sender, oversize_message_is_refused_before_reading_recipients) {
  struct counting_source final : recipient_source {
    int calls = 0;
    result<std::vector<recipient>> next_page() override {
      ++calls;
      return std::vector<recipient>{};
    }
  } source;
  never_called_sink sink;
  sender s;
  auto r = s.send_sync(source, std::string(k_max_message_bytes + 1, 'x'), &sink);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == condition::payload_too_large);
  EXPECT_TRUE(r.error() == error::payload_too_large);
  EXPECT_NE(r.error().message.find("131073 bytes"), std::string::npos) << r.error().message;
  EXPECT_EQ(source.calls, 0);
  EXPECT_EQ(sink.calls, 0);
}

TEST(mgmt_sender, empty_recipient_list_is_an_empty_report) {
  sender s;
  never_called_sink sink;
  auto r = s.send_sync(std::vector<recipient>{}, "m", &sink);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->recipients(), 0U);
  EXPECT_EQ(sink.calls, 0);
}

TEST(mgmt_sender, bad_recipients_fail_individually_without_a_request) {
  sender s;
  std::vector<recipient> rs{{"bad id", "http://127.0.0.1:1/dev"}, {"abc=", "not a url"}};
  auto r = s.send_sync(rs, "m");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->failed.size(), 2U);
  for (const auto& f : r->failed) EXPECT_TRUE(f.reason == condition::invalid_argument) << f.reason.message;
  EXPECT_EQ(r->retries, 0U);
}

// on_outcome sees every recorded outcome with the report so far (a progress display counts
// deliveries from it), and what it throws changes nothing.
TEST(mgmt_sender, on_outcome_is_called_after_each_recorded_outcome) {
  std::vector<std::size_t> seen;
  sender_options o;
  o.on_outcome = [&seen](const delivery_report& r) {
    seen.push_back(r.recipients());
    throw std::runtime_error("a display that fails");
  };
  sender s(std::move(o));
  std::vector<recipient> rs{{"bad id", "http://127.0.0.1:1/dev"}, {"abc=", "not a url"}, {"def=", "not a url"}};
  auto r = s.send_sync(rs, "m");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->failed.size(), 3U);
  EXPECT_EQ(seen, (std::vector<std::size_t>{1, 2, 3}));
}

// A reply's recipients are in memory: it is read on the send's strand, so a broadcast whose page
// query is slow (the blocking pool busy) does not hold the reply back.
TEST(mgmt_sender, recipients_in_memory_do_not_wait_for_the_blocking_pool) {
  struct stuck_source final : recipient_source {
    std::mutex mu;
    std::condition_variable cv;
    bool entered = false;
    bool released = false;
    result<std::vector<recipient>> next_page() override {
      std::unique_lock lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [this] { return released; });
      return std::vector<recipient>{};
    }
    void release() {
      std::lock_guard lock(mu);
      released = true;
      cv.notify_all();
    }
  } stuck;
  sender_options o;
  o.blocking_threads = 1;
  sender s(std::move(o));
  auto broadcast =
      boost::asio::co_spawn(s.executor(), s.send(stuck, std::string("to everyone")), boost::asio::use_future);
  {
    std::unique_lock lock(stuck.mu);
    ASSERT_TRUE(stuck.cv.wait_for(lock, std::chrono::seconds(10), [&] { return stuck.entered; }));
  }
  // The one blocking thread is taken by the broadcast's page query.
  auto reply = std::async(std::launch::async, [&s] {
    return s.send_sync(std::vector<recipient>{{"bad id", "http://127.0.0.1:1/dev"}}, "a reply");
  });
  const bool replied = reply.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  stuck.release();
  ASSERT_TRUE(replied) << "the reply waited for the broadcast's page query";
  auto r = reply.get();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->failed.size(), 1U);
  auto b = broadcast.get();
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->recipients(), 0U);
}

TEST(mgmt_vector_source, one_page_then_done) {
  vector_source src({{"a=", "http://h/dev"}, {"b=", "http://h/dev"}});
  auto first = src.next_page();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size(), 2U);
  auto second = src.next_page();
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->empty());
}

TEST(mgmt_signing_lookup, same_for_all_endpoints) {
  signing_config c;
  c.region = "eu-central-1";
  auto lookup = same_signing_for_all(c);
  EXPECT_EQ(lookup("https://a/dev").value().region, "eu-central-1");
  EXPECT_EQ(lookup("https://b/prod").value().region, "eu-central-1");
}

}  // namespace
}  // namespace apigw::mgmt

// Integration tests of the fan-out sender against fake @connections servers on loopback: a mixed
// 1,000-recipient fan-out, unreachable endpoints, oversize messages, several endpoints in one
// send, signing, and the concurrency bound.
#include "apigw/mgmt/sender.hpp"

#include "apigw/core/ids.hpp"
#include "support/connections_server.hpp"
#include "support/io_runner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <regex>
#include <set>

namespace apigw::mgmt {
namespace {

using namespace std::chrono_literals;
using testing::connections_server;
using testing::io_runner;
using testing::reply;

// recording_sink: remembers every mark_disconnected call.
class recording_sink final : public gone_sink {
 public:
  result<void> mark_disconnected(std::span<const std::string> ids) override {
    std::lock_guard lock(mu_);
    calls_.emplace_back(ids.begin(), ids.end());
    return ok();
  }
  std::vector<std::vector<std::string>> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::vector<std::string>> calls_;
};

// paged_source: serves recipients `page_size` at a time, counting calls.
class paged_source final : public recipient_source {
 public:
  paged_source(std::vector<recipient> all, std::size_t page_size) : all_(std::move(all)), page_size_(page_size) {}
  result<std::vector<recipient>> next_page() override {
    ++calls;
    std::vector<recipient> page;
    while (next_ < all_.size() && page.size() < page_size_) page.push_back(all_[next_++]);
    return page;
  }
  std::size_t calls = 0;

 private:
  std::vector<recipient> all_;
  std::size_t page_size_;
  std::size_t next_ = 0;
};

std::vector<std::string> make_ids(std::size_t n) {
  std::set<std::string> ids;
  while (ids.size() < n) ids.insert(new_connection_id().value());
  return {ids.begin(), ids.end()};
}

sender_options fast_retries() {
  sender_options o;
  o.retry.max_attempts = 3;
  o.retry.base_delay = 1ms;
  o.retry.max_delay = 4ms;
  o.pool.timeouts.read = 2000ms;
  o.io_threads = 2;
  return o;
}

TEST(mgmt_sender_fanout, fan_out_to_1000_with_gone_throttled_failing_and_dropped_recipients) {
  connections_server server(2);
  const auto ids = make_ids(1000);
  std::vector<recipient> all;
  std::set<std::string> expect_gone;
  std::set<std::string> expect_failed;
  std::set<std::string> throttled;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    all.push_back({ids[i], server.endpoint("/dev")});
    if (i % 10 == 0) {
      server.script(ids[i], {reply{410}});
      expect_gone.insert(ids[i]);
    } else if (i % 10 == 1) {
      server.script(ids[i], {reply{429}, reply{200}});
      throttled.insert(ids[i]);
    } else if (i % 10 == 2) {
      server.script(ids[i], {reply{500}});
      expect_failed.insert(ids[i]);
    } else if (i % 10 == 3 && i < 100) {
      server.script(ids[i], {reply{200, 0ms, true}});
      expect_failed.insert(ids[i]);
    }
  }
  server.set_record_bodies(false);
  sender s(fast_retries());
  recording_sink sink;
  paged_source source(all, 250);
  auto report = s.send_sync(source, std::string(R"({"type":"toast","message":"hi"})"), &sink);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(source.calls, 5U);  // four pages and the empty one
  EXPECT_EQ(report->recipients(), 1000U);
  EXPECT_EQ(report->delivered, 1000U - expect_gone.size() - expect_failed.size());
  EXPECT_EQ(std::set<std::string>(report->gone.begin(), report->gone.end()), expect_gone);
  // 429s retried once each; 500s and drops retried up to the limit (2 extra attempts).
  EXPECT_EQ(report->retries, throttled.size() + 2 * expect_failed.size());
  std::set<std::string> failed;
  for (const auto& f : report->failed) {
    failed.insert(f.connection_id);
    EXPECT_EQ(f.attempts, 3U);
    EXPECT_TRUE(f.reason == condition::server_error || f.reason == condition::network_error) << f.reason.message;
    EXPECT_FALSE(f.reason.message.empty());
  }
  EXPECT_EQ(failed, expect_failed);
  for (const auto& id : throttled) EXPECT_EQ(server.count_for(id), 2U) << id;
  for (const auto& id : expect_gone) EXPECT_EQ(server.count_for(id), 1U) << id;
  const auto calls = sink.calls();
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(std::set<std::string>(calls[0].begin(), calls[0].end()), expect_gone);
  EXPECT_EQ(calls[0].size(), expect_gone.size());
  EXPECT_FALSE(report->source_error);
  EXPECT_FALSE(report->gone_sink_error);
  EXPECT_GT(report->elapsed.count(), 0);
}

// A reply (one recipient in memory) is delivered without the page machinery: the same outcomes,
// retries and gone marking as in a fan-out.
TEST(mgmt_sender_fanout, one_recipient_sends_report_like_a_fan_out) {
  connections_server server(1);
  const auto ids = make_ids(3);
  server.script(ids[1], {reply{429}, reply{200}});
  server.script(ids[2], {reply{410}});
  sender s(fast_retries());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    recording_sink sink;
    auto report = s.send_sync(std::vector<recipient>{{ids[i], server.endpoint("/dev")}}, "a reply", &sink);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->recipients(), 1U) << i;
    EXPECT_EQ(report->delivered, i < 2 ? 1U : 0U) << i;
    EXPECT_EQ(report->retries, i == 1 ? 1U : 0U) << i;
    EXPECT_EQ(server.count_for(ids[i]), i == 1 ? 2U : 1U) << i;
    const auto calls = sink.calls();
    if (i == 2) {
      EXPECT_EQ(report->gone, std::vector<std::string>{ids[2]});
      ASSERT_EQ(calls.size(), 1U);
      EXPECT_EQ(calls[0], std::vector<std::string>{ids[2]});
    } else {
      EXPECT_TRUE(report->gone.empty()) << i;
      EXPECT_TRUE(calls.empty()) << i;
    }
  }
}

TEST(mgmt_sender_fanout, unreachable_endpoint_fails_every_recipient_with_a_reason) {
  std::uint16_t closed_port = 0;
  {
    connections_server probe;
    closed_port = probe.port();
  }
  sender s(fast_retries());
  recording_sink sink;
  std::vector<recipient> all;
  for (const auto& id : make_ids(50)) all.push_back({id, "http://127.0.0.1:" + std::to_string(closed_port) + "/dev"});
  auto report = s.send_sync(all, "hello", &sink);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->delivered, 0U);
  EXPECT_TRUE(report->gone.empty());
  ASSERT_EQ(report->failed.size(), 50U);
  for (const auto& f : report->failed) {
    EXPECT_TRUE(f.reason == condition::network_error) << f.reason.message;
    EXPECT_NE(f.reason.message.find("127.0.0.1"), std::string::npos) << f.reason.message;
  }
  EXPECT_TRUE(sink.calls().empty());
}

TEST(mgmt_sender_fanout, oversize_message_fails_before_any_request) {
  connections_server server;
  sender s(fast_retries());
  recording_sink sink;
  std::vector<recipient> all{{"L0SM9cOFvHcCIhw=", server.endpoint()}};
  auto report = s.send_sync(all, std::string(k_max_message_bytes + 1, 'x'), &sink);
  ASSERT_FALSE(report);
  EXPECT_TRUE(report.error() == condition::payload_too_large);
  EXPECT_NE(report.error().message.find("131073"), std::string::npos) << report.error().message;
  json::object big{{"m", std::string(k_max_message_bytes, 'x')}};
  vector_source source(all);
  io_runner io(1);
  auto from_json = io.run(s.send(source, big, &sink));
  ASSERT_FALSE(from_json);
  EXPECT_TRUE(from_json.error() == condition::payload_too_large);
  EXPECT_EQ(server.request_count(), 0U);
  EXPECT_TRUE(sink.calls().empty());
}

TEST(mgmt_sender_fanout, each_endpoint_gets_its_own_path_prefix) {
  connections_server a;
  connections_server b;
  const auto ids = make_ids(40);
  std::vector<recipient> all;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    all.push_back({ids[i], i % 2 == 0 ? a.endpoint("/dev") : b.endpoint("/base/v1")});
  }
  all.push_back({"bad id!", a.endpoint("/dev")});
  all.push_back({"L0SM9cOFvHcCIhw=", "ftp://nowhere/dev"});
  sender s(fast_retries());
  auto report = s.send_sync(all, "m");
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->delivered, 40U);
  ASSERT_EQ(report->failed.size(), 2U);
  for (const auto& f : report->failed) EXPECT_TRUE(f.reason == condition::invalid_argument) << f.reason.message;
  EXPECT_EQ(a.request_count(), 20U);
  EXPECT_EQ(b.request_count(), 20U);
  for (const auto& r : a.requests()) {
    EXPECT_EQ(r.base_path, "/dev");
    EXPECT_EQ(r.target, "/dev/@connections/" + encode_connection_id(r.connection_id));
  }
  for (const auto& r : b.requests()) EXPECT_EQ(r.base_path, "/base/v1");
}

TEST(mgmt_sender_fanout, signs_every_request_when_credentials_are_configured) {
  connections_server server;
  sender_options opts = fast_retries();
  opts.signing = [](std::string_view endpoint) -> result<signing_config> {
    signing_config c;
    c.credentials = sigv4::credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    c.region = endpoint.find("127.0.0.1") != std::string_view::npos ? "eu-west-1" : "us-east-1";
    return c;
  };
  sender s(opts);
  std::vector<recipient> all;
  for (const auto& id : make_ids(20)) all.push_back({id, server.endpoint()});
  auto report = s.send_sync(all, "signed");
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->delivered, 20U);
  const std::regex shape(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/[0-9]{8}/eu-west-1/execute-api/aws4_request, "
      "SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}");
  for (const auto& r : server.requests()) {
    auto auth = net::find_header(r.headers, "Authorization");
    ASSERT_TRUE(auth);
    EXPECT_TRUE(std::regex_match(std::string(*auth), shape)) << *auth;
  }
}

TEST(mgmt_sender_fanout, concurrency_stays_within_the_bound) {
  connections_server server(2);
  server.set_default(reply{200, 5ms});
  sender_options opts = fast_retries();
  opts.max_in_flight = 8;
  sender s(opts);
  std::vector<recipient> all;
  for (const auto& id : make_ids(200)) all.push_back({id, server.endpoint()});
  auto report = s.send_sync(all, "m");
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->delivered, 200U);
  EXPECT_LE(server.max_in_flight(), 8U);
  EXPECT_GE(server.max_in_flight(), 2U);  // it did run concurrently
  EXPECT_LE(server.connections_accepted(), 8U);
}

TEST(mgmt_sender_fanout, rate_cap_spaces_requests_and_injected_randomness_drives_backoff) {
  connections_server server;
  const auto ids = make_ids(30);
  for (const auto& id : ids) server.script(id, {reply{429}, reply{200}});
  sender_options opts = fast_retries();
  opts.max_requests_per_second = 200;  // 60 requests (30 + 30 retries) with a burst of 10
  opts.burst = 10;
  opts.retry.base_delay = 1000ms;  // would take seconds if the injected randomness were ignored
  opts.retry.max_delay = 1000ms;
  std::atomic<int> draws{0};
  opts.random = [&draws] {
    ++draws;
    return 0.0;
  };
  sender s(opts);
  std::vector<recipient> all;
  for (const auto& id : ids) all.push_back({id, server.endpoint()});
  auto report = s.send_sync(all, "m");
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->delivered, 30U);
  EXPECT_EQ(report->retries, 30U);
  EXPECT_EQ(draws.load(), 30);
  // The cap is a lower bound on the duration: (60 - 10) requests at 200/s need at least 250 ms.
  EXPECT_GE(report->elapsed, 240ms);
}

TEST(mgmt_sender_fanout, awaitable_send_on_the_callers_io_context) {
  connections_server server;
  io_runner io(2);
  sender s(io.executor(), fast_retries());
  std::vector<recipient> one{{"L0SM9cOFvHcCIhw=", server.endpoint()}};
  auto report = io.run(s.send(one, "solo"));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->delivered, 1U);
  EXPECT_EQ(server.requests().at(0).body, "solo");
}

TEST(mgmt_sender_fanout, failing_source_and_sink_are_reported_not_thrown) {
  connections_server server;
  server.script("L0SM9cOFvHcCIhw=", {reply{410}});
  struct failing_source final : recipient_source {
    std::string endpoint;
    int n = 0;
    result<std::vector<recipient>> next_page() override {
      if (n++ == 0) return std::vector<recipient>{{"L0SM9cOFvHcCIhw=", endpoint}};
      return failure{core::error::io_error, "database went away"};
    }
  } source;
  source.endpoint = server.endpoint();
  struct failing_sink final : gone_sink {
    result<void> mark_disconnected(std::span<const std::string>) override {
      return failure{core::error::io_error, "read-only database"};
    }
  } sink;
  auto options = fast_retries();
  options.source_retry.give_up_after = std::chrono::milliseconds{0};  // report the first failure as is
  sender s(options);
  auto report = s.send_sync(source, "m", &sink);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->gone, std::vector<std::string>{"L0SM9cOFvHcCIhw="});
  ASSERT_TRUE(report->source_error);
  EXPECT_EQ(report->source_error->message, "database went away");
  ASSERT_TRUE(report->gone_sink_error);
  EXPECT_EQ(report->gone_sink_error->message, "read-only database");
}

}  // namespace
}  // namespace apigw::mgmt

// faults_support.hpp: what the fault tests share: a recipient source that lets a test break the
// database between two pages, and checks that a broadcast reached everyone exactly once.
#pragma once

#include "apigw/dispatch/delivery.hpp"
#include "apigw/dispatch/sender_delivery.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/store/session_store.hpp"
#include "support/connections_server.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace apigw::faults {

// why: the failure message of `r` (empty on success), for assertion output.
template <class T>
std::string why(const result<T>& r) {
  return r ? std::string{} : r.error().message;
}

// cid: the connection id of the i-th seeded session, in AWS's shape (16 characters ending in '=').
inline std::string cid(std::size_t i) {
  return fmt::format("c{:014d}=", i);
}

// seed: `n` connected sessions (ids cid(0)..cid(n-1)) of one gateway whose management endpoint is
// `endpoint`.
inline void seed(store::session_store& s, std::size_t n, const std::string& endpoint) {
  store::gateway g;
  g.name = "faults";
  g.api_id = "faults0001";
  g.endpoint = endpoint;
  g.region = "us-east-1";
  g.stage = "dev";
  auto stored = s.upsert_gateway(g);
  ASSERT_TRUE(stored) << why(stored);
  for (std::size_t i = 0; i < n; ++i) {
    auto created = s.create_session(cid(i), std::nullopt, stored->id);
    ASSERT_TRUE(created) << why(created);
  }
}

// hooked_source: a store_recipients whose test hooks run before the n-th call of next_page (1 =
// the first page) and after each failed call: where a test stops, freezes or restarts the database
// "between pages". Runs on the sender's blocking thread.
class hooked_source final : public mgmt::recipient_source {
 public:
  hooked_source(store::session_store& s, std::size_t page_size)
      : inner_(s, store::session_query{}, std::nullopt, page_size) {}

  std::function<void(std::size_t call)> before;             // before the call-th call
  std::function<void(std::size_t failures)> after_failure;  // after the failures-th failed call

  result<std::vector<mgmt::recipient>> next_page() override {
    ++calls_;
    if (before) before(calls_);
    auto page = inner_.next_page();
    if (!page) {
      ++failures_;
      if (after_failure) after_failure(failures_);
    }
    return page;
  }
  std::size_t failures() const noexcept { return failures_; }

 private:
  dispatch::store_recipients inner_;
  std::size_t calls_ = 0;
  std::size_t failures_ = 0;
};

// expect_each_once: every one of the first `reached` seeded sessions got exactly one POST, the
// others none, and nothing else was posted.
inline void expect_each_once(const testing::connections_server& server, std::size_t seeded, std::size_t reached) {
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < seeded; ++i) {
    const std::size_t want = i < reached ? 1 : 0;
    if (server.count_for(cid(i)) != want && ++wrong <= 5) {
      ADD_FAILURE() << cid(i) << " got " << server.count_for(cid(i)) << " posts, expected " << want;
    }
  }
  EXPECT_EQ(wrong, 0U) << "sessions not reached exactly as expected";
  EXPECT_EQ(server.request_count(), reached) << "posts in total";
}

}  // namespace apigw::faults

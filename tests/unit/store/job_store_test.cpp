// The store suite, delivery jobs: pages cut by keyset under leases, an expired lease taken over
// with the same bounds, a lost claim that records nothing, counters that add each page once, and
// cancel; run unchanged against SQLite and PostgreSQL, with the manual clock for the leases.
#include "apigw/store/job_repository.hpp"

#include "store_fixture.hpp"

#include <fmt/format.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace apigw::store::testing_support {
namespace {

using namespace std::chrono_literals;

std::string conn(int i) {
  return fmt::format("job{:012d}=", i);
}

class job_store_test : public store_test {
 protected:
  // connect: sessions 0..n-1 connected, every third in channel "news".
  void connect(int n) {
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> channels;
      if (i % 3 == 0) channels.push_back("news");
      ASSERT_TRUE(store_->create_session(conn(i), i % 2 == 0 ? std::optional<user_id>{7} : std::nullopt, std::nullopt,
                                         channels));
    }
  }
  delivery_job create(job_target target, std::size_t page_size) {
    new_job j;
    j.target = std::move(target);
    j.message = R"({"type":"toast","apigw":{"id":"job-1"}})";
    j.message_id = "job-1";
    j.page_size = page_size;
    j.created_by = "test";
    auto r = store_->create_job(j);
    EXPECT_TRUE(r) << why(r);
    return r ? *r : delivery_job{};
  }
  static job_page_report delivered_all(const job_page_claim& c) {
    job_page_report r;
    r.counts.delivered = static_cast<std::int64_t>(c.recipients.size());
    return r;
  }
};

TEST_P(job_store_test, a_job_is_recorded_running_before_any_page) {
  auto j = create(job_target::in_channel("news"), 10);
  EXPECT_EQ(j.state, job_state::running);
  EXPECT_EQ(j.target, job_target::in_channel("news"));
  EXPECT_EQ(j.pages, 0);
  EXPECT_EQ(j.message_id, "job-1");
  EXPECT_EQ(j.created_by, "test");
  auto listed = store_->list_jobs(10);
  ASSERT_TRUE(listed) << why(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, j.id);
  EXPECT_EQ(store_->get_job(j.id + 100).error(), condition::not_found);
}

TEST_P(job_store_test, bad_jobs_are_refused) {
  new_job j;
  j.message = "";
  EXPECT_EQ(store_->create_job(j).error(), condition::invalid_argument);
  j.message = "{}";
  j.page_size = 0;
  EXPECT_EQ(store_->create_job(j).error(), condition::invalid_argument);
  j.page_size = 10;
  j.target = job_target::in_channel("");
  EXPECT_EQ(store_->create_job(j).error(), condition::invalid_argument);
}

TEST_P(job_store_test, pages_cover_every_recipient_once_and_finish_the_job) {
  connect(25);
  auto j = create(job_target::all(), 10);
  std::set<std::string> seen;
  std::vector<job_page_claim> claims;
  for (int i = 0; i < 3; ++i) {
    auto c = store_->claim_page("w1", 30s);
    ASSERT_TRUE(c) << why(c);
    ASSERT_TRUE(c->has_value());
    EXPECT_EQ((*c)->page, i + 1);
    EXPECT_EQ((*c)->attempt, 1);
    EXPECT_EQ((*c)->message, R"({"type":"toast","apigw":{"id":"job-1"}})");
    for (const auto& s : (*c)->recipients) EXPECT_TRUE(seen.insert(s.connection_id).second);
    claims.push_back(std::move(**c));
  }
  EXPECT_EQ(seen.size(), 25u);
  auto none = store_->claim_page("w1", 30s);
  ASSERT_TRUE(none) << why(none);
  EXPECT_FALSE(none->has_value());
  // Finished out of order: the cursor only passes finished pages.
  ASSERT_TRUE(*store_->finish_page(claims[1], delivered_all(claims[1])));
  auto mid = store_->get_job(j.id);
  ASSERT_TRUE(mid);
  EXPECT_EQ(mid->finished_through, 0);
  EXPECT_EQ(mid->state, job_state::running);
  ASSERT_TRUE(*store_->finish_page(claims[0], delivered_all(claims[0])));
  mid = store_->get_job(j.id);
  EXPECT_EQ(mid->finished_through, claims[1].last_id);
  ASSERT_TRUE(*store_->finish_page(claims[2], delivered_all(claims[2])));
  auto done = store_->get_job(j.id);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, job_state::done);
  EXPECT_EQ(done->counts.delivered, 25);
  EXPECT_EQ(done->pages, 3);
  EXPECT_EQ(done->pages_done, 3);
  EXPECT_EQ(done->finished_through, claims[2].last_id);
  auto pages = store_->job_pages(j.id);
  ASSERT_TRUE(pages) << why(pages);
  ASSERT_EQ(pages->size(), 3u);
  EXPECT_TRUE(pages->back().finished);
  EXPECT_EQ(pages->back().owner, "w1");
  EXPECT_EQ(pages->back().delivered, 5);
  EXPECT_EQ(store_->job_pages(j.id + 100).error(), condition::not_found);
  // Finishing again changes nothing.
  EXPECT_FALSE(*store_->finish_page(claims[2], delivered_all(claims[2])));
  EXPECT_EQ(store_->get_job(j.id)->counts.delivered, 25);
}

TEST_P(job_store_test, finished_jobs_are_deleted_with_their_pages_once_old_running_ones_never) {
  connect(5);
  auto done = create(job_target::all(), 10);
  auto c = store_->claim_page("w1", 30s);
  ASSERT_TRUE(c && c->has_value()) << why(c);
  ASSERT_TRUE(*store_->finish_page(**c, delivered_all(**c)));
  ASSERT_EQ(store_->get_job(done.id)->state, job_state::done);
  auto cancelled = create(job_target::in_channel("news"), 10);
  ASSERT_TRUE(*store_->cancel_job(cancelled.id));
  clock_.advance(2h);
  auto running = create(job_target::in_channel("news"), 10);  // new: nothing claimed yet
  auto old_running = store_->get_job(running.id);
  ASSERT_TRUE(old_running);

  auto none = store_->delete_finished_jobs(clock_.now() - 3h);
  ASSERT_TRUE(none) << why(none);
  EXPECT_EQ(*none, 0u) << "nothing ended before the cutoff";
  clock_.advance(24h);
  auto deleted = store_->delete_finished_jobs(clock_.now() - 1h);
  ASSERT_TRUE(deleted) << why(deleted);
  EXPECT_EQ(*deleted, 2u);
  EXPECT_EQ(store_->get_job(done.id).error(), condition::not_found);
  EXPECT_EQ(store_->job_pages(done.id).error(), condition::not_found);
  EXPECT_EQ(store_->get_job(cancelled.id).error(), condition::not_found);
  EXPECT_EQ(store_->get_job(running.id)->state, job_state::running) << "running jobs are never deleted";
}

TEST_P(job_store_test, a_job_with_no_recipients_is_done_at_the_first_claim) {
  connect(3);
  auto j = create(job_target::in_channel("empty"), 10);
  auto c = store_->claim_page("w1", 30s);
  ASSERT_TRUE(c) << why(c);
  EXPECT_FALSE(c->has_value());
  EXPECT_EQ(store_->get_job(j.id)->state, job_state::done);
}

TEST_P(job_store_test, channel_and_user_targets_choose_their_sessions) {
  connect(12);
  create(job_target::in_channel("news"), 100);
  auto c = store_->claim_page("w1", 30s);
  ASSERT_TRUE(c && c->has_value()) << why(c);
  EXPECT_EQ((*c)->recipients.size(), 4u);  // 0, 3, 6, 9
  ASSERT_TRUE(*store_->finish_page(**c, delivered_all(**c)));
  create(job_target::for_user(7), 100);
  c = store_->claim_page("w1", 30s);
  ASSERT_TRUE(c && c->has_value()) << why(c);
  EXPECT_EQ((*c)->recipients.size(), 6u);  // the even ones
}

TEST_P(job_store_test, an_expired_lease_is_taken_over_with_the_same_bounds) {
  connect(15);
  auto j = create(job_target::all(), 10);
  auto first = store_->claim_page("dead", 30s);
  ASSERT_TRUE(first && first->has_value()) << why(first);
  // Before expiry: the live worker gets the next page, not the held one.
  auto second = store_->claim_page("live", 30s);
  ASSERT_TRUE(second && second->has_value());
  EXPECT_EQ((*second)->page, 2);
  ASSERT_TRUE(*store_->finish_page(**second, delivered_all(**second)));
  auto nothing = store_->claim_page("live", 30s);
  ASSERT_TRUE(nothing);
  EXPECT_FALSE(nothing->has_value());

  clock_.advance(31s);
  auto taken = store_->claim_page("live", 30s);
  ASSERT_TRUE(taken && taken->has_value()) << why(taken);
  EXPECT_EQ((*taken)->page, 1);
  EXPECT_EQ((*taken)->attempt, 2);
  EXPECT_EQ((*taken)->after_id, (*first)->after_id);
  EXPECT_EQ((*taken)->last_id, (*first)->last_id);
  EXPECT_EQ((*taken)->recipients, (*first)->recipients);

  // The dead worker comes back: its claim is lost, its report is not counted, its renewal refused.
  EXPECT_FALSE(*store_->renew_lease(**first, 30s));
  EXPECT_FALSE(*store_->finish_page(**first, delivered_all(**first)));
  ASSERT_TRUE(*store_->finish_page(**taken, delivered_all(**taken)));
  auto done = store_->get_job(j.id);
  EXPECT_EQ(done->state, job_state::done);
  EXPECT_EQ(done->counts.delivered, 15);
}

TEST_P(job_store_test, a_renewed_lease_is_not_taken_over) {
  connect(5);
  create(job_target::all(), 10);
  auto held = store_->claim_page("slow", 30s);
  ASSERT_TRUE(held && held->has_value());
  clock_.advance(20s);
  ASSERT_TRUE(*store_->renew_lease(**held, 30s));
  clock_.advance(20s);
  auto other = store_->claim_page("other", 30s);
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->has_value());
}

TEST_P(job_store_test, a_page_abandoned_too_often_fails_its_job) {
  connect(5);
  auto j = create(job_target::all(), 10);
  for (int i = 0; i < 3; ++i) {
    auto c = store_->claim_page(fmt::format("w{}", i), 1s, 3);
    ASSERT_TRUE(c && c->has_value()) << why(c);
    clock_.advance(2s);
  }
  auto last = store_->claim_page("w9", 1s, 3);
  ASSERT_TRUE(last) << why(last);
  EXPECT_FALSE(last->has_value());
  auto failed = store_->get_job(j.id);
  EXPECT_EQ(failed->state, job_state::failed);
  EXPECT_NE(failed->error.find("abandoned 3 times"), std::string::npos) << failed->error;
}

TEST_P(job_store_test, cancel_stops_new_pages_and_keeps_the_report_of_pages_in_flight) {
  connect(25);
  auto j = create(job_target::all(), 10);
  auto c = store_->claim_page("w1", 30s);
  ASSERT_TRUE(c && c->has_value());
  EXPECT_TRUE(*store_->cancel_job(j.id));
  EXPECT_FALSE(*store_->cancel_job(j.id));
  EXPECT_EQ(store_->cancel_job(j.id + 100).error(), condition::not_found);
  auto none = store_->claim_page("w1", 30s);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  job_page_report r = delivered_all(**c);
  r.counts.delivered -= 1;
  r.counts.failed = 1;
  r.counts.too_large = 1;
  r.failures.push_back({(*c)->recipients.front().connection_id, "too large"});
  ASSERT_TRUE(*store_->finish_page(**c, r));
  auto cancelled = store_->get_job(j.id);
  EXPECT_EQ(cancelled->state, job_state::cancelled);
  EXPECT_EQ(cancelled->counts.recipients(), 10);
  EXPECT_EQ(cancelled->counts.too_large, 1);
  ASSERT_EQ(cancelled->failures.size(), 1u);
  EXPECT_EQ(cancelled->failures.front().reason, "too large");
}

TEST_P(job_store_test, sessions_that_disconnect_after_the_cut_are_left_out_on_a_retry) {
  connect(10);
  create(job_target::all(), 10);
  auto first = store_->claim_page("dead", 1s);
  ASSERT_TRUE(first && first->has_value());
  const std::string gone[] = {conn(4)};
  ASSERT_TRUE(store_->mark_disconnected(gone));
  clock_.advance(2s);
  auto again = store_->claim_page("live", 1s);
  ASSERT_TRUE(again && again->has_value());
  EXPECT_EQ((*again)->recipients.size(), 9u);
}

// Workers with stores of their own (as separate processes have) claim concurrently: every page goes
// to exactly one of them and every recipient is in exactly one page.
TEST_P(job_store_test, concurrent_claimers_never_share_a_page) {
  connect(200);
  auto j = create(job_target::all(), 7);
  constexpr int k_workers = 4;
  std::vector<std::vector<job_page_claim>> got(k_workers);
  std::vector<std::string> errors(k_workers);
  std::vector<std::thread> threads;
  for (int w = 0; w < k_workers; ++w) {
    threads.emplace_back([&, w] {
      auto own = open_store(url_, clock_, options());
      if (!own) {
        errors[w] = own.error().message;
        return;
      }
      for (int tries = 0; tries < 200; ++tries) {
        auto c = (*own)->claim_page(fmt::format("w{}", w), 30s);
        if (!c) {
          if (c.error() == condition::unavailable) continue;  // SQLite: busy; try again
          errors[w] = c.error().message;
          return;
        }
        if (!c->has_value()) {
          if (auto cur = (*own)->get_job(j.id); cur && cur->exhausted) return;
          continue;  // PostgreSQL: the job row was locked by another claimer (SKIP LOCKED)
        }
        if (auto f = (*own)->finish_page(**c, delivered_all(**c)); !f || !*f) {
          errors[w] = f ? "claim lost" : f.error().message;
          return;
        }
        got[w].push_back(std::move(**c));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::int64_t> pages;
  std::set<std::string> recipients;
  for (int w = 0; w < k_workers; ++w) {
    EXPECT_EQ(errors[w], "") << "worker " << w;
    for (const auto& c : got[w]) {
      EXPECT_TRUE(pages.insert(c.page).second) << "page " << c.page << " claimed twice";
      for (const auto& s : c.recipients) EXPECT_TRUE(recipients.insert(s.connection_id).second);
    }
  }
  EXPECT_EQ(recipients.size(), 200u);
  auto done = store_->get_job(j.id);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, job_state::done);
  EXPECT_EQ(done->counts.delivered, 200);
}

INSTANTIATE_TEST_SUITE_P(store, job_store_test, ::testing::Values(linked_provider()), provider_name);

}  // namespace
}  // namespace apigw::store::testing_support

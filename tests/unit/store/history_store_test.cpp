// The store suite, history part: offsets and epochs of channel history, reads for recovery,
// retention by count and by age, and concurrent appenders through separate connections, run
// unchanged against SQLite and PostgreSQL.
#include "apigw/store/history_repository.hpp"

#include "apigw/store/session_store.hpp"
#include "store_fixture.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

namespace apigw::store::testing_support {
namespace {

using namespace std::chrono_literals;

TEST(channel_matches, exact_prefix_and_everything) {
  EXPECT_TRUE(channel_matches("room:lobby", "room:lobby"));
  EXPECT_FALSE(channel_matches("room:lobby", "room:lobby2"));
  EXPECT_TRUE(channel_matches("room:*", "room:lobby"));
  EXPECT_TRUE(channel_matches("room:*", "room:"));
  EXPECT_FALSE(channel_matches("room:*", "task:1"));
  EXPECT_TRUE(channel_matches("*", "anything"));
  EXPECT_FALSE(channel_matches("", "x"));
}

TEST_P(store_test, history_offsets_increase_from_one_in_one_epoch_per_channel) {
  const history_retention keep{100, 0s};
  auto first = store_->append_history("room:a", R"({"n":1})", keep);
  ASSERT_TRUE(first) << why(first);
  EXPECT_EQ(first->offset, 1);
  EXPECT_EQ(first->epoch.size(), 16u);
  auto second = store_->append_history("room:a", R"({"n":2})", keep);
  ASSERT_TRUE(second) << why(second);
  EXPECT_EQ(second->offset, 2);
  EXPECT_EQ(second->epoch, first->epoch);
  auto other = store_->append_history("room:b", R"({"n":1})", keep);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->offset, 1);
  EXPECT_NE(other->epoch, first->epoch);

  auto page = store_->read_history("room:a", 0, 10, clock::time_point{});
  ASSERT_TRUE(page) << why(page);
  EXPECT_EQ(page->position.epoch, first->epoch);
  EXPECT_EQ(page->position.offset, 2);
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].offset, 1);
  EXPECT_EQ(page->entries[0].payload, R"({"n":1})");
  EXPECT_EQ(page->entries[1].offset, 2);
  EXPECT_EQ(page->entries[1].created_at, clock_.now());

  auto after = store_->read_history("room:a", 1, 10, clock::time_point{});
  ASSERT_TRUE(after);
  ASSERT_EQ(after->entries.size(), 1u);
  EXPECT_EQ(after->entries[0].offset, 2);

  auto channels = store_->history_channels();
  ASSERT_TRUE(channels);
  ASSERT_EQ(channels->size(), 2u);
  EXPECT_EQ((*channels)[0].first, "room:a");
  EXPECT_EQ((*channels)[1].second.offset, 1);
}

TEST_P(store_test, history_of_an_unknown_channel_is_not_found_and_bad_input_is_refused) {
  EXPECT_EQ(store_->read_history("nothing", 0, 10, clock::time_point{}).error(), condition::not_found);
  EXPECT_EQ(store_->history_position_of("nothing").error(), condition::not_found);
  EXPECT_EQ(store_->reset_history("nothing").error(), condition::not_found);
  EXPECT_EQ(store_->append_history("", "{}", {}).error(), condition::invalid_argument);
  EXPECT_EQ(store_->append_history("c", "{}", {0, 0s}).error(), condition::invalid_argument);
}

TEST_P(store_test, history_keeps_the_newest_messages_by_count) {
  const history_retention keep{3, 0s};
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(store_->append_history("c", fmt::format(R"({{"n":{}}})", i), keep));
  auto page = store_->read_history("c", 0, 100, clock::time_point{});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->position.offset, 10);
  ASSERT_EQ(page->entries.size(), 3u);
  EXPECT_EQ(page->entries.front().offset, 8);
  EXPECT_EQ(page->entries.back().offset, 10);
}

TEST_P(store_test, history_past_its_age_is_not_read_and_is_pruned) {
  const history_retention keep{100, 60s};
  ASSERT_TRUE(store_->append_history("c", R"({"n":1})", keep));
  clock_.advance(50s);
  ASSERT_TRUE(store_->append_history("c", R"({"n":2})", keep));
  clock_.advance(20s);
  // The first message is 70 s old now: reads skip it, prune deletes it.
  auto page = store_->read_history("c", 0, 100, clock_.now() - keep.max_age);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].offset, 2);
  auto pruned = store_->prune_history("*", keep);
  ASSERT_TRUE(pruned) << why(pruned);
  EXPECT_EQ(*pruned, 1u);
  auto all = store_->read_history("c", 0, 100, clock::time_point{});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->entries.size(), 1u);
  EXPECT_EQ(all->position.offset, 2);
}

TEST_P(store_test, history_prune_applies_to_matching_channels_only) {
  const history_retention wide{100, 0s};
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->append_history("room:a", "{}", wide));
    ASSERT_TRUE(store_->append_history("task:a", "{}", wide));
  }
  auto pruned = store_->prune_history("room:*", {2, 0s});
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 3u);
  EXPECT_EQ(store_->read_history("room:a", 0, 100, clock::time_point{})->entries.size(), 2u);
  EXPECT_EQ(store_->read_history("task:a", 0, 100, clock::time_point{})->entries.size(), 5u);
}

TEST_P(store_test, history_reset_starts_a_new_epoch_from_offset_one) {
  const history_retention keep{100, 0s};
  auto before = store_->append_history("c", "{}", keep);
  ASSERT_TRUE(before);
  auto reset = store_->reset_history("c");
  ASSERT_TRUE(reset) << why(reset);
  EXPECT_NE(reset->epoch, before->epoch);
  EXPECT_EQ(reset->offset, 0);
  EXPECT_TRUE(store_->read_history("c", 0, 100, clock::time_point{})->entries.empty());
  auto next = store_->append_history("c", "{}", keep);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->epoch, reset->epoch);
  EXPECT_EQ(next->offset, 1);
}

// Several stores on one database stand for several backend processes: each has its own
// connections, so only the database orders their appends.
TEST_P(store_test, concurrent_appenders_get_strictly_increasing_offsets_without_holes) {
  constexpr int k_writers = 4;
  constexpr int k_each = 40;
  const history_retention keep{10'000, 0s};
  std::vector<std::vector<std::int64_t>> seen(k_writers);
  std::vector<std::string> failures(k_writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < k_writers; ++w) {
    threads.emplace_back([&, w] {
      auto st = open_store(url_, clock_, options());
      if (!st) {
        failures[w] = st.error().message;
        return;
      }
      for (int i = 0; i < k_each; ++i) {
        auto at = (*st)->append_history("busy", fmt::format(R"({{"w":{},"i":{}}})", w, i), keep);
        if (!at) {
          failures[w] = at.error().message;
          return;
        }
        seen[w].push_back(at->offset);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::int64_t> all;
  for (int w = 0; w < k_writers; ++w) {
    ASSERT_EQ(failures[w], "");
    EXPECT_TRUE(std::is_sorted(seen[w].begin(), seen[w].end()));
    all.insert(seen[w].begin(), seen[w].end());
  }
  ASSERT_EQ(all.size(), std::size_t{k_writers * k_each});
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), k_writers * k_each);
  auto page = store_->read_history("busy", 0, 1000, clock::time_point{});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->entries.size(), std::size_t{k_writers * k_each});
  for (std::size_t i = 0; i < page->entries.size(); ++i) EXPECT_EQ(page->entries[i].offset, std::int64_t(i + 1));
}

}  // namespace
}  // namespace apigw::store::testing_support

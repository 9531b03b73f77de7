// The store suite: every behaviour of session_store, run unchanged against SQLite and PostgreSQL.
// (Just over 600 lines on purpose: one fixture, and each behaviour's cases next to each other.)
#include "apigw/store/session_store.hpp"

#include "store_fixture.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

namespace apigw::store::testing_support {
namespace {

using namespace std::chrono_literals;

// cid: a valid, AWS-shaped connection id for number n ("c0000000000042A=").
std::string cid(int n) {
  return fmt::format("c{:014d}=", n);
}

TEST_P(store_test, migrate_is_idempotent) {
  auto version = store_->schema_version();
  ASSERT_TRUE(version) << why(version);
  EXPECT_EQ(*version, k_schema_version);
  ASSERT_TRUE(store_->create_session(cid(1), 7, std::nullopt));

  auto again = store_->migrate();
  ASSERT_TRUE(again) << why(again);
  EXPECT_EQ(again->from_version, k_schema_version);
  EXPECT_EQ(again->to_version, k_schema_version);
  auto kept = store_->find_session(cid(1));
  ASSERT_TRUE(kept) << why(kept);
  EXPECT_EQ(kept->user, 7);
}

TEST_P(store_test, fresh_database_reports_version_zero_and_missing_schema) {
  auto opened = open_store(GetParam().fresh_url(), clock_);
  ASSERT_TRUE(opened) << why(opened);
  auto version = (*opened)->schema_version();
  ASSERT_TRUE(version) << why(version);
  EXPECT_EQ(*version, 0);
  auto found = (*opened)->find_session(cid(1));
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error(), error::schema_missing);
  EXPECT_EQ(found.error(), condition::unavailable);
  EXPECT_NE(found.error().message.find("migrate"), std::string::npos) << found.error().message;
}

TEST_P(store_test, newer_schema_is_refused) {
  detail::statement st{"INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, $3)",
                       {std::int64_t{k_schema_version + 1}, std::string{"from the future"}, std::int64_t{0}}};
  ASSERT_TRUE(sql().execute(st));
  auto m = store_->migrate();
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), error::schema_too_new);
  auto version = store_->schema_version();
  ASSERT_TRUE(version);
  EXPECT_EQ(*version, k_schema_version + 1);
}

TEST_P(store_test, create_session_records_everything) {
  const std::vector<std::string> channels{"general", "alerts"};
  auto s = store_->create_session(cid(1), 42, std::nullopt, channels);
  ASSERT_TRUE(s) << why(s);
  EXPECT_GT(s->id, 0);
  EXPECT_EQ(s->connection_id, cid(1));
  EXPECT_EQ(s->user, 42);
  EXPECT_FALSE(s->gateway);
  EXPECT_TRUE(s->connected);
  EXPECT_EQ(s->request_count, 1);
  EXPECT_EQ(s->created_at, clock_.now());
  EXPECT_EQ(s->updated_at, clock_.now());
  EXPECT_EQ(s->last_seen_at, clock_.now());

  auto by_id = store_->get_session(s->id);
  ASSERT_TRUE(by_id) << why(by_id);
  EXPECT_EQ(*by_id, *s);
  auto by_cid = store_->find_session(cid(1));
  ASSERT_TRUE(by_cid) << why(by_cid);
  EXPECT_EQ(*by_cid, *s);
  auto joined = store_->channels_of(cid(1));
  ASSERT_TRUE(joined) << why(joined);
  EXPECT_EQ(*joined, (std::vector<std::string>{"alerts", "general"}));

  auto anonymous = store_->create_session(cid(2), std::nullopt, std::nullopt);
  ASSERT_TRUE(anonymous) << why(anonymous);
  EXPECT_FALSE(anonymous->user);
  EXPECT_GT(anonymous->id, s->id);
}

TEST_P(store_test, duplicate_connection_id_conflicts_and_keeps_the_original) {
  const std::vector<std::string> first_channels{"a"};
  auto original = store_->create_session(cid(1), 1, std::nullopt, first_channels);
  ASSERT_TRUE(original) << why(original);

  clock_.advance(5s);
  const std::vector<std::string> second_channels{"b"};
  auto dup = store_->create_session(cid(1), 2, std::nullopt, second_channels);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error(), error::duplicate_connection_id);
  EXPECT_EQ(dup.error(), condition::conflict);
  EXPECT_NE(dup.error().message.find(cid(1)), std::string::npos) << dup.error().message;

  auto kept = store_->find_session(cid(1));
  ASSERT_TRUE(kept) << why(kept);
  EXPECT_EQ(*kept, *original);
  auto channels = store_->channels_of(cid(1));
  ASSERT_TRUE(channels);
  EXPECT_EQ(*channels, std::vector<std::string>{"a"});
}

TEST_P(store_test, malformed_input_is_refused) {
  auto bad_id = store_->create_session("has space", std::nullopt, std::nullopt);
  ASSERT_FALSE(bad_id);
  EXPECT_EQ(bad_id.error(), condition::invalid_argument);
  auto empty_id = store_->create_session("", std::nullopt, std::nullopt);
  ASSERT_FALSE(empty_id);
  EXPECT_EQ(empty_id.error(), condition::invalid_argument);

  const std::vector<std::string> bad_channels{"ok", std::string(k_max_channel_length + 1, 'x')};
  auto long_channel = store_->create_session(cid(1), std::nullopt, std::nullopt, bad_channels);
  ASSERT_FALSE(long_channel);
  EXPECT_EQ(long_channel.error(), condition::invalid_argument);
  EXPECT_EQ(store_->find_session(cid(1)).error(), condition::not_found);  // nothing half-created

  ASSERT_TRUE(store_->create_session(cid(1), std::nullopt, std::nullopt));
  EXPECT_EQ(store_->join_channel(cid(1), "").error(), condition::invalid_argument);
  EXPECT_EQ(store_->join_channel(cid(1), "\xff\xfe").error(), condition::invalid_argument);
}

TEST_P(store_test, unknown_sessions_are_not_found) {
  EXPECT_EQ(store_->get_session(12345).error(), condition::not_found);
  EXPECT_EQ(store_->find_session(cid(9)).error(), condition::not_found);
  EXPECT_EQ(store_->touch(cid(9)).error(), condition::not_found);
  EXPECT_EQ(store_->join_channel(cid(9), "x").error(), condition::not_found);
  EXPECT_EQ(store_->leave_channel(cid(9), "x").error(), condition::not_found);
  EXPECT_EQ(store_->channels_of(cid(9)).error(), condition::not_found);
}

TEST_P(store_test, touch_counts_requests_and_records_last_seen) {
  auto created = store_->create_session(cid(1), std::nullopt, std::nullopt);
  ASSERT_TRUE(created);
  const auto start = clock_.now();
  for (int i = 0; i < 3; ++i) {
    clock_.advance(1500ms);
    auto touched = store_->touch(cid(1));
    ASSERT_TRUE(touched) << why(touched);
    EXPECT_EQ(touched->request_count, 2 + i);
    EXPECT_EQ(touched->last_seen_at, clock_.now());
    EXPECT_EQ(touched->updated_at, start);  // activity is not a change of state
  }
  auto read = store_->find_session(cid(1));
  ASSERT_TRUE(read);
  EXPECT_EQ(read->request_count, 4);
}

TEST_P(store_test, join_and_leave_several_channels) {
  ASSERT_TRUE(store_->create_session(cid(1), std::nullopt, std::nullopt));
  ASSERT_TRUE(store_->create_session(cid(2), std::nullopt, std::nullopt));
  for (const char* ch : {"red", "green", "blue"}) {
    auto joined = store_->join_channel(cid(1), ch);
    ASSERT_TRUE(joined) << why(joined);
    EXPECT_TRUE(*joined);
  }
  auto again = store_->join_channel(cid(1), "green");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  ASSERT_TRUE(store_->join_channel(cid(2), "green"));

  EXPECT_EQ(*store_->channels_of(cid(1)), (std::vector<std::string>{"blue", "green", "red"}));
  EXPECT_EQ(*store_->count(session_query{}.in_channel("green")), 2);

  auto left = store_->leave_channel(cid(1), "green");
  ASSERT_TRUE(left) << why(left);
  EXPECT_TRUE(*left);
  auto not_member = store_->leave_channel(cid(1), "green");
  ASSERT_TRUE(not_member);
  EXPECT_FALSE(*not_member);
  EXPECT_EQ(*store_->channels_of(cid(1)), (std::vector<std::string>{"blue", "red"}));
  EXPECT_EQ(*store_->count(session_query{}.in_channel("green")), 1);
  EXPECT_EQ(*store_->channels_of(cid(2)), std::vector<std::string>{"green"});

  ASSERT_TRUE(store_->leave_channel(cid(1), "red"));
  ASSERT_TRUE(store_->leave_channel(cid(1), "blue"));
  auto none = store_->channels_of(cid(1));
  ASSERT_TRUE(none) << why(none);
  EXPECT_TRUE(none->empty());
}

// A small world with every combination of the filtered attributes, checked against a model.
struct model_session {
  session_id id;
  std::string connection_id;
  std::optional<user_id> user;
  std::optional<gateway_id> gateway;
  bool connected;
  std::set<std::string> channels;
};

bool matches(const model_session& m, const session_query& q) {
  if (q.id() && m.id != *q.id()) return false;
  if (q.connection_id() && m.connection_id != *q.connection_id()) return false;
  if (q.connected() && m.connected != *q.connected()) return false;
  if (q.channel() && m.channels.count(*q.channel()) == 0) return false;
  if (q.user() && m.user != q.user()) return false;
  if (q.gateway() && m.gateway != q.gateway()) return false;
  return true;
}

TEST_P(store_test, every_filter_combination_counts_and_pages_like_the_model) {
  gateway g1;
  g1.name = "one";
  gateway g2;
  g2.name = "two";
  auto gw1 = store_->upsert_gateway(g1);
  auto gw2 = store_->upsert_gateway(g2);
  ASSERT_TRUE(gw1 && gw2);
  const std::vector<std::optional<gateway_id>> gateways{std::nullopt, gw1->id, gw2->id};
  const std::vector<std::optional<user_id>> users{std::nullopt, 7, 8};
  const std::vector<std::vector<std::string>> channel_sets{{}, {"general"}, {"general", "ops"}, {"ops"}};

  std::vector<model_session> model;
  int n = 0;
  for (const auto& g : gateways) {
    for (const auto& u : users) {
      for (const auto& chs : channel_sets) {
        for (const bool connected : {true, false}) {
          auto s = store_->create_session(cid(++n), u, g, chs);
          ASSERT_TRUE(s) << why(s);
          model.push_back({s->id, s->connection_id, u, g, connected, {chs.begin(), chs.end()}});
        }
      }
    }
  }
  std::vector<std::string> gone;
  for (const auto& m : model) {
    if (!m.connected) gone.push_back(m.connection_id);
  }
  ASSERT_EQ(*store_->mark_disconnected(gone), gone.size());

  std::map<session_id, const model_session*> by_id;
  for (const auto& m : model) by_id[m.id] = &m;

  std::vector<session_query> queries;
  for (int mask = 0; mask < 32; ++mask) {
    session_query q;
    if (mask & 1) q = q.connected_only();
    if (mask & 2) q = q.in_channel("general");
    if (mask & 4) q = q.for_user(7);
    if (mask & 8) q = q.for_gateway(gw1->id);
    if (mask & 16) q = q.disconnected_only();  // overrides connected_only
    queries.push_back(q);
  }
  queries.push_back(session_query{}.in_channel("ops").for_gateway(gw2->id).connected_only());
  queries.push_back(session_query{}.in_channel("nobody"));
  queries.push_back(session_query{}.for_user(999));
  queries.push_back(session_query{}.by_id(model[5].id));
  queries.push_back(session_query{}.by_id(model[5].id).connected_only());
  queries.push_back(session_query{}.by_connection_id(model[6].connection_id));
  queries.push_back(session_query{}.by_connection_id(model[6].connection_id).in_channel("general"));

  for (const auto& q : queries) {
    std::vector<session_id> expected;
    for (const auto& m : model) {
      if (matches(m, q)) expected.push_back(m.id);
    }
    auto counted = store_->count(q);
    ASSERT_TRUE(counted) << why(counted);
    EXPECT_EQ(*counted, static_cast<std::int64_t>(expected.size())) << q.describe();

    std::vector<session_id> seen;
    auto visited = store_->for_each_page(q, 5, [&](std::span<const session> page) {
      for (const auto& s : page) {
        seen.push_back(s.id);
        EXPECT_TRUE(matches(*by_id.at(s.id), q)) << q.describe();
      }
      return true;
    });
    ASSERT_TRUE(visited) << why(visited);
    EXPECT_EQ(seen, expected) << q.describe();
  }
}

TEST_P(store_test, pages_of_a_thousand_return_each_session_once_in_id_order) {
  constexpr int k_sessions = 2500;
  const std::vector<std::string> channels{"big"};
  for (int i = 1; i <= k_sessions; ++i) {
    ASSERT_TRUE(store_->create_session(cid(i), i % 10, std::nullopt, channels));
  }
  for (const auto& q : {session_query{}, session_query{}.connected_only(), session_query{}.in_channel("big"),
                        session_query{}.in_channel("big").connected_only()}) {
    std::vector<session_id> ids;
    std::vector<std::size_t> sizes;
    session_id after = 0;
    for (;;) {
      auto page = store_->page(q, after, 1000);
      ASSERT_TRUE(page) << why(page);
      if (page->empty()) break;
      sizes.push_back(page->size());
      for (const auto& s : *page) ids.push_back(s.id);
      after = page->back().id;
    }
    EXPECT_EQ(sizes, (std::vector<std::size_t>{1000, 1000, 500})) << q.describe();
    ASSERT_EQ(ids.size(), static_cast<std::size_t>(k_sessions));
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    EXPECT_EQ(std::set<session_id>(ids.begin(), ids.end()).size(), ids.size());
  }

  std::size_t pages = 0;
  auto visited = store_->for_each_page(session_query{}, 1000, [&](std::span<const session>) { return ++pages < 2; });
  ASSERT_TRUE(visited);
  EXPECT_EQ(pages, 2u);
  EXPECT_EQ(*visited, 2000u);
  EXPECT_EQ(*store_->count(session_query{}.for_user(3)), k_sessions / 10);
}

TEST_P(store_test, newest_first_pages_run_down_from_the_latest_session) {
  const std::vector<std::string> channels{"room"};
  for (int i = 1; i <= 25; ++i) {
    ASSERT_TRUE(store_->create_session(cid(i), i % 3, std::nullopt, i % 2 ? channels : std::vector<std::string>{}));
  }
  for (const auto& base : {session_query{}, session_query{}.in_channel("room"), session_query{}.for_user(1)}) {
    const auto q = base.newest_first();
    std::vector<session_id> down;
    session_id cursor = 0;
    for (;;) {
      auto page = store_->page(q, cursor, 4);
      ASSERT_TRUE(page) << why(page);
      if (page->empty()) break;
      for (const auto& s : *page) down.push_back(s.id);
      cursor = page->back().id;
    }
    std::vector<session_id> up;
    ASSERT_TRUE(store_->for_each_page(base, 100, [&](std::span<const session> p) {
      for (const auto& s : p) up.push_back(s.id);
      return true;
    }));
    ASSERT_FALSE(up.empty());
    std::reverse(up.begin(), up.end());
    EXPECT_EQ(down, up) << q.describe();
    EXPECT_EQ(*store_->count(q), *store_->count(base)) << "newest_first is an order, not a filter";
  }
}

TEST_P(store_test, page_size_must_be_sane) {
  EXPECT_EQ(store_->page(session_query{}, 0, 0).error(), condition::invalid_argument);
  EXPECT_EQ(store_->page(session_query{}, 0, k_max_page_size + 1).error(), condition::invalid_argument);
  EXPECT_TRUE(store_->page(session_query{}, 0, k_max_page_size));
}

TEST_P(store_test, mark_disconnected_takes_a_thousand_ids_at_once) {
  std::vector<std::string> ids;
  for (int i = 1; i <= 1200; ++i) {
    ASSERT_TRUE(store_->create_session(cid(i), std::nullopt, std::nullopt));
    if (i <= 1000) ids.push_back(cid(i));
  }
  ids.push_back(cid(5000));  // unknown: ignored
  ids.push_back("no-such-id");
  clock_.advance(1min);
  auto changed = store_->mark_disconnected(ids);
  ASSERT_TRUE(changed) << why(changed);
  EXPECT_EQ(*changed, 1000u);
  EXPECT_EQ(*store_->count(session_query{}.connected_only()), 200);
  EXPECT_EQ(*store_->count(session_query{}.disconnected_only()), 1000);

  auto gone = store_->find_session(cid(10));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->connected);
  EXPECT_EQ(gone->updated_at, clock_.now());

  auto again = store_->mark_disconnected(ids);  // already disconnected: nothing changes
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
  EXPECT_EQ(*store_->mark_disconnected({}), 0u);

  const std::vector<std::string> odd{"with\"quote", "back\\slash", cid(1100)};
  auto odd_changed = store_->mark_disconnected(odd);
  ASSERT_TRUE(odd_changed) << why(odd_changed);
  EXPECT_EQ(*odd_changed, 1u);
}

TEST_P(store_test, mark_gone_spares_sessions_created_at_or_after_the_cutoff) {
  // The 410 rule: a session created less than the integration timeout before the send started
  // may still be in its $connect; only older ones are marked.
  EXPECT_EQ(&store_->time(), &clock_);
  ASSERT_TRUE(store_->create_session(cid(1), std::nullopt, std::nullopt));  // established long ago
  clock_.advance(40s);
  ASSERT_TRUE(store_->create_session(cid(2), std::nullopt, std::nullopt));  // 11 s before the cutoff
  clock_.advance(11s);
  const auto cutoff = clock_.now();
  ASSERT_TRUE(store_->create_session(cid(3), std::nullopt, std::nullopt));  // exactly at the cutoff
  clock_.advance(1s);
  ASSERT_TRUE(store_->create_session(cid(4), std::nullopt, std::nullopt));  // inside its connect window
  clock_.advance(5s);

  const std::vector<std::string> ids{cid(1), cid(2), cid(3), cid(4), cid(99)};
  auto changed = store_->mark_gone(ids, cutoff);
  ASSERT_TRUE(changed) << why(changed);
  EXPECT_EQ(*changed, 2u);
  EXPECT_FALSE(store_->find_session(cid(1))->connected);
  EXPECT_FALSE(store_->find_session(cid(2))->connected);
  EXPECT_EQ(store_->find_session(cid(2))->updated_at, clock_.now());
  EXPECT_TRUE(store_->find_session(cid(3))->connected);
  EXPECT_TRUE(store_->find_session(cid(4))->connected);
  EXPECT_EQ(*store_->mark_gone({}, cutoff), 0u);
  EXPECT_EQ(*store_->mark_gone(ids, cutoff), 0u);  // the old ones are already disconnected

  // Once its window has passed, a later send's 410 marks it.
  auto later = store_->mark_gone(ids, clock_.now());
  ASSERT_TRUE(later) << why(later);
  EXPECT_EQ(*later, 2u);
  EXPECT_EQ(*store_->count(session_query{}.connected_only()), 0);
}

TEST_P(store_test, delete_disconnected_older_than_keeps_recent_and_connected) {
  const std::vector<std::string> channels{"room"};
  for (int i = 1; i <= 6; ++i) ASSERT_TRUE(store_->create_session(cid(i), std::nullopt, std::nullopt, channels));
  const std::vector<std::string> early{cid(1), cid(2)};
  ASSERT_TRUE(store_->mark_disconnected(early));  // disconnected at T0
  clock_.advance(2h);
  const auto cutoff = clock_.now();
  clock_.advance(1h);
  const std::vector<std::string> late{cid(3)};
  ASSERT_TRUE(store_->mark_disconnected(late));  // disconnected at T0 + 3h

  auto deleted = store_->delete_disconnected_older_than(cutoff);
  ASSERT_TRUE(deleted) << why(deleted);
  EXPECT_EQ(*deleted, 2u);
  EXPECT_EQ(store_->find_session(cid(1)).error(), condition::not_found);
  EXPECT_EQ(store_->channels_of(cid(2)).error(), condition::not_found);
  EXPECT_TRUE(store_->find_session(cid(3)));                         // disconnected after the cutoff
  EXPECT_TRUE(store_->find_session(cid(4)));                         // old but still connected
  EXPECT_EQ(*store_->count(session_query{}.in_channel("room")), 4);  // memberships went with the sessions

  auto all = store_->delete_disconnected_older_than(clock_.now() + 1ms);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, 1u);
  EXPECT_EQ(*store_->count(session_query{}), 3);
}

TEST_P(store_test, delete_tokens_older_than) {
  for (int i = 0; i < 5; ++i) {
    detail::statement st{
        "INSERT INTO websocket_tokens (token_hash, user_id, session_key_hash, created_at) VALUES ($1, $2, $3, $4)",
        {fmt::format("hash{}", i), std::int64_t{1}, std::string{"sk"}, unix_millis(clock_.now())}};
    ASSERT_TRUE(sql().execute(st));
    clock_.advance(1min);
  }
  auto deleted = store_->delete_tokens_older_than(clock_.now() - 150s);  // made 5, 4 and 3 minutes ago
  ASSERT_TRUE(deleted) << why(deleted);
  EXPECT_EQ(*deleted, 3u);
  auto left = sql().execute({"SELECT COUNT(*) FROM websocket_tokens", {}});
  ASSERT_TRUE(left);
  EXPECT_EQ(detail::cell_int(*left, 0, 0), 2);
}

TEST_P(store_test, find_user_id_by_name) {
  detail::statement st{"INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3)",
                       {std::string{"alice"}, std::string{"x"}, unix_millis(clock_.now())}};
  ASSERT_TRUE(sql().execute(st));
  auto alice = store_->find_user_id("alice");
  ASSERT_TRUE(alice) << why(alice);
  EXPECT_GT(*alice, 0);
  auto nobody = store_->find_user_id("nobody");
  ASSERT_FALSE(nobody);
  EXPECT_TRUE(nobody.error() == condition::not_found);
  EXPECT_NE(nobody.error().message.find("nobody"), std::string::npos);
}

TEST_P(store_test, gateways_upsert_by_name) {
  gateway g;
  g.name = "chat";
  g.api_id = "abc123defg";
  g.endpoint = "http://127.0.0.1:4510/dev";
  g.region = "us-east-1";
  g.stage = "dev";
  g.target_base = "http://127.0.0.1:8000/ws/";
  auto inserted = store_->upsert_gateway(g);
  ASSERT_TRUE(inserted) << why(inserted);
  EXPECT_GT(inserted->id, 0);
  EXPECT_EQ(inserted->endpoint, g.endpoint);
  EXPECT_EQ(inserted->route_selection_expression, "$request.body.action");
  EXPECT_FALSE(inserted->api_created);
  EXPECT_EQ(inserted->created_at, clock_.now());

  clock_.advance(10s);
  g.api_created = true;
  g.deployment_id = "dep1";
  g.endpoint = "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev";
  auto updated = store_->upsert_gateway(g);
  ASSERT_TRUE(updated) << why(updated);
  EXPECT_EQ(updated->id, inserted->id);
  EXPECT_EQ(updated->created_at, inserted->created_at);
  EXPECT_EQ(updated->updated_at, clock_.now());
  EXPECT_TRUE(updated->api_created);
  EXPECT_EQ(updated->deployment_id, "dep1");
  EXPECT_EQ(updated->endpoint, g.endpoint);

  auto by_id = store_->get_gateway(inserted->id);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(*by_id, *updated);
  auto by_api = store_->find_gateway_by_api_id("abc123defg");
  ASSERT_TRUE(by_api);
  EXPECT_EQ(*by_api, *updated);

  gateway other;
  other.name = "notifications";
  ASSERT_TRUE(store_->upsert_gateway(other));
  auto all = store_->list_gateways();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "chat");
  EXPECT_EQ((*all)[1].name, "notifications");

  EXPECT_EQ(store_->get_gateway(999).error(), condition::not_found);
  EXPECT_EQ(store_->find_gateway_by_api_id("nope").error(), condition::not_found);
  EXPECT_EQ(store_->find_gateway_by_api_id("").error(), condition::invalid_argument);
  EXPECT_EQ(store_->upsert_gateway(gateway{}).error(), condition::invalid_argument);
}

TEST_P(store_test, gateway_routes_upsert_by_key_and_go_with_their_gateway) {
  gateway g;
  g.name = "chat";
  auto gw = store_->upsert_gateway(g);
  ASSERT_TRUE(gw) << why(gw);
  EXPECT_EQ(store_->find_gateway_by_name("chat")->id, gw->id);
  EXPECT_EQ(store_->find_gateway_by_name("nope").error(), condition::not_found);

  gateway_route r{.gateway = gw->id, .route_key = "$connect", .integration_url = "http://127.0.0.1:8000/ws/connect"};
  auto connect = store_->upsert_gateway_route(r);
  ASSERT_TRUE(connect) << why(connect);
  EXPECT_FALSE(connect->deployed);
  r.route_key = "chat";
  r.integration_url = "http://127.0.0.1:8000/ws/chat";
  ASSERT_TRUE(store_->upsert_gateway_route(r));
  r.integration_url = "http://127.0.0.1:9000/ws/chat";
  auto chat = store_->upsert_gateway_route(r);
  ASSERT_TRUE(chat) << why(chat);
  EXPECT_EQ(chat->integration_url, r.integration_url);

  auto marked = store_->mark_gateway_routes_deployed(gw->id);
  ASSERT_TRUE(marked) << why(marked);
  EXPECT_EQ(*marked, 2u);
  auto routes = store_->list_gateway_routes(gw->id);
  ASSERT_TRUE(routes) << why(routes);
  ASSERT_EQ(routes->size(), 2u);
  EXPECT_EQ((*routes)[0].route_key, "$connect");
  EXPECT_TRUE((*routes)[0].deployed);
  EXPECT_EQ((*routes)[1].integration_url, "http://127.0.0.1:9000/ws/chat");

  EXPECT_TRUE(*store_->delete_gateway_route(gw->id, "chat"));
  EXPECT_FALSE(*store_->delete_gateway_route(gw->id, "chat"));
  EXPECT_EQ(store_->upsert_gateway_route(gateway_route{.gateway = gw->id, .route_key = "x"}).error(),
            condition::invalid_argument);
  EXPECT_FALSE(store_->upsert_gateway_route(gateway_route{.gateway = 999, .route_key = "x", .integration_url = "u"}));

  EXPECT_TRUE(*store_->delete_gateway(gw->id));
  EXPECT_FALSE(*store_->delete_gateway(gw->id));
  EXPECT_TRUE(store_->list_gateway_routes(gw->id)->empty());
}

TEST_P(store_test, sessions_reference_existing_gateways_only) {
  gateway g;
  g.name = "main";
  auto gw = store_->upsert_gateway(g);
  ASSERT_TRUE(gw);
  auto s = store_->create_session(cid(1), std::nullopt, gw->id);
  ASSERT_TRUE(s) << why(s);
  EXPECT_EQ(s->gateway, gw->id);

  auto dangling = store_->create_session(cid(2), std::nullopt, gw->id + 100);
  ASSERT_FALSE(dangling);
  EXPECT_EQ(dangling.error(), error::constraint_violation);
  EXPECT_EQ(dangling.error(), condition::invalid_argument);
  EXPECT_EQ(store_->find_session(cid(2)).error(), condition::not_found);
}

TEST_P(store_test, is_safe_to_use_from_several_threads) {
  constexpr int k_threads = 4;
  constexpr int k_each = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_each; ++i) {
        const auto id = cid(t * 1000 + i);
        const std::vector<std::string> channels{fmt::format("t{}", t)};
        if (!store_->create_session(id, t, std::nullopt, channels)) ++failures;
        if (!store_->touch(id)) ++failures;
        if (!store_->join_channel(id, "all")) ++failures;
        if (!store_->count(session_query{}.in_channel("all").connected_only())) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*store_->count(session_query{}.in_channel("all")), k_threads * k_each);
  EXPECT_EQ(*store_->count(session_query{}.in_channel("t2").for_user(2)), k_each);
}

INSTANTIATE_TEST_SUITE_P(store, store_test, ::testing::Values(linked_provider()), provider_name);

}  // namespace
}  // namespace apigw::store::testing_support

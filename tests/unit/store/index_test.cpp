// Every statement the sender and the dispatcher run is served by an index. The test fills the
// tables with production-like volumes (100,000 sessions in 500 channels, 5% disconnected, 10,000
// tokens), runs ANALYZE, then EXPLAINs the store's own SQL (EXPLAIN QUERY PLAN in SQLite, EXPLAIN
// in PostgreSQL) and fails on any full scan of a session, channel or token table; for the hot
// statements it also names the index that must drive the plan, and for the sender's keyset pages
// it checks (SQLite) that rows come out of the index already in id order, with no sort step.
// The plans are printed, so `pg_store --gtest_filter='*index*'` shows the evidence.
#include "store/session_sql.hpp"

#include "store_fixture.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <iostream>

namespace apigw::store::testing_support {
namespace {

std::string plan_text(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += "    " + l + "\n";
  return text;
}

// full_scans: the plan lines that read a whole session, channel or token table. (Gateways are a
// handful of rows; scanning them is the right plan.)
std::vector<std::string> full_scans(detail::dialect d, const std::vector<std::string>& plan) {
  static const char* const sqlite_scans[] = {"SCAN s", "SCAN c", "SCAN websocket_sessions", "SCAN session_channels",
                                             "SCAN websocket_tokens"};
  static const char* const pg_scans[] = {"Seq Scan on websocket_sessions", "Seq Scan on session_channels",
                                         "Seq Scan on websocket_tokens"};
  std::vector<std::string> bad;
  for (const auto& line : plan) {
    if (d == detail::dialect::sqlite) {
      for (const char* scan : sqlite_scans) {
        const std::string_view l = line;
        if (l.starts_with(scan) && (l.size() == std::strlen(scan) || l[std::strlen(scan)] == ' ')) bad.push_back(line);
      }
    } else {
      for (const char* scan : pg_scans) {
        if (line.find(scan) != std::string::npos) bad.push_back(line);
      }
    }
  }
  return bad;
}

// The names of the unique index on websocket_sessions.connection_id.
const std::vector<std::string> k_connection_id_index{"sqlite_autoindex_websocket_sessions_1",
                                                     "websocket_sessions_connection_id_key"};

class index_test : public store_test {
 protected:
  void SetUp() override {
    store_test::SetUp();
    if (HasFatalFailure()) return;
    for (const char* name : {"main", "backup"}) {
      gateway g;
      g.name = name;
      g.api_id = fmt::format("{}api", name);
      auto gw = store_->upsert_gateway(g);
      ASSERT_TRUE(gw) << why(gw);
      gateways_.push_back(gw->id);
    }
    // Bulk rows in one statement each (the same SQL runs on both databases).
    const detail::statement seed[] = {
        {"INSERT INTO websocket_sessions (connection_id, user_id, connected, gateway_id, request_count, created_at, "
         "updated_at, last_seen_at) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
         "SELECT 'c' || i || '=', i % 5000, i % 20 <> 0, CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN CAST($1 AS BIGINT) "
         "ELSE CAST($2 AS BIGINT) END, 1, i, i, i FROM n",
         {gateways_[0], gateways_[1]}},
        {"INSERT INTO session_channels (session_id, channel, joined_at) SELECT id, 'room' || (id % 500), 0 FROM "
         "websocket_sessions",
         {}},
        {"INSERT INTO session_channels (session_id, channel, joined_at) SELECT id, 'everyone', 0 FROM "
         "websocket_sessions",
         {}},
        {"INSERT INTO websocket_tokens (token_hash, user_id, session_key_hash, created_at) WITH RECURSIVE n(i) AS "
         "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) SELECT 'h' || i, i % 100, 'k', i * 1000 FROM n",
         {}},
        {"ANALYZE", {}},
    };
    for (const auto& st : seed) {
      auto r = sql().execute(st);
      ASSERT_TRUE(r) << st.sql << ": " << why(r);
    }
  }

  // expect_indexed: EXPLAINs `st`, prints the plan, and fails on a full scan; when `via` is not
  // empty, on a plan that uses none of those indexes; when `ordered`, on a sort step (SQLite).
  void expect_indexed(const std::string& what, const detail::statement& st, const std::vector<std::string>& via = {},
                      bool ordered = false) {
    auto plan = sql().explain(st);
    ASSERT_TRUE(plan) << what << ": " << why(plan);
    std::cout << "[plan " << GetParam().name << "] " << what << "\n" << plan_text(*plan);
    EXPECT_TRUE(full_scans(sql().dialect(), *plan).empty()) << what << " scans a table:\n" << plan_text(*plan);
    if (!via.empty()) {
      const auto text = plan_text(*plan);
      const bool uses =
          std::any_of(via.begin(), via.end(), [&](const auto& index) { return text.find(index) != std::string::npos; });
      EXPECT_TRUE(uses) << what << " does not use " << via.front() << ":\n" << text;
    }
    if (ordered && sql().dialect() == detail::dialect::sqlite) {
      for (const auto& line : *plan) {
        EXPECT_EQ(line.find("TEMP B-TREE"), std::string::npos) << what << " sorts:\n" << plan_text(*plan);
      }
    }
  }

  std::vector<gateway_id> gateways_;
};

TEST_P(index_test, sender_queries_use_indexes) {
  const session_query connected = session_query{}.connected_only();
  const std::vector<std::string> by_channel{"session_channels_channel_idx"};
  expect_indexed("page: channel", detail::page_statement(connected.in_channel("room7"), 100, 1000), by_channel, true);
  expect_indexed("page: big channel", detail::page_statement(connected.in_channel("everyone"), 5000, 1000), by_channel,
                 true);
  expect_indexed("page: user", detail::page_statement(connected.for_user(42), 0, 1000), {"websocket_sessions_user_idx"},
                 true);
  expect_indexed("page: gateway", detail::page_statement(connected.for_gateway(gateways_[0]), 5000, 1000), {}, true);
  expect_indexed("page: broadcast", detail::page_statement(connected, 5000, 1000), {}, true);
  expect_indexed("page: channel of a user",
                 detail::page_statement(connected.in_channel("room7").for_user(42), 0, 1000));
  // The console's newest-first listing reads the same indexes backwards, without a sort.
  expect_indexed("page: newest first", detail::page_statement(session_query{}.newest_first(), 0, 50), {}, true);
  expect_indexed("page: newest first, next", detail::page_statement(session_query{}.newest_first(), 5000, 50), {},
                 true);
  expect_indexed("page: newest first in a channel",
                 detail::page_statement(connected.in_channel("room7").newest_first(), 100, 50), by_channel, true);
  expect_indexed("count: channel", detail::count_statement(connected.in_channel("room7")), by_channel);
  expect_indexed("count: user", detail::count_statement(connected.for_user(42)), {"websocket_sessions_user_idx"});

  // A fan-out's worth of gone connections. (With 1,000 ids out of these 100,000 rows PostgreSQL
  // rightly prefers one sequential pass to 1,000 index probes; see docs/design/store.md.)
  std::vector<std::string> gone;
  for (int i = 1; i <= 100; ++i) gone.push_back(fmt::format("c{}=", i * 37));
  expect_indexed("mark_disconnected", detail::mark_disconnected_statement(sql().dialect(), gone, 0),
                 k_connection_id_index);
  expect_indexed("mark_gone", detail::mark_disconnected_statement(sql().dialect(), gone, 0, 0), k_connection_id_index);
  expect_indexed("gateway by id", {std::string{detail::sql::gateway_by_id}, {gateways_[0]}});
}

TEST_P(index_test, dispatcher_queries_use_indexes) {
  const std::string c = "c4242=";
  expect_indexed("session by connection id", {std::string{detail::sql::session_by_connection_id}, {c}},
                 k_connection_id_index);
  expect_indexed("session by id", {std::string{detail::sql::session_by_id}, {std::int64_t{42}}});
  expect_indexed("touch", {std::string{detail::sql::touch}, {c, std::int64_t{0}}}, k_connection_id_index);
  expect_indexed("join channel", {std::string{detail::sql::join_channel}, {c, std::string{"x"}, std::int64_t{0}}},
                 k_connection_id_index);
  expect_indexed("leave channel", {std::string{detail::sql::leave_channel}, {c, std::string{"x"}}},
                 k_connection_id_index);
  expect_indexed("channels of", {std::string{detail::sql::channels_of}, {c}}, k_connection_id_index);
  expect_indexed("gateway by api id", {std::string{detail::sql::gateway_by_api_id}, {std::string{"mainapi"}}});
  expect_indexed("page: by connection id",
                 detail::page_statement(session_query{}.by_connection_id(c).connected_only(), 0, 10),
                 k_connection_id_index);
}

TEST_P(index_test, cleanup_queries_use_indexes) {
  expect_indexed("delete disconnected older than", {std::string{detail::sql::delete_disconnected}, {std::int64_t{500}}},
                 {"websocket_sessions_cleanup_idx"});
  expect_indexed("delete tokens older than", {std::string{detail::sql::delete_tokens}, {std::int64_t{300'000}}},
                 {"websocket_tokens_created_idx"});
}

INSTANTIATE_TEST_SUITE_P(store, index_test, ::testing::Values(linked_provider()), provider_name);

}  // namespace
}  // namespace apigw::store::testing_support

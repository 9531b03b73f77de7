#include "apigw/store/session_query.hpp"

#include "store/session_sql.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace apigw::store {
namespace {

TEST(session_query, builders_return_refined_copies) {
  const session_query base = session_query{}.connected_only();
  const auto general = base.in_channel("general").for_user(7).for_gateway(2);
  EXPECT_FALSE(base.channel());
  EXPECT_EQ(general.channel(), "general");
  EXPECT_EQ(general.user(), 7);
  EXPECT_EQ(general.gateway(), 2);
  EXPECT_EQ(general.connected(), true);
  EXPECT_EQ(base.disconnected_only().connected(), false);
  EXPECT_EQ(session_query{}.by_id(5).id(), 5);
  EXPECT_EQ(session_query{}.by_connection_id("abc=").connection_id(), "abc=");
  EXPECT_EQ(session_query{}, session_query{});
  EXPECT_NE(base, general);
}

TEST(session_query, describes_itself) {
  EXPECT_EQ(session_query{}.describe(), "all sessions");
  EXPECT_EQ(session_query{}.connected_only().in_channel("general").for_user(7).describe(),
            "connected, channel 'general', user 7");
  EXPECT_EQ(session_query{}.newest_first().describe(), "all sessions, newest first");
}

TEST(session_query, pages_by_keyset_on_the_driving_table) {
  const auto by_channel = detail::page_statement(session_query{}.in_channel("g").connected_only(), 10, 1000);
  EXPECT_NE(by_channel.sql.find("FROM session_channels c JOIN websocket_sessions s"), std::string::npos);
  EXPECT_NE(by_channel.sql.find("c.session_id > $2 ORDER BY c.session_id LIMIT $3"), std::string::npos)
      << by_channel.sql;
  ASSERT_EQ(by_channel.params.size(), 3u);
  EXPECT_EQ(std::get<std::string>(by_channel.params[0]), "g");

  const auto plain = detail::page_statement(session_query{}, 0, 5);
  EXPECT_NE(plain.sql.find("WHERE s.id > $1 ORDER BY s.id LIMIT $2"), std::string::npos) << plain.sql;

  const auto newest = detail::page_statement(session_query{}.newest_first(), 0, 5);
  EXPECT_NE(newest.sql.find("FROM websocket_sessions s WHERE s.id < $1 ORDER BY s.id DESC LIMIT $2"), std::string::npos)
      << newest.sql;
  EXPECT_EQ(std::get<std::int64_t>(newest.params[0]), std::numeric_limits<std::int64_t>::max()) << "from the top";
  const auto older = detail::page_statement(session_query{}.connected_only().newest_first(), 40, 5);
  EXPECT_NE(older.sql.find("WHERE s.connected = TRUE AND s.id < $1 ORDER BY s.id DESC LIMIT $2"), std::string::npos)
      << older.sql;

  const auto counted = detail::count_statement(session_query{}.for_user(3).connected_only());
  EXPECT_EQ(counted.sql, "SELECT COUNT(*) FROM websocket_sessions s WHERE s.user_id = $1 AND s.connected = TRUE");
}

TEST(session_query, connection_id_lists_are_escaped) {
  const std::vector<std::string> ids{"a=", "q\"uote", "b\\s"};
  EXPECT_EQ(detail::encode_pg_text_array(ids), R"({"a=","q\"uote","b\\s"})");
  EXPECT_EQ(detail::encode_json_string_array(ids), R"(["a=","q\"uote","b\\s"])");
  EXPECT_EQ(detail::encode_pg_text_array({}), "{}");
}

}  // namespace
}  // namespace apigw::store

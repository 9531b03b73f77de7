// The route rows `api apply` writes to the store (tables api_gateways / api_gateway_routes), run
// against SQLite (unit_store) and PostgreSQL (pg_store) like the rest of the store suite.
#include "apigw/store/session_store.hpp"

#include "store_fixture.hpp"

#include <string>
#include <vector>

namespace apigw::store::testing_support {
namespace {

using namespace std::chrono_literals;

// The route rows `api apply` writes (api_gateway_routes), as it writes them: a row per route key
// once AWS has the route (deployed=false, also after a change), all marked deployed after the
// deployment, one deleted when AWS deleted its route. Runs on SQLite (unit_store) and PostgreSQL
// (pg_store) alike.
TEST_P(store_test, gateway_route_rows_follow_apply) {
  gateway a;
  a.name = "chat";
  auto chat = store_->upsert_gateway(a);
  ASSERT_TRUE(chat) << why(chat);
  gateway b;
  b.name = "notifications";
  auto notes = store_->upsert_gateway(b);
  ASSERT_TRUE(notes) << why(notes);

  const auto t0 = clock_.now();
  // Listed by key: byte order on SQLite, and on the test PostgreSQL server (initdb --locale=C). A
  // server with a language collation (en_US) orders by ORDER BY route_key differently ('$' ignored).
  for (const char* key : {"chat", "$disconnect", "Join", "$connect", "$default"}) {
    auto r =
        store_->upsert_gateway_route(gateway_route{.gateway = chat->id,
                                                   .name = std::string("n-") + key,
                                                   .route_key = key,
                                                   .integration_url = std::string("http://127.0.0.1:8000/ws/") + key});
    ASSERT_TRUE(r) << why(r);
    EXPECT_FALSE(r->deployed);
    EXPECT_EQ(r->created_at, t0);
    EXPECT_EQ(r->updated_at, t0);
  }
  ASSERT_TRUE(store_->upsert_gateway_route(
      gateway_route{.gateway = notes->id, .route_key = "$connect", .integration_url = "http://other/connect"}));

  auto listed = store_->list_gateway_routes(chat->id);
  ASSERT_TRUE(listed) << why(listed);
  std::vector<std::string> keys;
  for (const auto& r : *listed) keys.push_back(r.route_key);
  EXPECT_EQ(keys, (std::vector<std::string>{"$connect", "$default", "$disconnect", "Join", "chat"}));
  EXPECT_EQ((*listed)[4].name, "n-chat");
  EXPECT_EQ((*listed)[4].gateway, chat->id);

  // The deployment marks every row of that gateway once; the other gateway's row is untouched.
  clock_.advance(5s);
  auto marked = store_->mark_gateway_routes_deployed(chat->id);
  ASSERT_TRUE(marked) << why(marked);
  EXPECT_EQ(*marked, 5u);
  EXPECT_EQ(*store_->mark_gateway_routes_deployed(chat->id), 0u);
  EXPECT_FALSE(store_->list_gateway_routes(notes->id)->front().deployed);

  // A changed route is written again, not deployed: the key keeps its row (id, created_at).
  clock_.advance(5s);
  auto changed = store_->upsert_gateway_route(gateway_route{.gateway = chat->id,
                                                            .name = "chat room",
                                                            .route_key = "chat",
                                                            .integration_url = "http://127.0.0.1:9000/ws/chat"});
  ASSERT_TRUE(changed) << why(changed);
  EXPECT_EQ(changed->id, (*listed)[4].id);
  EXPECT_EQ(changed->created_at, t0);
  EXPECT_EQ(changed->updated_at, clock_.now());
  EXPECT_FALSE(changed->deployed);
  EXPECT_EQ(changed->name, "chat room");
  auto again = store_->list_gateway_routes(chat->id);
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)[0].deployed);
  EXPECT_EQ((*again)[4], *changed);

  // Deleting a route key touches that gateway only; deleting a gateway takes its rows with it.
  EXPECT_TRUE(*store_->delete_gateway_route(chat->id, "$connect"));
  EXPECT_EQ(store_->list_gateway_routes(chat->id)->size(), 4u);
  EXPECT_EQ(store_->list_gateway_routes(notes->id)->size(), 1u);
  EXPECT_TRUE(*store_->delete_gateway(chat->id));
  EXPECT_TRUE(store_->list_gateway_routes(chat->id)->empty());
  EXPECT_EQ(store_->list_gateway_routes(notes->id)->size(), 1u);
}

}  // namespace
}  // namespace apigw::store::testing_support

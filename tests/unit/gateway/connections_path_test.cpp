// Unit tests of @connections request-target parsing (spec §5.1).
#include "apigw/gateway/connections_path.hpp"

#include "apigw/gateway/error.hpp"

#include <gtest/gtest.h>

namespace apigw::gateway {
namespace {

TEST(ConnectionsPath, StageAndEncodedId) {
  auto t = parse_connections_path("/dev/@connections/R1kmxc2VNjMCFIA%3D");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->stage, "dev");
  EXPECT_EQ(t->connection_id, "R1kmxc2VNjMCFIA=");
}

TEST(ConnectionsPath, PercentEncodedAtSignAndQueryIgnored) {
  auto t = parse_connections_path("/prod/%40connections/e_d2EewNLPECIGw%3d?x=1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->stage, "prod");
  EXPECT_EQ(t->connection_id, "e_d2EewNLPECIGw=");
}

TEST(ConnectionsPath, DecodedOnceOnly) {
  // "%253D" decodes to "%3D", which is not a connection id: a double-encoding client gets 410.
  auto t = parse_connections_path("/dev/@connections/abc%253D");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), error::connection_gone);
}

TEST(ConnectionsPath, RawEqualsSignAccepted) {
  auto t = parse_connections_path("/dev/@connections/JC1dgf9yoAMCK-g=");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->connection_id, "JC1dgf9yoAMCK-g=");
}

TEST(ConnectionsPath, NoStage) {
  auto t = parse_connections_path("/@connections/JC1dgf9yoAMCK-g%3D");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->stage, "");
}

TEST(ConnectionsPath, MalformedIdsAreGone) {
  for (std::string_view target :
       {"/dev/@connections/", "/dev/@connections/bad%2", "/dev/@connections/a%20b", "/dev/@connections/%ZZ"}) {
    auto t = parse_connections_path(target);
    ASSERT_FALSE(t) << target;
    EXPECT_EQ(t.error(), error::connection_gone) << target;
  }
}

TEST(ConnectionsPath, OtherPathsAreNotOurs) {
  for (std::string_view target : {"/", "/dev", "/dev/connections/x", "/dev/@connections", "/a/b/@connections/x",
                                  "/dev/@connections/x/extra", "dev/@connections/x", "/dev/@Connections/x"}) {
    auto t = parse_connections_path(target);
    ASSERT_FALSE(t) << target;
    EXPECT_EQ(t.error(), error::not_connections_path) << target;
  }
}

TEST(ConnectionsPath, PercentDecode) {
  EXPECT_EQ(percent_decode("a%2Fb+c"), "a/b+c");
  EXPECT_EQ(percent_decode("%"), std::nullopt);
  EXPECT_EQ(percent_decode("%4"), std::nullopt);
  EXPECT_EQ(percent_decode("%g0"), std::nullopt);
}

}  // namespace
}  // namespace apigw::gateway

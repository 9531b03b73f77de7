// Unit tests of the served configuration: stage lookup, snapshots that outlive a control-plane
// change, a connection's routes following the live configuration, and the state file (written
// on a change, read back by the next gateway, refused and left alone when unusable).
#include "gateway/served_config.hpp"

#include "apigw/gateway/error.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace apigw::gateway::detail {
namespace {

const clock::time_point k_now{std::chrono::seconds{1'741'168'800}};

struct scratch {
  scratch() : dir(std::filesystem::temp_directory_path() / ("apigw-served-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~scratch() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
};

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(ServedConfig, StagesAreFoundByName) {
  std::vector<std::string> lines;
  logging::logger log([&](std::string_view l) { lines.emplace_back(l); });
  served_config served(default_dev_config(), {}, log);
  auto dev = served.stage("dev");
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->api->id, "devapi0001");
  EXPECT_EQ(dev->stage->name, "dev");
  EXPECT_FALSE(served.stage("production"));
  EXPECT_FALSE(served.stage(""));
}

TEST(ServedConfig, ASnapshotOutlivesTheStageItServed) {
  logging::logger log;
  served_config served(default_dev_config(), {}, log);
  const auto at_connect = *served.stage("dev");
  auto r = served.control_plane_call("DELETE", "/v2/apis/devapi0001/stages/dev", "", k_now);
  ASSERT_EQ(r.status, 204U) << r.body;
  EXPECT_FALSE(served.stage("dev")) << "a deleted stage is still served";
  // A connection made before keeps its API and stage: still readable, and what latest() gives.
  const auto now = served.latest(at_connect);
  EXPECT_EQ(now.keep, at_connect.keep);
  EXPECT_EQ(now.stage->name, "dev");
  EXPECT_NE(now.api->find_route("$default"), nullptr);
}

TEST(ServedConfig, LatestFollowsTheLiveConfiguration) {
  logging::logger log;
  served_config served(default_dev_config(), {}, log);
  const auto at_connect = *served.stage("dev");
  ASSERT_EQ(at_connect.api->find_route("sendmessage"), nullptr);
  const auto integration = at_connect.api->integration_of(*at_connect.api->find_route("$default"));
  ASSERT_NE(integration, nullptr);
  auto r = served.control_plane_call("POST", "/v2/apis/devapi0001/routes",
                                     R"({"routeKey":"sendmessage","target":"integrations/)" + integration->id + R"("})",
                                     k_now);
  ASSERT_EQ(r.status, 201U) << r.body;
  const auto now = served.latest(at_connect);
  EXPECT_NE(now.keep, at_connect.keep);
  EXPECT_NE(now.api->find_route("sendmessage"), nullptr) << "a route added since the connect is not used";
  EXPECT_EQ(at_connect.api->find_route("sendmessage"), nullptr) << "the old snapshot changed";
}

TEST(ServedConfig, TheStateFileCarriesChangesToTheNextGateway) {
  scratch s;
  const auto file = s.dir / "state.json";
  logging::logger log;
  {
    served_config served(default_dev_config(), file, log);
    ASSERT_TRUE(served.load_state());
    EXPECT_TRUE(std::filesystem::exists(file)) << "a missing state file is written at start";
    auto r = served.control_plane_call("POST", "/v2/apis/devapi0001/stages", R"({"stageName":"live"})", k_now);
    ASSERT_EQ(r.status, 201U) << r.body;
    const auto saved = read_all(file);
    served.control_plane_call("GET", "/v2/apis", "", k_now);
    EXPECT_EQ(read_all(file), saved);
  }
  served_config next(default_dev_config(), file, log);
  EXPECT_FALSE(next.stage("live")) << "served before the state file is loaded";
  ASSERT_TRUE(next.load_state());
  EXPECT_TRUE(next.stage("live"));
  EXPECT_TRUE(next.stage("dev"));
}

TEST(ServedConfig, AnUnusableStateFileIsRefusedAndLeftAlone) {
  scratch s;
  const auto file = s.dir / "state.json";
  {
    std::ofstream out(file);
    out << "{not json";
  }
  std::vector<std::string> lines;
  logging::logger log([&](std::string_view l) { lines.emplace_back(l); });
  served_config served(default_dev_config(), file, log);
  auto r = served.load_state();
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::invalid_config) << r.error().message;
  EXPECT_NE(r.error().message.find("is not usable"), std::string::npos) << r.error().message;
  EXPECT_EQ(read_all(file), "{not json");
  EXPECT_TRUE(served.stage("dev")) << "the configuration given is still served";
}

}  // namespace
}  // namespace apigw::gateway::detail

// Runs the store suite against PostgreSQL: one throwaway server for the whole executable (started
// by pg_environment before the first test, stopped after the last), a new database per test.
#include "store_fixture.hpp"
#include "support/pg_server.hpp"

#include <fmt/format.h>

#include <atomic>

namespace apigw::store::testing_support {
namespace {

std::string fresh_pg_url() {
  static std::atomic<int> counter{0};
  auto url = test::pg_environment::server().create_database(fmt::format("store{}", ++counter));
  EXPECT_TRUE(url) << why(url);
  return url ? *url : std::string{};
}

[[maybe_unused]] ::testing::Environment* const k_server = ::testing::AddGlobalTestEnvironment(new test::pg_environment);

}  // namespace

const database_provider& linked_provider() {
  static constexpr database_provider k_pg{"pg", &fresh_pg_url};
  return k_pg;
}

}  // namespace apigw::store::testing_support

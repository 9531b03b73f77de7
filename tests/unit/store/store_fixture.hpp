// store_fixture.hpp: the fixture of the store suite that runs against both databases.
//
// The suite's tests are TEST_P(store_test, ...) over a `database_provider`. Each executable links
// one provider file that defines `linked_provider()`: sqlite_provider.cpp (executable unit_store,
// a file in a temp dir per test) or pg_provider.cpp (executable pg_store, a database per test on a
// throwaway server). Test names end in the provider: "store/store_test.touch_counts_requests/sqlite".
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/store/session_store.hpp"
#include "store/sql_store.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace apigw::store::testing_support {

// database_provider: where a test's fresh database comes from.
struct database_provider {
  const char* name;
  // fresh_url: the URL of a new, empty database.
  std::string (*fresh_url)();
};

inline void PrintTo(const database_provider& p, std::ostream* os) {
  *os << p.name;
}

// linked_provider: the provider of this executable (defined by the provider file it links).
const database_provider& linked_provider();

// provider_name: names each instantiated test after its provider.
inline std::string provider_name(const ::testing::TestParamInfo<database_provider>& info) {
  return info.param.name;
}

// why: the failure message of `r` (empty on success), for assertion output.
template <class T>
std::string why(const result<T>& r) {
  return r ? std::string{} : r.error().message;
}

class store_test : public ::testing::TestWithParam<database_provider> {
 protected:
  void SetUp() override {
    url_ = GetParam().fresh_url();
    auto opened = open_store(url_, clock_, options());
    ASSERT_TRUE(opened) << why(opened);
    store_ = std::move(*opened);
    auto migrated = store_->migrate();
    ASSERT_TRUE(migrated) << why(migrated);
  }

  virtual store_options options() const { return {}; }

  // sql: the SQL implementation behind store_, for EXPLAIN and for seeding tables the API does not
  // write.
  detail::sql_store& sql() { return dynamic_cast<detail::sql_store&>(*store_); }

  manual_clock clock_;
  std::string url_;
  std::unique_ptr<session_store> store_;
};

}  // namespace apigw::store::testing_support

// Runs the store suite against SQLite: each test gets a new database file in a per-process
// temporary directory, removed when the process exits.
#include "store_fixture.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

namespace apigw::store::testing_support {
namespace {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "apigw-store-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

std::string fresh_sqlite_url() {
  static temp_dir dir;
  static std::atomic<int> counter{0};
  return (dir.path / fmt::format("store{}.db", ++counter)).string();
}

}  // namespace

const database_provider& linked_provider() {
  static constexpr database_provider k_sqlite{"sqlite", &fresh_sqlite_url};
  return k_sqlite;
}

}  // namespace apigw::store::testing_support

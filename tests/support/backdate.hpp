// tests/support/backdate.hpp: moves every session of a SQLite session store back in time, for
// end-to-end tests of the real CLI binary (which stamps sessions with the real clock). A 410
// marks only sessions older than the connect window (docs/design/dispatch.md), so tests of
// gone-handling make their sessions "established" this way.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace apigw::testing {

inline void backdate_sessions(const std::string& sqlite_path, std::chrono::milliseconds by) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(sqlite_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("backdate_sessions: cannot open " + sqlite_path);
  }
  const std::string sql = "UPDATE websocket_sessions SET created_at = created_at - " + std::to_string(by.count());
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string message = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("backdate_sessions: " + message);
}

}  // namespace apigw::testing

// store/sqlite_database.hpp (private): the SQLite driver. One connection in WAL mode behind a
// mutex, with a busy timeout, foreign keys on and a prepared-statement cache; checkpoints of the
// write-ahead log run on a thread with a connection of its own (store/sqlite_checkpointer.hpp).
#pragma once

#include "store/database.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace apigw::store::detail {

// open_sqlite: opens (creating if needed) the database file at `path` (":memory:" for a private
// in-memory database). Fails with database_error when the file cannot be opened, busy when it is
// locked while switching to WAL.
result<std::unique_ptr<database>> open_sqlite(const std::string& path, std::chrono::milliseconds busy_timeout);

}  // namespace apigw::store::detail

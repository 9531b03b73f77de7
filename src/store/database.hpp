// store/database.hpp (private): the small driver interface the SQL store runs on. A `database`
// hands out exclusive `lease`s on `connection`s; a connection runs one SQL statement at a time with
// positional parameters written `$1`, `$2`... in both dialects, and returns the rows as text.
//
// Two drivers implement it: sqlite_database (one connection behind a mutex) and pg_database (a
// small pool of libpq connections). Everything above this interface is shared, which is how the two
// stores keep one schema and one behaviour.
#pragma once

#include "apigw/core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace apigw::store::detail {

// dialect: which SQL the statements must be written in where the two differ.
enum class dialect { sqlite, postgresql };

// param: one statement parameter. Strings are owned so a statement can outlive its inputs.
using param = std::variant<std::nullptr_t, std::int64_t, bool, std::string>;

// rows: the result of one statement. Cells are text (NULL is an empty optional); integers are
// decimal, booleans "1"/"0" (SQLite) or "t"/"f" (PostgreSQL). `affected` is the number of rows a
// data-changing statement inserted, updated or deleted.
struct rows {
  std::size_t columns = 0;
  std::vector<std::optional<std::string>> cells;
  std::int64_t affected = 0;

  std::size_t size() const noexcept { return columns == 0 ? 0 : cells.size() / columns; }
  bool empty() const noexcept { return size() == 0; }
  const std::optional<std::string>& at(std::size_t row, std::size_t column) const {
    return cells[row * columns + column];
  }
};

// Cell readers. A NULL or malformed cell reads as 0 / false / "" (the schema rules those out for
// the columns read this way); the optional forms keep NULL apart.
std::int64_t cell_int(const rows& r, std::size_t row, std::size_t column);
std::optional<std::int64_t> cell_opt_int(const rows& r, std::size_t row, std::size_t column);
bool cell_bool(const rows& r, std::size_t row, std::size_t column);
std::string cell_text(const rows& r, std::size_t row, std::size_t column);

// connection: one database connection, used by one thread at a time (see database::lease).
class connection {
 public:
  virtual ~connection() = default;
  // exec: runs one statement with parameters through the prepared-statement cache. Fails with a
  // store::error that names the database and the cause.
  virtual result<rows> exec(std::string_view sql, std::span<const param> params) = 0;
  // run: runs one statement without caching it (DDL, transaction control, EXPLAIN).
  virtual result<rows> run(std::string_view sql, std::span<const param> params) = 0;
  // begin: starts a transaction that will write (SQLite takes the write lock now, so a busy
  // database fails here rather than halfway through).
  virtual result<void> begin() = 0;
  result<void> commit();
  // rollback: ends the current transaction, discarding it; never fails (a broken connection is
  // dropped by its database instead).
  void rollback() noexcept;
};

// database: a source of connections.
class database {
 public:
  // lease: exclusive use of one connection until destroyed.
  class lease {
   public:
    lease(database& owner, connection& c) noexcept : owner_(&owner), connection_(&c) {}
    lease(lease&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)), connection_(std::exchange(other.connection_, nullptr)) {}
    lease& operator=(lease&&) = delete;
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease() {
      if (owner_ != nullptr) owner_->release(*connection_);
    }
    connection& operator*() const noexcept { return *connection_; }
    connection* operator->() const noexcept { return connection_; }

   private:
    database* owner_;
    connection* connection_;
  };

  virtual ~database() = default;
  virtual dialect kind() const noexcept = 0;
  // location: the file path or the URL without password, for messages.
  virtual const std::string& location() const noexcept = 0;
  // acquire: a connection for this thread; waits while all are in use. Fails when a new connection
  // cannot be opened (PostgreSQL unreachable).
  virtual result<lease> acquire() = 0;

 protected:
  // release: takes a leased connection back.
  virtual void release(connection& c) noexcept = 0;
};

}  // namespace apigw::store::detail

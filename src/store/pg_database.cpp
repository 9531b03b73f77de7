// The PostgreSQL driver (libpq).
//
// Statements run through PQprepare/PQexecPrepared with text parameters: each connection prepares a
// statement the first time it sees its SQL text and reuses it after that. Errors are classified by
// SQLSTATE (23505 unique violation, 40P01 deadlock...) and by the connection's state: a connection
// that went bad is marked broken and the pool closes it instead of reusing it.
#include "store/pg_database.hpp"

#include "apigw/store/error.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <condition_variable>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace apigw::store::detail {
namespace {

struct result_deleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using pg_result = std::unique_ptr<PGresult, result_deleter>;

// one_line: a libpq message as one line (they end in a newline and may continue on indented lines,
// e.g. "...Connection refused\n\tIs the server running on that host...").
std::string one_line(const char* message) {
  std::string out;
  bool space = false;
  for (const char* p = message != nullptr ? message : ""; *p != '\0'; ++p) {
    if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += *p;
  }
  return out;
}

class pg_connection final : public connection {
 public:
  pg_connection(PGconn* conn, const std::string& location) noexcept : conn_(conn), location_(location) {}
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;
  ~pg_connection() override { PQfinish(conn_); }

  // broken: the connection failed at the transport level and must not be reused.
  bool broken() const noexcept { return broken_ || PQstatus(conn_) != CONNECTION_OK; }

  result<rows> exec(std::string_view sql, std::span<const param> params) override {
    auto it = prepared_.find(std::string{sql});
    if (it == prepared_.end()) {
      const auto name = fmt::format("apigw_{}", prepared_.size() + 1);
      const std::string text{sql};
      pg_result prepared{PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr)};
      if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) return fail(prepared.get());
      it = prepared_.emplace(text, name).first;
    }
    const text_params values(params);
    pg_result r{PQexecPrepared(conn_, it->second.c_str(), values.count(), values.values(), nullptr, nullptr, 0)};
    return collect(r.get());
  }

  result<rows> run(std::string_view sql, std::span<const param> params) override {
    const std::string text{sql};
    const text_params values(params);
    pg_result r{PQexecParams(conn_, text.c_str(), values.count(), nullptr, values.values(), nullptr, nullptr, 0)};
    return collect(r.get());
  }

  result<void> begin() override {
    auto r = run("BEGIN", {});
    if (!r) return r.error();
    return ok();
  }

 private:
  // text_params: the parameters in libpq's text format (NULL as a null pointer).
  class text_params {
   public:
    explicit text_params(std::span<const param> params) {
      storage_.reserve(params.size());
      for (const auto& p : params) {
        if (std::holds_alternative<std::nullptr_t>(p)) {
          storage_.emplace_back();
        } else if (const auto* n = std::get_if<std::int64_t>(&p)) {
          storage_.emplace_back(std::to_string(*n));
        } else if (const auto* b = std::get_if<bool>(&p)) {
          storage_.emplace_back(*b ? "true" : "false");
        } else {
          storage_.emplace_back(std::get<std::string>(p));
        }
      }
      for (const auto& s : storage_) pointers_.push_back(s ? s->c_str() : nullptr);
    }
    int count() const noexcept { return static_cast<int>(pointers_.size()); }
    const char* const* values() const noexcept { return pointers_.data(); }

   private:
    std::vector<std::optional<std::string>> storage_;
    std::vector<const char*> pointers_;
  };

  result<rows> collect(PGresult* r) {
    const auto status = PQresultStatus(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return fail(r);
    rows out;
    out.columns = static_cast<std::size_t>(PQnfields(r));
    const int n = PQntuples(r);
    out.cells.reserve(static_cast<std::size_t>(n) * out.columns);
    for (int row = 0; row < n; ++row) {
      for (int col = 0; col < static_cast<int>(out.columns); ++col) {
        if (PQgetisnull(r, row, col) != 0) {
          out.cells.emplace_back();
        } else {
          out.cells.emplace_back(
              std::string(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col))));
        }
      }
    }
    const char* tuples = PQcmdTuples(r);
    if (tuples != nullptr && *tuples != '\0') out.affected = std::stoll(tuples);
    return out;
  }

  // fail: the failure for a failed statement (`r` may be null when libpq ran out of memory or lost
  // the connection).
  failure fail(PGresult* r) {
    const std::string detail = one_line(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string_view sqlstate = state != nullptr ? state : "";
    if (PQstatus(conn_) != CONNECTION_OK || sqlstate.starts_with("08") || sqlstate.starts_with("57P")) {
      broken_ = true;
      return {error::unreachable, fmt::format("lost the connection to PostgreSQL at {}: {}", location_, detail)};
    }
    if (sqlstate == "23505") return {error::duplicate_key, fmt::format("{}: {}", location_, detail)};
    if (sqlstate.starts_with("23")) return {error::constraint_violation, fmt::format("{}: {}", location_, detail)};
    if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
      return {error::busy,
              fmt::format("database is locked: {} ({}); the operation was not applied", location_, detail)};
    }
    if (sqlstate == "42P01") {
      return {error::schema_missing,
              fmt::format("database schema is missing in {} ({}); run `apigw-ws migrate`", location_, detail)};
    }
    return {error::database_error,
            fmt::format("PostgreSQL error on {}: {} (SQLSTATE {})", location_, detail, sqlstate)};
  }

  PGconn* conn_;
  const std::string& location_;
  std::unordered_map<std::string, std::string> prepared_;
  bool broken_ = false;
};

class pg_database final : public database {
 public:
  pg_database(std::string url, std::string location, std::size_t pool_size, std::chrono::seconds connect_timeout)
      : url_(std::move(url)),
        location_(std::move(location)),
        pool_size_(pool_size == 0 ? 1 : pool_size),
        connect_timeout_(connect_timeout) {}

  dialect kind() const noexcept override { return dialect::postgresql; }
  const std::string& location() const noexcept override { return location_; }

  result<lease> acquire() override {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (!idle_.empty()) {
        auto* c = idle_.back();
        idle_.pop_back();
        return lease(*this, *c);
      }
      if (all_.size() + opening_ < pool_size_) break;
      returned_.wait(lock);
    }
    ++opening_;
    lock.unlock();
    auto c = connect();
    lock.lock();
    --opening_;
    if (!c) {
      returned_.notify_one();
      return c.error();
    }
    auto* raw = c->get();
    all_.push_back(std::move(*c));
    return lease(*this, *raw);
  }

  // connect: one new connection. The URL's own connect_timeout wins over the option, because
  // libpq lets later keywords override earlier ones and the URL comes last.
  result<std::unique_ptr<pg_connection>> connect() {
    const auto timeout = std::to_string(connect_timeout_.count());
    const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {timeout.c_str(), "apigw-ws", url_.c_str(), nullptr};
    PGconn* conn = PQconnectdbParams(keywords, values, 1);
    if (conn == nullptr) {
      return failure{error::unreachable, fmt::format("cannot connect to PostgreSQL at {}: out of memory", location_)};
    }
    if (PQstatus(conn) != CONNECTION_OK) {
      auto detail = one_line(PQerrorMessage(conn));
      PQfinish(conn);
      return failure{error::unreachable, fmt::format("cannot connect to PostgreSQL at {}: {}", location_, detail)};
    }
    // Notices ("relation ... already exists, skipping") are not errors; keep them off stderr.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    return std::make_unique<pg_connection>(conn, location_);
  }

 protected:
  void release(connection& c) noexcept override {
    auto& pc = static_cast<pg_connection&>(c);
    std::lock_guard lock(mutex_);
    if (pc.broken()) {
      std::erase_if(all_, [&](const auto& owned) { return owned.get() == &pc; });
    } else {
      idle_.push_back(&pc);
    }
    returned_.notify_one();
  }

 private:
  std::string url_;
  std::string location_;
  std::size_t pool_size_;
  std::chrono::seconds connect_timeout_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<pg_connection>> all_;
  std::vector<pg_connection*> idle_;
  std::size_t opening_ = 0;
};

}  // namespace

std::string redact_url(std::string_view url) {
  std::string out{url};
  if (const auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto end = out.find_first_of("/?", start);
    const auto at = out.rfind('@', end == std::string::npos ? out.size() : end);
    if (at != std::string::npos && at >= start) {
      const auto colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (auto pos = out.find("password="); pos != std::string::npos; pos = out.find("password=", pos + 1)) {
    const auto value = pos + 9;
    const auto end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

result<std::unique_ptr<database>> open_postgresql(const std::string& url, const store_options& options) {
  const auto location = redact_url(url);
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (parsed == nullptr) {
    auto detail = one_line(parse_error != nullptr ? parse_error : "out of memory");
    PQfreemem(parse_error);
    return failure{error::invalid_url, fmt::format("invalid PostgreSQL URL {}: {}", location, detail)};
  }
  PQconninfoFree(parsed);

  auto db = std::make_unique<pg_database>(url, location, options.pool_size, options.connect_timeout);
  // Open the first connection now: a wrong host or password is reported by open_store.
  if (auto first = db->acquire(); !first) return first.error();
  return std::unique_ptr<database>{std::move(db)};
}

}  // namespace apigw::store::detail

// The PostgreSQL driver (libpq).
//
// Statements run through PQprepare/PQexecPrepared with text parameters: each connection prepares a
// statement the first time it sees its SQL text and reuses it after that. Errors are classified by
// SQLSTATE (23505 unique violation, 40P01 deadlock...) and by the connection's state: a connection
// that went bad is marked broken and the pool closes it instead of reusing it.
//
// No statement waits for ever: the server cancels one that runs past statement_timeout, and the
// driver waits for an answer (sending and receiving without blocking, over poll) only until
// statement_timeout + k_statement_grace, then drops the connection. A connection the server closed
// (a restart) is reopened once for a statement that is safe to run again (docs/design/store.md,
// "Faults and limits").
#include "store/pg_database.hpp"

#include "apigw/store/error.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <poll.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <limits>
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

// starts_with_word: whether `sql` begins (after white space) with the keyword `word`, any case.
bool starts_with_word(std::string_view sql, std::string_view word) {
  const auto first = sql.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || sql.size() - first < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(sql[first + i])) != word[i]) return false;
  }
  return sql.size() == first + word.size() || std::isalnum(static_cast<unsigned char>(sql[first + word.size()])) == 0;
}

// repeatable: a statement that may run again after its connection was lost, because running it
// twice changes nothing: a read, or the BEGIN that opens a transaction. Writes are never repeated
// blindly: the lost statement may have been applied.
bool repeatable(std::string_view sql) {
  return starts_with_word(sql, "SELECT") || starts_with_word(sql, "BEGIN");
}

// pg_settings: what every connection of one database shares.
struct pg_settings {
  std::string location;                           // the URL without password, for messages
  std::chrono::milliseconds statement_timeout{};  // 0: none
};

class pg_connection final : public connection {
 public:
  pg_connection(PGconn* conn, const pg_settings& settings) noexcept : conn_(conn), settings_(settings) {}
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;
  ~pg_connection() override { PQfinish(conn_); }

  // setup: what each new (or reopened) connection needs before its first statement: non-blocking
  // sends, so a stalled server cannot block a write past the deadline; no notices on stderr; the
  // server-side statement timeout. Fails like a statement.
  result<void> setup() {
    PQsetnonblocking(conn_, 1);
    // Notices ("relation ... already exists, skipping") are not errors; keep them off stderr.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    if (settings_.statement_timeout.count() <= 0) return ok();
    auto set = run_once(fmt::format("SET statement_timeout = {}", settings_.statement_timeout.count()), {});
    if (!set) return set.error();
    return ok();
  }

  // broken: the connection failed at the transport level (or did not answer in time) and must not
  // be reused.
  bool broken() const noexcept { return broken_ || PQstatus(conn_) != CONNECTION_OK; }
  // take_server_lost: whether this connection found the server gone since the last call (a
  // restart ends every connection to it, so the pool drops its other idle ones too).
  bool take_server_lost() noexcept { return std::exchange(server_lost_, false); }

  result<rows> exec(std::string_view sql, std::span<const param> params) override {
    return with_reopen(sql, [&] { return exec_once(sql, params); });
  }

  result<rows> run(std::string_view sql, std::span<const param> params) override {
    return with_reopen(sql, [&] { return run_once(sql, params); });
  }

  result<void> begin() override {
    auto r = run("BEGIN", {});
    if (!r) return r.error();
    return ok();
  }

 private:
  using steady = std::chrono::steady_clock;
  enum class lost { no, closed, timed_out };

  // with_reopen: runs `attempt` once; when the server had closed the connection (a restart, a
  // failover, an idle timeout) and the statement is safe to repeat (a read or BEGIN outside a
  // transaction, or a statement that failed while being prepared and so never ran), reopens the
  // connection and runs it once more. A connection that timed out is not reopened: the server is
  // there but not answering, and waiting again would only double the wait.
  template <class F>
  result<rows> with_reopen(std::string_view sql, F&& attempt) {
    if (lost_ == lost::timed_out) return fail(nullptr);  // an answer may still be on its way: unusable
    const bool idle = PQtransactionStatus(conn_) == PQTRANS_IDLE;
    preparing_ = false;
    auto r = attempt();
    if (r || lost_ != lost::closed || !idle || !(repeatable(sql) || preparing_)) return r;
    if (auto reopened = reopen(); !reopened) return reopened.error();
    return attempt();
  }

  // reopen: a new session on this connection's parameters (PQreset), with a fresh statement cache.
  result<void> reopen() {
    prepared_.clear();
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      broken_ = true;
      return failure{error::unreachable, fmt::format("lost the connection to PostgreSQL at {} and cannot reconnect: {}",
                                                     settings_.location, one_line(PQerrorMessage(conn_)))};
    }
    lost_ = lost::no;
    broken_ = false;
    return setup();
  }

  result<rows> exec_once(std::string_view sql, std::span<const param> params) {
    auto it = prepared_.find(std::string{sql});
    if (it == prepared_.end()) {
      const auto name = fmt::format("apigw_{}", ++prepared_count_);
      const std::string text{sql};
      preparing_ = true;
      if (PQsendPrepare(conn_, name.c_str(), text.c_str(), 0, nullptr) == 0) return fail(nullptr);
      pg_result prepared = await_result();
      if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) return fail(prepared.get());
      preparing_ = false;
      it = prepared_.emplace(text, name).first;
    }
    const text_params values(params);
    if (PQsendQueryPrepared(conn_, it->second.c_str(), values.count(), values.values(), nullptr, nullptr, 0) == 0) {
      return fail(nullptr);
    }
    return collect(await_result().get());
  }

  result<rows> run_once(std::string_view sql, std::span<const param> params) {
    const std::string text{sql};
    const text_params values(params);
    if (PQsendQueryParams(conn_, text.c_str(), values.count(), nullptr, values.values(), nullptr, nullptr, 0) == 0) {
      return fail(nullptr);
    }
    return collect(await_result().get());
  }

  // wait_limit: how long one statement may wait for the server: its timeout plus the grace.
  std::optional<std::chrono::milliseconds> wait_limit() const {
    if (settings_.statement_timeout.count() <= 0) return std::nullopt;
    return settings_.statement_timeout + k_statement_grace;
  }

  // wait_socket: waits until the socket is ready for `events` or the deadline passes (false).
  bool wait_socket(short events, std::optional<steady::time_point> deadline) {
    for (;;) {
      int ms = -1;
      if (deadline) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - steady::now());
        if (left.count() <= 0) return false;
        ms = static_cast<int>(std::min<std::int64_t>(left.count(), std::numeric_limits<int>::max()));
      }
      pollfd fd{PQsocket(conn_), events, 0};
      const int n = ::poll(&fd, 1, ms);
      if (n > 0) return true;
      if (n == 0) return false;
      if (errno != EINTR) return true;  // let libpq read the socket and report what is wrong
    }
  }

  // await_result: the result of the statement just sent, waiting for the server at most
  // wait_limit(). Null when the wait ran out (lost_ says so) or libpq ran out of memory.
  pg_result await_result() {
    std::optional<steady::time_point> deadline;
    if (const auto limit = wait_limit()) deadline = steady::now() + *limit;
    for (int flushed = PQflush(conn_); flushed != 0; flushed = PQflush(conn_)) {
      if (flushed < 0) break;  // the connection failed; PQgetResult reports it
      if (!wait_socket(POLLIN | POLLOUT, deadline)) return timed_out();
      if (PQconsumeInput(conn_) == 0) break;
    }
    pg_result out;
    for (;;) {
      bool failed = false;
      while (PQisBusy(conn_) != 0) {
        if (!wait_socket(POLLIN, deadline)) return timed_out();
        if (PQconsumeInput(conn_) == 0) {
          failed = true;
          break;
        }
      }
      pg_result next{PQgetResult(conn_)};
      if (!next) break;
      // Keep the last result, but never let a later one hide an error.
      const auto status = PQresultStatus(out.get());
      if (!out || (status != PGRES_FATAL_ERROR && status != PGRES_NONFATAL_ERROR)) out = std::move(next);
      if (failed || PQstatus(conn_) != CONNECTION_OK) break;
    }
    return out;
  }

  // timed_out: gives up on a server that did not answer; the connection is dropped, since the
  // answer to the abandoned statement could still arrive on it.
  pg_result timed_out() {
    lost_ = lost::timed_out;
    broken_ = true;
    return nullptr;
  }

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
    if (r == nullptr || (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)) return fail(r);
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

  // fail: the failure for a failed statement (`r` is null when the server did not answer in time,
  // libpq ran out of memory or could not send).
  failure fail(PGresult* r) {
    const auto& location = settings_.location;
    if (lost_ == lost::timed_out) {
      return {error::unreachable,
              fmt::format("PostgreSQL at {} did not answer within {} ms (statement_timeout {} ms + {} ms); the "
                          "connection was dropped",
                          location, wait_limit().value_or(std::chrono::milliseconds{0}).count(),
                          settings_.statement_timeout.count(), k_statement_grace.count())};
    }
    const std::string detail = one_line(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string_view sqlstate = state != nullptr ? state : "";
    if (PQstatus(conn_) != CONNECTION_OK || sqlstate.starts_with("08") || sqlstate.starts_with("57P")) {
      broken_ = true;
      lost_ = lost::closed;
      server_lost_ = true;
      return {error::unreachable, fmt::format("lost the connection to PostgreSQL at {}: {}", location, detail)};
    }
    if (sqlstate == "57014") {
      return {error::busy, fmt::format("PostgreSQL at {} cancelled the statement after the statement_timeout of {} "
                                       "ms; the operation was not applied ({})",
                                       location, settings_.statement_timeout.count(), detail)};
    }
    if (sqlstate == "23505") return {error::duplicate_key, fmt::format("{}: {}", location, detail)};
    if (sqlstate.starts_with("23")) return {error::constraint_violation, fmt::format("{}: {}", location, detail)};
    if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
      return {error::busy, fmt::format("database is locked: {} ({}); the operation was not applied", location, detail)};
    }
    if (sqlstate == "42P01") {
      return {error::schema_missing,
              fmt::format("database schema is missing in {} ({}); run `apigw-ws migrate`", location, detail)};
    }
    return {error::database_error, fmt::format("PostgreSQL error on {}: {} (SQLSTATE {})", location, detail, sqlstate)};
  }

  PGconn* conn_;
  const pg_settings& settings_;
  std::unordered_map<std::string, std::string> prepared_;
  std::size_t prepared_count_ = 0;
  bool broken_ = false;
  bool server_lost_ = false;
  bool preparing_ = false;  // the last attempt failed (if it did) while preparing: it never ran
  lost lost_ = lost::no;
};

class pg_database final : public database {
 public:
  pg_database(std::string url, std::string location, const store_options& options)
      : url_(std::move(url)),
        settings_{std::move(location), options.statement_timeout},
        pool_size_(options.pool_size == 0 ? 1 : options.pool_size),
        connect_timeout_(options.connect_timeout) {}

  dialect kind() const noexcept override { return dialect::postgresql; }
  const std::string& location() const noexcept override { return settings_.location; }

  result<lease> acquire() override {
    std::unique_lock lock(mutex_);
    for (;;) {
      while (!idle_.empty()) {
        auto* c = idle_.back();
        idle_.pop_back();
        // libpq notices a closed socket only when it next uses it, but a connection already
        // known bad is not handed out.
        if (!c->broken()) return lease(*this, *c);
        drop(c);
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
      return failure{error::unreachable,
                     fmt::format("cannot connect to PostgreSQL at {}: out of memory", settings_.location)};
    }
    if (PQstatus(conn) != CONNECTION_OK) {
      auto detail = one_line(PQerrorMessage(conn));
      PQfinish(conn);
      return failure{error::unreachable,
                     fmt::format("cannot connect to PostgreSQL at {}: {}", settings_.location, detail)};
    }
    auto c = std::make_unique<pg_connection>(conn, settings_);
    if (auto ready = c->setup(); !ready) return ready.error();
    return c;
  }

 protected:
  void release(connection& c) noexcept override {
    auto& pc = static_cast<pg_connection&>(c);
    std::lock_guard lock(mutex_);
    // A connection that found the server gone means a restart (or failover) ended every session:
    // the idle ones would each fail their next statement, and a write is not repeated, so they
    // are closed now and reopened on demand.
    if (pc.take_server_lost()) {
      for (auto* idle : idle_) drop(idle);
      idle_.clear();
    }
    if (pc.broken()) {
      drop(&pc);
    } else {
      idle_.push_back(&pc);
    }
    returned_.notify_all();
  }

 private:
  // drop: closes a connection that is not leased (the caller holds mutex_).
  void drop(pg_connection* c) {
    std::erase_if(all_, [&](const auto& owned) { return owned.get() == c; });
  }

  std::string url_;
  pg_settings settings_;
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

  auto db = std::make_unique<pg_database>(url, location, options);
  // Open the first connection now: a wrong host or password is reported by open_store.
  if (auto first = db->acquire(); !first) return first.error();
  return std::unique_ptr<database>{std::move(db)};
}

}  // namespace apigw::store::detail

// examples/dashboard/orders_dashboard.cpp: see orders_dashboard.hpp.
#include "orders_dashboard.hpp"

#include "apigw/message/builders.hpp"
#include "apigw/store/session_query.hpp"

#include <fmt/format.h>
#include <sqlite3.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <stdexcept>

namespace examples {
namespace {

constexpr std::chrono::milliseconds k_count_interval{1000};
constexpr std::array<std::string_view, 5> k_statuses = {"new", "paid", "packed", "shipped", "cancelled"};

// statement: a prepared statement finalized on scope exit.
struct statement {
  sqlite3_stmt* s = nullptr;
  statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s, nullptr); }
  ~statement() { sqlite3_finalize(s); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
};

// count_or_zero: the count, or 0 when the store failed (a dashboard shows what it can).
std::int64_t count_or_zero(const apigw::result<std::int64_t>& n) {
  return n ? *n : 0;
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

}  // namespace

orders_dashboard::orders_dashboard(site_context& site, const std::filesystem::path& db_file,
                                   std::vector<std::string> channels)
    : site_(site), channels_(std::move(channels)) {
  if (sqlite3_open(db_file.c_str(), &db_) != SQLITE_OK) {
    throw std::runtime_error(fmt::format("cannot open {}: {}", db_file.string(), sqlite3_errmsg(db_)));
  }
  const char* schema =
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, item TEXT NOT NULL,"
      " quantity INTEGER NOT NULL, status TEXT NOT NULL, updated_at TEXT NOT NULL DEFAULT (datetime('now')));"
      "INSERT INTO orders (id, customer, item, quantity, status) SELECT * FROM (VALUES"
      " (1,'Ada','Keyboard',1,'new'), (2,'Grace','Monitor',2,'paid'), (3,'Linus','Laptop stand',1,'packed'),"
      " (4,'Barbara','USB-C cable',5,'new'), (5,'Ken','Desk lamp',1,'shipped'), (6,'Margaret','Headset',3,'paid'))"
      " WHERE NOT EXISTS (SELECT 1 FROM orders);";
  char* err = nullptr;
  if (sqlite3_exec(db_, schema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close(db_);
    throw std::runtime_error(fmt::format("cannot create the orders table in {}: {}", db_file.string(), why));
  }
  ticker_ = std::jthread([this](std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    // wait_for returns the predicate's value both on timeout and on a stop request: ask the token.
    while (!stop.stop_requested()) {
      cv.wait_for(lock, stop, k_count_interval, [] { return false; });
      if (!stop.stop_requested()) publish_counts();
    }
  });
}

orders_dashboard::~orders_dashboard() {
  ticker_.request_stop();
  ticker_.join();  // before the database goes
  sqlite3_close(db_);
}

std::optional<apigw::json::object> orders_dashboard::load(std::int64_t id) {
  // updated_at is stored as SQLite's datetime('now'), UTC without a zone; it leaves as ISO 8601
  // with "Z" so every browser reads it as UTC and shows it in its own time zone.
  statement st(db_,
               "SELECT id, customer, item, quantity, status, strftime('%Y-%m-%dT%H:%M:%SZ', updated_at)"
               " FROM orders WHERE id = ?");
  sqlite3_bind_int64(st.s, 1, id);
  if (sqlite3_step(st.s) != SQLITE_ROW) return std::nullopt;
  return apigw::json::object{{"id", sqlite3_column_int64(st.s, 0)}, {"customer", column_text(st.s, 1)},
                             {"item", column_text(st.s, 2)},        {"quantity", sqlite3_column_int64(st.s, 3)},
                             {"status", column_text(st.s, 4)},      {"updated_at", column_text(st.s, 5)}};
}

apigw::response orders_dashboard::orders(const apigw::dispatch::request& req) {
  if (!logged_in(site_, req)) return error_json(401, "Log in first");
  const std::string_view rest = std::string_view{req.path}.substr(std::string_view{"/api/orders/"}.size());
  if (rest.empty()) {
    if (req.method != "GET") return error_json(405, "Use GET");
    std::lock_guard lock(mu_);
    apigw::json::array all;
    statement st(db_, "SELECT id FROM orders ORDER BY id");
    while (sqlite3_step(st.s) == SQLITE_ROW) {
      if (auto o = load(sqlite3_column_int64(st.s, 0))) all.emplace_back(std::move(*o));
    }
    return apigw::response::json(200, apigw::json::object{{"orders", std::move(all)}});
  }
  std::int64_t id = 0;
  if (auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), id);
      ec != std::errc{} || p != rest.data() + rest.size()) {
    return error_json(404, "No such order");
  }
  if (req.method == "POST") return update(req, id);
  if (req.method != "GET") return error_json(405, "Use GET or POST");
  std::lock_guard lock(mu_);
  auto o = load(id);
  return o ? apigw::response::json(200, *o) : error_json(404, "No such order");
}

apigw::response orders_dashboard::update(const apigw::dispatch::request& req, std::int64_t id) {
  apigw::dispatch::identity who;
  if (auto refused = check_write(site_, req, who)) return *refused;
  auto body = apigw::parse_json_object(req.body);
  if (!body) return error_json(400, "Send a JSON object");
  const auto status = apigw::get_string(*body, "status");
  const auto quantity = apigw::get_int(*body, "quantity");
  if (status && std::ranges::find(k_statuses, *status) == k_statuses.end()) return error_json(400, "Unknown status");
  if (quantity && (*quantity < 1 || *quantity > 999)) return error_json(400, "Quantity must be 1..999");
  {
    std::lock_guard lock(mu_);
    statement st(db_,
                 "UPDATE orders SET status = coalesce(?, status), quantity = coalesce(?, quantity),"
                 " updated_at = datetime('now') WHERE id = ?");
    if (status) sqlite3_bind_text(st.s, 1, status->data(), static_cast<int>(status->size()), SQLITE_TRANSIENT);
    if (quantity) sqlite3_bind_int64(st.s, 2, *quantity);
    sqlite3_bind_int64(st.s, 3, id);
    if (sqlite3_step(st.s) != SQLITE_DONE) return error_json(503, "Could not save, try again");
    if (sqlite3_changes(db_) == 0) return error_json(404, "No such order");
  }
  // Invalidation: a few bytes saying what changed; each browser fetches the row itself, so the
  // message never carries data a recipient may not see.
  const auto sid = std::to_string(id);
  (void)site_.app.sessions().in_channel(k_channel).send_message(
      *apigw::resource_updated("order", sid, "/api/orders/" + sid));
  std::lock_guard lock(mu_);
  return apigw::response::json(200, *load(id));
}

apigw::json::object orders_dashboard::count_now() {
  auto& store = site_.app.store();
  apigw::json::object per_channel;
  for (const auto& c : channels_) {
    per_channel[c] = count_or_zero(store.count(apigw::store::session_query{}.connected_only().in_channel(c)));
  }
  return apigw::json::object{
      {"type", "session_counts"},
      {"connected", count_or_zero(store.count(apigw::store::session_query{}.connected_only()))},
      {"disconnected", count_or_zero(store.count(apigw::store::session_query{}.disconnected_only()))},
      {"channels", std::move(per_channel)}};
}

apigw::response orders_dashboard::counts(const apigw::dispatch::request& req) {
  if (!logged_in(site_, req)) return error_json(401, "Log in first");
  return apigw::response::json(200, count_now());
}

void orders_dashboard::publish_counts(bool force) {
  auto counts = count_now();
  auto text = apigw::json::serialize(counts);
  {
    std::lock_guard lock(mu_);
    if (!force && text == last_counts_) return;
    last_counts_ = std::move(text);
  }
  (void)site_.app.sessions().in_channel(k_channel).send_message(counts);
}

}  // namespace examples

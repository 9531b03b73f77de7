// examples/dashboard/orders_dashboard.hpp: a live dashboard. Orders live in a SQLite table and are
// edited over plain HTTP; every change sends a lightweight resource_updated (with fetch_url) to
// the "dashboard" channel and the other browsers refetch that one row. The dashboard also shows
// live session counts per channel, pushed as session_counts by a ticker whenever they changed.
//
//   GET  /api/orders/         -> {"orders": [...]}
//   GET  /api/orders/<id>     -> one order {"id","customer","item","quantity","status",
//                                "updated_at": "2026-12-06T03:20:00Z" (UTC)}
//   POST /api/orders/<id>     {"status": "shipped", "quantity": 3}  (logged in, X-CSRF-Token)
//   GET  /api/session-counts/ -> {"connected": n, "channels": {"dashboard": n, ...}}
#pragma once

#include "site_context.hpp"

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

struct sqlite3;

namespace examples {

class orders_dashboard {
 public:
  static constexpr const char* k_channel = "dashboard";

  // orders_dashboard: opens (creating and seeding) the orders table in `db_file`. Throws
  // std::runtime_error naming the file when it cannot (a startup failure).
  orders_dashboard(site_context& site, const std::filesystem::path& db_file, std::vector<std::string> channels);
  ~orders_dashboard();
  orders_dashboard(const orders_dashboard&) = delete;
  orders_dashboard& operator=(const orders_dashboard&) = delete;

  // orders: GET/POST under /api/orders/.
  apigw::response orders(const apigw::dispatch::request& req);
  // counts: GET /api/session-counts/.
  apigw::response counts(const apigw::dispatch::request& req);
  // publish_counts: session_counts to the dashboard channel when they differ from the last ones
  // published (or always when `force`).
  void publish_counts(bool force = false);

 private:
  apigw::json::object count_now();
  std::optional<apigw::json::object> load(std::int64_t id);
  apigw::response update(const apigw::dispatch::request& req, std::int64_t id);

  site_context& site_;
  std::vector<std::string> channels_;
  std::mutex mu_;
  sqlite3* db_ = nullptr;
  std::string last_counts_;
  std::jthread ticker_;  // last member: stopped and joined first
};

}  // namespace examples

// open_store (database URL -> SQLite or PostgreSQL store) and the paging helper shared by both.
#include "apigw/store/session_store.hpp"

#include "store/pg_database.hpp"
#include "store/sql_store.hpp"
#include "store/sqlite_database.hpp"

#include <fmt/format.h>

#include <cctype>

namespace apigw::store {
namespace {

// url_scheme: the scheme of "scheme://...", or empty when `url` has none (a plain path).
std::string_view url_scheme(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return {};
  const auto scheme = url.substr(0, sep);
  for (const char ch : scheme) {
    const auto u = static_cast<unsigned char>(ch);
    if (std::isalnum(u) == 0 && ch != '+' && ch != '-' && ch != '.') return {};
  }
  return scheme;
}

// sqlite_path: the file path of a SQLite URL: sqlite:PATH, sqlite:///abs/path, or a plain path.
result<std::string> sqlite_path(std::string_view url) {
  std::string_view path = url;
  if (url.starts_with("sqlite://")) {
    path = url.substr(9);
    if (!path.starts_with('/')) {
      return failure{error::invalid_url,
                     fmt::format("invalid SQLite URL '{}': sqlite:// takes an absolute path "
                                 "(sqlite:///var/lib/apigw.db); use sqlite:relative/path.db for a relative one",
                                 url)};
    }
  } else if (url.starts_with("sqlite:")) {
    path = url.substr(7);
  }
  if (path.empty()) return failure{error::invalid_url, fmt::format("invalid SQLite URL '{}': no file path", url)};
  return std::string{path};
}

}  // namespace

result<std::unique_ptr<session_store>> open_store(std::string_view db_url, const clock& clk,
                                                  const store_options& options) {
  if (db_url.empty()) {
    return failure{error::invalid_url, "no database given: pass a SQLite path or a postgresql:// URL"};
  }
  const auto scheme = url_scheme(db_url);
  if (scheme == "postgresql" || scheme == "postgres") {
    auto db = detail::open_postgresql(std::string{db_url}, options);
    if (!db) return db.error();
    return std::make_unique<detail::sql_store>(std::move(*db), clk);
  }
  if (!scheme.empty() && scheme != "sqlite") {
    return failure{error::unsupported_scheme,
                   fmt::format("unsupported database URL scheme '{}' in '{}': use a SQLite path, sqlite:PATH, or "
                               "postgresql://user@host/dbname",
                               scheme, detail::redact_url(db_url))};
  }
  auto path = sqlite_path(db_url);
  if (!path) return path.error();
  auto db = detail::open_sqlite(*path, options.busy_timeout);
  if (!db) return db.error();
  return std::make_unique<detail::sql_store>(std::move(*db), clk);
}

result<std::size_t> session_repository::for_each_page(const session_query& q, std::size_t page_size,
                                                      const page_visitor& visit) {
  session_id after = 0;
  std::size_t visited = 0;
  for (;;) {
    auto sessions = page(q, after, page_size);
    if (!sessions) return sessions.error();
    if (sessions->empty()) return visited;
    visited += sessions->size();
    after = sessions->back().id;
    if (!visit(*sessions) || sessions->size() < page_size) return visited;
  }
}

}  // namespace apigw::store

// Turns a session_query into SQL. The shape of every statement is chosen so an index serves it:
// a channel filter drives the query from session_channels (channel, session_id), and keyset pages
// order by that session_id; otherwise the sessions table is read through the index whose prefix
// matches the filters (see schema.cpp and docs/design/store.md).
#include "store/session_sql.hpp"

#include <fmt/format.h>

#include <limits>

namespace apigw::store::detail {
namespace {

// build: the FROM and WHERE of `q` over `s` (sessions) and `c` (channels), appending their
// parameters to `params`.
struct query_parts {
  std::string from;
  std::string where;
  std::string key;  // the column keyset pagination orders by
};

query_parts build(const session_query& q, std::vector<param>& params) {
  query_parts parts;
  std::vector<std::string> conditions;
  auto next = [&](param p) {
    params.push_back(std::move(p));
    return fmt::format("${}", params.size());
  };
  if (q.channel()) {
    parts.from = "session_channels c JOIN websocket_sessions s ON s.id = c.session_id";
    parts.key = "c.session_id";
    conditions.push_back("c.channel = " + next(*q.channel()));
  } else {
    parts.from = "websocket_sessions s";
    parts.key = "s.id";
  }
  if (q.id()) conditions.push_back("s.id = " + next(*q.id()));
  if (q.connection_id()) conditions.push_back("s.connection_id = " + next(*q.connection_id()));
  if (q.user()) conditions.push_back("s.user_id = " + next(*q.user()));
  if (q.gateway()) conditions.push_back("s.gateway_id = " + next(*q.gateway()));
  // A literal rather than a parameter: the planner then knows which part of the index applies.
  if (q.connected()) conditions.emplace_back(*q.connected() ? "s.connected = TRUE" : "s.connected = FALSE");
  for (const auto& c : conditions) {
    parts.where += parts.where.empty() ? " WHERE " : " AND ";
    parts.where += c;
  }
  return parts;
}

}  // namespace

statement page_statement(const session_query& q, session_id after_id, std::size_t limit) {
  statement st;
  auto parts = build(q, st.params);
  // Newest first reads the same index backwards. Its cursor 0 means "from the top": the bound is
  // then the largest id, so the first page is the same range search as the next ones.
  const bool down = q.is_newest_first();
  st.params.emplace_back(down && after_id == 0 ? std::numeric_limits<session_id>::max() : after_id);
  const auto bound = fmt::format("{}{} {} ${}", parts.where.empty() ? " WHERE " : " AND ", parts.key, down ? "<" : ">",
                                 st.params.size());
  st.params.emplace_back(static_cast<std::int64_t>(limit));
  st.sql = fmt::format("SELECT {} FROM {}{}{} ORDER BY {}{} LIMIT ${}", sql::session_columns, parts.from, parts.where,
                       bound, parts.key, down ? " DESC" : "", st.params.size());
  return st;
}

statement count_statement(const session_query& q) {
  statement st;
  auto parts = build(q, st.params);
  st.sql = fmt::format("SELECT COUNT(*) FROM {}{}", parts.from, parts.where);
  return st;
}

statement mark_disconnected_statement(dialect d, std::span<const std::string> connection_ids, std::int64_t now_ms,
                                      std::optional<std::int64_t> created_before_ms) {
  statement st;
  if (d == dialect::postgresql) {
    st.sql =
        "UPDATE websocket_sessions SET connected = FALSE, updated_at = $2 WHERE connected = TRUE AND "
        "connection_id = ANY ($1::text[])";
    st.params.emplace_back(encode_pg_text_array(connection_ids));
  } else {
    st.sql =
        "UPDATE websocket_sessions SET connected = FALSE, updated_at = $2 WHERE connected = TRUE AND "
        "connection_id IN (SELECT value FROM json_each($1))";
    st.params.emplace_back(encode_json_string_array(connection_ids));
  }
  st.params.emplace_back(now_ms);
  if (created_before_ms) {
    // A row filter on the rows the connection-id index found: the plan does not change.
    st.sql += " AND created_at < $3";
    st.params.emplace_back(*created_before_ms);
  }
  return st;
}

std::string encode_pg_text_array(std::span<const std::string> items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char ch : item) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string encode_json_string_array(std::span<const std::string> items) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char ch : item) {
      const auto u = static_cast<unsigned char>(ch);
      if (ch == '"' || ch == '\\') {
        out += '\\';
        out += ch;
      } else if (u < 0x20) {
        out += fmt::format("\\u{:04x}", u);
      } else {
        out += ch;
      }
    }
    out += '"';
  }
  out += ']';
  return out;
}

}  // namespace apigw::store::detail

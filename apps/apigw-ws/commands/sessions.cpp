// apigw-ws sessions list|count|clear|add: inspect and maintain the session store.
#include "cli_common.hpp"
#include "session_filter.hpp"

#include "apigw/core/json.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <memory>

namespace apigw::cli {
namespace {

struct list_options {
  session_filter filter;
  bool connected = false;
  bool disconnected = false;
  std::size_t limit = 100;
  std::string format = "text";
};

store::session_query with_state(store::session_query q, bool connected, bool disconnected) {
  if (connected) return q.connected_only();
  if (disconnected) return q.disconnected_only();
  return q;
}

void add_state_flags(CLI::App& cmd, list_options& o) {
  auto* c = cmd.add_flag("--connected", o.connected, "Only connected sessions");
  cmd.add_flag("--disconnected", o.disconnected, "Only disconnected sessions")->excludes(c);
}

json::value optional_id(const std::optional<std::int64_t>& id) {
  return id ? json::value(*id) : json::value(nullptr);
}

int list(const globals& g, const list_options& o) {
  auto st = open_migrated_store(g);
  if (!st) return fail("sessions list", st.error());
  auto q = o.filter.query(**st);
  if (!q) return fail("sessions list", q.error());
  auto rows = (*st)->page(with_state(*q, o.connected, o.disconnected), 0, o.limit);
  if (!rows) return fail("sessions list", rows.error());
  if (o.format == "json") {
    json::array out;
    for (const auto& s : *rows) {
      auto channels = (*st)->channels_of(s.connection_id);
      if (!channels) return fail("sessions list", channels.error());
      json::array ch;
      for (const auto& c : *channels) ch.emplace_back(c);
      out.push_back(json::object{{"id", s.id},
                                 {"connection_id", s.connection_id},
                                 {"user", optional_id(s.user)},
                                 {"connected", s.connected},
                                 {"gateway", optional_id(s.gateway)},
                                 {"request_count", s.request_count},
                                 {"created_at", format_iso8601(s.created_at)},
                                 {"last_seen_at", format_iso8601(s.last_seen_at)},
                                 {"channels", std::move(ch)}});
    }
    fmt::print("{}\n", json::serialize(out));
    return k_exit_ok;
  }
  fmt::print("{:>8}  {:<18} {:>6} {:<9} {:>7} {:>8}  {:<24} {}\n", "ID", "CONNECTION", "USER", "STATE", "GATEWAY",
             "REQUESTS", "LAST SEEN", "CHANNELS");
  for (const auto& s : *rows) {
    auto channels = (*st)->channels_of(s.connection_id);
    fmt::print("{:>8}  {:<18} {:>6} {:<9} {:>7} {:>8}  {:<24} {}\n", s.id, s.connection_id,
               s.user ? std::to_string(*s.user) : "-", s.connected ? "connected" : "gone",
               s.gateway ? std::to_string(*s.gateway) : "-", s.request_count, format_iso8601(s.last_seen_at),
               channels ? fmt::format("{}", fmt::join(*channels, ",")) : "?");
  }
  if (rows->size() == o.limit && !g.quiet) fmt::print("(first {} shown; use --limit)\n", o.limit);
  return k_exit_ok;
}

int count(const globals& g, const list_options& o) {
  auto st = open_migrated_store(g);
  if (!st) return fail("sessions count", st.error());
  auto q = o.filter.query(**st);
  if (!q) return fail("sessions count", q.error());
  auto n = (*st)->count(with_state(*q, o.connected, o.disconnected));
  if (!n) return fail("sessions count", n.error());
  if (o.format == "json") {
    fmt::print("{}\n", json::serialize(json::object{{"count", *n}}));
  } else {
    fmt::print("{}\n", *n);
  }
  return k_exit_ok;
}

struct clear_options {
  std::string older_than = "0s";
  bool yes = false;
  std::string format = "text";
};

int clear(const globals& g, const clear_options& o) {
  auto age = parse_duration(o.older_than);
  if (!age) return usage_error("sessions clear", age.error().message);
  const std::string question =
      *age == std::chrono::milliseconds::zero()
          ? fmt::format("delete every disconnected session in {}?", g.db)
          : fmt::format("delete the disconnected sessions last changed more than {} ago in {}?", o.older_than, g.db);
  if (auto refused = confirm("sessions clear", question, o.yes)) return *refused;
  auto st = open_migrated_store(g);
  if (!st) return fail("sessions clear", st.error());
  auto n = (*st)->delete_disconnected_older_than(system_clock_source::instance().now() - *age);
  if (!n) return fail("sessions clear", n.error());
  if (o.format == "json") {
    fmt::print("{}\n", json::serialize(json::object{{"deleted", *n}}));
  } else if (!g.quiet) {
    fmt::print("deleted {} disconnected session(s)\n", *n);
  }
  return k_exit_ok;
}

struct add_options {
  std::string connection;
  std::optional<std::string> user;
  std::vector<std::string> channels;
  std::optional<std::string> gateway;
  std::optional<std::string> endpoint;
};

int add(const globals& g, const add_options& o) {
  auto st = open_migrated_store(g);
  if (!st) return fail("sessions add", st.error());
  std::optional<store::user_id> user;
  if (o.user) {
    auto id = resolve_user(**st, *o.user);
    if (!id) return fail("sessions add", id.error());
    user = *id;
  }
  std::optional<store::gateway_id> gid;
  if (o.gateway) {
    auto all = (*st)->list_gateways();
    if (!all) return fail("sessions add", all.error());
    auto it = std::find_if(all->begin(), all->end(), [&](const store::gateway& x) { return x.name == *o.gateway; });
    if (it != all->end() && !o.endpoint) {
      gid = it->id;
    } else {
      if (!o.endpoint) {
        return fail("sessions add",
                    failure{store::error::not_found,
                            fmt::format("no gateway named \"{}\"; give --endpoint to create it", *o.gateway)});
      }
      store::gateway gw = it != all->end() ? *it : store::gateway{};
      gw.name = *o.gateway;
      gw.endpoint = *o.endpoint;
      auto saved = (*st)->upsert_gateway(gw);
      if (!saved) return fail("sessions add", saved.error());
      gid = saved->id;
    }
  }
  auto s = (*st)->create_session(o.connection, user, gid, o.channels);
  if (!s) return fail("sessions add", s.error());
  if (!g.quiet) fmt::print("session {} ({})\n", s->id, s->connection_id);
  return k_exit_ok;
}

}  // namespace

void register_sessions(CLI::App& app, const globals& g, command_runner& run) {
  auto* sessions = app.add_subcommand("sessions", "Inspect and maintain stored WebSocket sessions");
  sessions->require_subcommand(1);

  auto lo = std::make_shared<list_options>();
  auto* list_cmd = sessions->add_subcommand("list", "List sessions (newest state; at most --limit rows)");
  lo->filter.add_to(*list_cmd, false);
  add_state_flags(*list_cmd, *lo);
  list_cmd->add_option("--limit", lo->limit, "Most rows to print")->check(CLI::Range(1, 10000))->capture_default_str();
  add_format_option(list_cmd, lo->format);
  add_example(list_cmd, "apigw-ws sessions list --channel general --connected --format json");
  list_cmd->callback([&g, &run, lo] { run = [&g, lo] { return list(g, *lo); }; });

  auto co = std::make_shared<list_options>();
  auto* count_cmd = sessions->add_subcommand("count", "Count sessions");
  co->filter.add_to(*count_cmd, false);
  add_state_flags(*count_cmd, *co);
  add_format_option(count_cmd, co->format);
  add_example(count_cmd, "apigw-ws sessions count --user alice --connected");
  count_cmd->callback([&g, &run, co] { run = [&g, co] { return count(g, *co); }; });

  auto clo = std::make_shared<clear_options>();
  auto* clear_cmd = sessions->add_subcommand(
      "clear", "Delete disconnected sessions last changed before --older-than (asks first unless --yes)");
  clear_cmd->add_option("--older-than", clo->older_than, "Age: 90s, 15m, 12h, 7d (0s: every disconnected session)")
      ->check(duration_check())
      ->capture_default_str();
  add_yes_flag(clear_cmd, clo->yes);
  add_format_option(clear_cmd, clo->format);
  add_example(clear_cmd, "apigw-ws sessions clear --older-than 7d --yes");
  clear_cmd->callback([&g, &run, clo] { run = [&g, clo] { return clear(g, *clo); }; });

  auto ao = std::make_shared<add_options>();
  auto* add_cmd = sessions->add_subcommand(
      "add", "Record a session by hand (for scripts and demos; the backend records real ones on $connect)");
  add_cmd->add_option("--connection", ao->connection, "Connection id")->required();
  add_cmd->add_option("--user", ao->user, "Its user (an id, or a name in the built-in user store)");
  add_cmd->add_option("--channel", ao->channels, "Channel to join (repeatable)");
  add_cmd->add_option("--gateway", ao->gateway, "Gateway name (created with --endpoint when missing)");
  add_cmd->add_option("--endpoint", ao->endpoint, "Management endpoint of the gateway, e.g. http://127.0.0.1:4510/dev");
  add_example(add_cmd,
              "apigw-ws sessions add --connection AAAAAAAAAAAAAA1= --user alice --channel general --gateway local "
              "--endpoint http://127.0.0.1:4510/dev");
  add_cmd->callback([&g, &run, ao] { run = [&g, ao] { return add(g, *ao); }; });
}

}  // namespace apigw::cli

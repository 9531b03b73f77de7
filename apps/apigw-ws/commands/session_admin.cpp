// apigw-ws sessions reconcile|kick: bring the session store in line with the gateway.
//
// reconcile: API Gateway closes every connection after at most 2 hours, so a session still marked
//   connected after --max-age missed its $disconnect; those are marked disconnected. With --check
//   the rest are asked about with GetConnection, and the ones the gateway no longer knows (410)
//   are marked too.
// kick: closes connections server-side with DeleteConnection and marks them disconnected; it asks
//   first (or takes --yes), since the people on those connections are cut off.
#include "apigw/core/json.hpp"
#include "apigw/dispatch/delivery.hpp"
#include "apigw/mgmt/management_client.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "cli_common.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <algorithm>
#include <map>
#include <memory>

namespace apigw::cli {
namespace {

struct admin_options {
  std::string max_age = "2h";
  bool check = false;
  std::optional<std::string> endpoint;
  std::optional<std::string> region;
  std::optional<std::string> profile;
  std::vector<std::string> connection_ids;  // --connection (repeatable)
  std::vector<std::string> positional_ids;  // the positional ids kick took before --connection
  bool yes = false;
  std::string format = "text";
};

// signing_lookup: per-endpoint signing settings from the credentials chain (resolve_aws: --profile,
// --region, botocore's sources). Without credentials a loopback endpoint (the local gateway) is
// called unsigned; any other fails naming every place looked, before any request.
using signing_lookup = std::function<result<mgmt::signing_config>(std::string_view endpoint)>;

result<signing_lookup> signing(const admin_options& o) {
  auto aws = resolve_aws(o.region, o.profile);
  if (!aws) return aws.error();
  return aws->signing();
}

// gateway_clients: one management client per endpoint, created on first use.
class gateway_clients {
 public:
  gateway_clients(store::session_store& st, net::http_client_pool& pool, std::optional<std::string> override_endpoint,
                  signing_lookup signing)
      : store_(st), pool_(pool), override_(std::move(override_endpoint)), signing_(std::move(signing)) {}

  // client_for: the client of the session's endpoint (the override, else its gateway's).
  result<mgmt::management_client*> client_for(const store::session& s) {
    std::string ep;
    if (override_) {
      ep = *override_;
    } else if (s.gateway) {
      auto g = store_.get_gateway(*s.gateway);
      if (!g) return g.error();
      ep = g->endpoint;
    }
    if (ep.empty()) {
      return failure{core::error::invalid_argument,
                     fmt::format("session {} has no gateway endpoint; pass --endpoint", s.connection_id)};
    }
    if (auto it = clients_.find(ep); it != clients_.end()) return &it->second;
    auto sign = signing_(ep);
    if (!sign) return sign.error();
    auto c = mgmt::management_client::create(pool_, ep, {.signing = std::move(*sign)});
    if (!c) return c.error();
    return &clients_.emplace(ep, std::move(*c)).first->second;
  }

 private:
  store::session_store& store_;
  net::http_client_pool& pool_;
  std::optional<std::string> override_;
  signing_lookup signing_;
  std::map<std::string, mgmt::management_client> clients_;
};

// run_io: runs `a` on a fresh io_context until it finishes.
template <class T>
T run_io(boost::asio::io_context& io, boost::asio::awaitable<T> a) {
  auto f = boost::asio::co_spawn(io, std::move(a), boost::asio::use_future);
  io.run();
  return f.get();
}

boost::asio::awaitable<std::vector<std::string>> find_gone(gateway_clients& clients,
                                                           std::vector<store::session> sessions, int& failed) {
  std::vector<std::string> gone;
  for (const auto& s : sessions) {
    auto c = clients.client_for(s);
    if (!c) {
      fmt::print(stderr, "apigw-ws: sessions reconcile: {}\n", c.error().message);
      ++failed;
      continue;
    }
    auto info = co_await (*c)->get_connection(s.connection_id);
    if (info) continue;
    if (info.error() == condition::connection_gone) {
      gone.push_back(s.connection_id);
    } else {
      fmt::print(stderr, "apigw-ws: sessions reconcile: GetConnection {}: {}\n", s.connection_id, info.error().message);
      ++failed;
    }
  }
  co_return gone;
}

int reconcile(const globals& g, const admin_options& o) {
  auto age = parse_duration(o.max_age);
  if (!age) return usage_error("sessions reconcile", age.error().message);
  // Only --check reaches the gateway; the credentials are resolved before anything is marked.
  signing_lookup sign;
  if (o.check) {
    auto resolved = signing(o);
    if (!resolved) return fail("sessions reconcile", resolved.error());
    sign = std::move(*resolved);
  }
  auto st = open_migrated_store(g);
  if (!st) return fail("sessions reconcile", st.error());
  const auto cutoff = system_clock_source::instance().now() - *age;
  std::vector<std::string> stale;
  std::vector<store::session> rest;
  auto visited = (*st)->for_each_page(store::session_query{}.connected_only(), 1000, [&](auto page) {
    for (const auto& s : page) {
      if (s.created_at < cutoff) {
        stale.push_back(s.connection_id);
      } else if (o.check) {
        rest.push_back(s);
      }
    }
    return true;
  });
  if (!visited) return fail("sessions reconcile", visited.error());
  auto marked = (*st)->mark_disconnected(stale);
  if (!marked) return fail("sessions reconcile", marked.error());
  const bool as_json = o.format == "json";
  if (!g.quiet && !as_json) fmt::print("marked {} session(s) older than {} disconnected\n", *marked, o.max_age);
  if (!o.check) {
    if (as_json) fmt::print("{}\n", json::serialize(json::object{{"marked_old", *marked}}));
    return k_exit_ok;
  }

  boost::asio::io_context io;
  net::http_client_pool pool(io.get_executor());
  gateway_clients clients(**st, pool, o.endpoint, std::move(sign));
  int failed = 0;
  // GetConnection also answers 410 while a connection's $connect is still running: only sessions
  // older than the connect window when the checks began are marked (docs/design/dispatch.md).
  const auto created_before = (*st)->time().now() - dispatch::k_connect_window;
  auto gone = run_io(io, find_gone(clients, std::move(rest), failed));
  auto gone_marked = (*st)->mark_gone(gone, created_before);
  if (!gone_marked) return fail("sessions reconcile", gone_marked.error());
  if (as_json) {
    fmt::print("{}\n", json::serialize(
                           json::object{{"marked_old", *marked}, {"marked_gone", *gone_marked}, {"failed", failed}}));
  } else if (!g.quiet) {
    fmt::print("marked {} session(s) the gateway no longer knows disconnected\n", *gone_marked);
  }
  return failed == 0 ? k_exit_ok : k_exit_failed;
}

// kick_outcome: what happened to each connection id.
struct kick_outcome {
  std::vector<std::string> kicked;
  std::vector<std::string> already_gone;
  std::vector<std::pair<std::string, std::string>> failed;  // id, why
};

boost::asio::awaitable<kick_outcome> kick_all(store::session_store& st, gateway_clients& clients,
                                              std::vector<std::string> ids) {
  kick_outcome out;
  for (const auto& id : ids) {
    auto s = st.find_session(id);
    if (!s) {
      out.failed.emplace_back(id, s.error().message);
      continue;
    }
    auto c = clients.client_for(*s);
    if (!c) {
      out.failed.emplace_back(id, c.error().message);
      continue;
    }
    // DeleteConnection also answers 410 while a connection's $connect is still running; then only
    // a session older than the connect window is marked.
    const auto created_before = st.time().now() - dispatch::k_connect_window;
    auto deleted = co_await (*c)->delete_connection(id);
    if (!deleted && deleted.error() != condition::connection_gone) {
      out.failed.emplace_back(id, "DeleteConnection: " + deleted.error().message);
      continue;
    }
    const std::string one[] = {id};
    auto m = deleted ? st.mark_disconnected(one) : st.mark_gone(one, created_before);
    if (!m) {
      out.failed.emplace_back(id, m.error().message);
      continue;
    }
    (deleted ? out.kicked : out.already_gone).push_back(id);
  }
  co_return out;
}

// print_failures: one line per distinct reason, in the order first seen, with its count and the
// first few connection ids, so a reason shared by every connection (missing credentials, a gateway
// that is down) is printed once, not once per connection.
void print_failures(const std::vector<std::pair<std::string, std::string>>& failed) {
  constexpr std::size_t k_ids = 5;
  std::vector<std::pair<std::string_view, std::vector<std::string_view>>> groups;
  for (const auto& [id, why] : failed) {
    auto g = std::ranges::find(groups, std::string_view(why), [](const auto& e) { return e.first; });
    if (g == groups.end()) g = groups.insert(groups.end(), {why, {}});
    g->second.push_back(id);
  }
  for (const auto& [why, ids] : groups) {
    if (ids.size() == 1) {
      fmt::print(stderr, "apigw-ws: sessions kick: {}: {}\n", ids.front(), why);
      continue;
    }
    const std::vector<std::string_view> shown(ids.begin(), ids.begin() + std::min(k_ids, ids.size()));
    fmt::print(stderr, "apigw-ws: sessions kick: {} connections failed ({}{}): {}\n", ids.size(),
               fmt::join(shown, ", "),
               ids.size() > k_ids ? fmt::format(", ... and {} more", ids.size() - k_ids) : std::string{}, why);
  }
}

int kick(const globals& g, const admin_options& o) {
  std::vector<std::string> ids = o.connection_ids;
  ids.insert(ids.end(), o.positional_ids.begin(), o.positional_ids.end());
  if (ids.empty()) return usage_error("sessions kick", "--connection is required (one per connection to close)");
  if (auto refused = confirm(
          "sessions kick",
          fmt::format("close {} connection(s) with DeleteConnection ({})?", ids.size(), fmt::join(ids, ", ")), o.yes)) {
    return *refused;
  }
  auto sign = signing(o);
  if (!sign) return fail("sessions kick", sign.error());
  auto st = open_migrated_store(g);
  if (!st) return fail("sessions kick", st.error());
  boost::asio::io_context io;
  net::http_client_pool pool(io.get_executor());
  gateway_clients clients(**st, pool, o.endpoint, std::move(*sign));
  const auto out = run_io(io, kick_all(**st, clients, std::move(ids)));
  print_failures(out.failed);
  if (o.format == "json") {
    json::array failed;
    for (const auto& [id, why] : out.failed) failed.push_back(json::object{{"connection_id", id}, {"reason", why}});
    fmt::print("{}\n", json::serialize(json::object{{"kicked", json::value_from(out.kicked)},
                                                    {"already_gone", json::value_from(out.already_gone)},
                                                    {"failed", std::move(failed)}}));
  } else if (!g.quiet) {
    for (const auto& id : out.kicked) fmt::print("kicked {}\n", id);
    for (const auto& id : out.already_gone) fmt::print("kicked {} (it was already gone)\n", id);
  }
  return out.failed.empty() ? k_exit_ok : k_exit_failed;
}

// add_aws_options: --endpoint, --region and --profile, as on send.
void add_aws_options(CLI::App* cmd, admin_options& o) {
  cmd->add_option("--endpoint", o.endpoint,
                  "Management endpoint for every session (default: each session's gateway's)");
  cmd->add_option("--region", o.region, "AWS region to sign for (default: AWS_REGION, the profile, or the host name)");
  cmd->add_option("--profile", o.profile, "AWS profile for credentials (default: AWS_PROFILE or 'default')");
}

}  // namespace

void register_session_admin(CLI::App& app, const globals& g, command_runner& run) {
  auto* sessions = app.get_subcommand("sessions");
  auto o = std::make_shared<admin_options>();

  auto* rec = sessions->add_subcommand(
      "reconcile",
      "Mark sessions older than the gateway's maximum connection time disconnected (--check: ask the "
      "gateway about the rest)");
  rec->add_option("--max-age", o->max_age, "Oldest a live connection can be (API Gateway: 2h)")
      ->check(duration_check())
      ->capture_default_str();
  rec->add_flag("--check", o->check, "Also ask GetConnection about every younger connected session");
  add_aws_options(rec, *o);
  add_format_option(rec, o->format);
  add_example(rec, "apigw-ws sessions reconcile --check --region eu-west-1 --profile ops");
  rec->callback([&g, &run, o] { run = [&g, o] { return reconcile(g, *o); }; });

  auto* kick_cmd = sessions->add_subcommand(
      "kick", "Close connections with DeleteConnection and mark them disconnected (asks first unless --yes)");
  kick_cmd->add_option("--connection", o->connection_ids, "Connection id to close (repeatable)");
  // The positional ids kick took before --connection still work, unlisted.
  kick_cmd->add_option("connection-id", o->positional_ids, "Connection ids (old form; use --connection)")->group("");
  add_aws_options(kick_cmd, *o);
  add_yes_flag(kick_cmd, o->yes);
  add_format_option(kick_cmd, o->format);
  add_example(kick_cmd, "apigw-ws sessions kick --connection AAAAAAAAAAAAAA1= --connection AAAAAAAAAAAAAA2= --yes");
  kick_cmd->callback([&g, &run, o] { run = [&g, o] { return kick(g, *o); }; });
}

}  // namespace apigw::cli

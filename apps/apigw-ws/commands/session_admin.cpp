// apigw-ws sessions reconcile|kick: bring the session store in line with the gateway.
//
// reconcile: API Gateway closes every connection after at most 2 hours, so a session still marked
//   connected after --max-age missed its $disconnect; those are marked disconnected. With --check
//   the rest are asked about with GetConnection, and the ones the gateway no longer knows (410)
//   are marked too.
// kick: closes connections server-side with DeleteConnection and marks them disconnected.
#include "apigw/dispatch/delivery.hpp"
#include "apigw/mgmt/management_client.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/sigv4/credentials.hpp"
#include "cli_common.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <map>
#include <memory>

namespace apigw::cli {
namespace {

struct admin_options {
  std::string max_age = "2h";
  bool check = false;
  std::optional<std::string> endpoint;
  std::vector<std::string> connection_ids;
};

// signing: the credentials chain's credentials when it has some; otherwise unsigned (the local
// gateway accepts that; AWS answers 403, which is reported per connection).
mgmt::signing_config signing() {
  auto chain = sigv4::process_chain_options();
  mgmt::signing_config cfg;
  if (auto creds = sigv4::resolve_credentials(chain); creds) cfg.credentials = creds->creds;
  if (auto region = sigv4::resolve_region(chain); region) cfg.region = region->region;
  return cfg;
}

// gateway_clients: one management client per endpoint, created on first use.
class gateway_clients {
 public:
  gateway_clients(store::session_store& st, net::http_client_pool& pool, std::optional<std::string> override_endpoint)
      : store_(st), pool_(pool), override_(std::move(override_endpoint)), signing_(signing()) {}

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
    auto c = mgmt::management_client::create(pool_, ep, {.signing = signing_});
    if (!c) return c.error();
    return &clients_.emplace(ep, std::move(*c)).first->second;
  }

 private:
  store::session_store& store_;
  net::http_client_pool& pool_;
  std::optional<std::string> override_;
  mgmt::signing_config signing_;
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
  if (!age) return fail("sessions reconcile", age.error());
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
  if (!g.quiet) fmt::print("marked {} session(s) older than {} disconnected\n", *marked, o.max_age);
  if (!o.check) return k_exit_ok;

  boost::asio::io_context io;
  net::http_client_pool pool(io.get_executor());
  gateway_clients clients(**st, pool, o.endpoint);
  int failed = 0;
  // GetConnection also answers 410 while a connection's $connect is still running: only sessions
  // older than the connect window when the checks began are marked (docs/design/dispatch.md).
  const auto created_before = (*st)->time().now() - dispatch::k_connect_window;
  auto gone = run_io(io, find_gone(clients, std::move(rest), failed));
  auto gone_marked = (*st)->mark_gone(gone, created_before);
  if (!gone_marked) return fail("sessions reconcile", gone_marked.error());
  if (!g.quiet) fmt::print("marked {} session(s) the gateway no longer knows disconnected\n", *gone_marked);
  return failed == 0 ? k_exit_ok : k_exit_failed;
}

boost::asio::awaitable<int> kick_all(store::session_store& st, gateway_clients& clients, std::vector<std::string> ids,
                                     bool quiet) {
  int failed = 0;
  for (const auto& id : ids) {
    auto s = st.find_session(id);
    if (!s) {
      fmt::print(stderr, "apigw-ws: sessions kick: {}\n", s.error().message);
      ++failed;
      continue;
    }
    auto c = clients.client_for(*s);
    if (!c) {
      fmt::print(stderr, "apigw-ws: sessions kick: {}\n", c.error().message);
      ++failed;
      continue;
    }
    // DeleteConnection also answers 410 while a connection's $connect is still running; then only
    // a session older than the connect window is marked.
    const auto created_before = st.time().now() - dispatch::k_connect_window;
    auto deleted = co_await (*c)->delete_connection(id);
    if (!deleted && deleted.error() != condition::connection_gone) {
      fmt::print(stderr, "apigw-ws: sessions kick: DeleteConnection {}: {}\n", id, deleted.error().message);
      ++failed;
      continue;
    }
    const std::string one[] = {id};
    auto m = deleted ? st.mark_disconnected(one) : st.mark_gone(one, created_before);
    if (!m) {
      fmt::print(stderr, "apigw-ws: sessions kick: {}\n", m.error().message);
      ++failed;
      continue;
    }
    if (!quiet) fmt::print("kicked {}{}\n", id, deleted ? "" : " (it was already gone)");
  }
  co_return failed;
}

int kick(const globals& g, const admin_options& o) {
  auto st = open_migrated_store(g);
  if (!st) return fail("sessions kick", st.error());
  boost::asio::io_context io;
  net::http_client_pool pool(io.get_executor());
  gateway_clients clients(**st, pool, o.endpoint);
  const int failed = run_io(io, kick_all(**st, clients, o.connection_ids, g.quiet));
  return failed == 0 ? k_exit_ok : k_exit_failed;
}

}  // namespace

void register_session_admin(CLI::App& app, const globals& g, command_runner& run) {
  auto* sessions = app.get_subcommand("sessions");
  auto o = std::make_shared<admin_options>();

  auto* rec = sessions->add_subcommand(
      "reconcile",
      "Mark sessions older than the gateway's maximum connection time disconnected (--check: ask the "
      "gateway about the rest)");
  rec->add_option("--max-age", o->max_age, "Oldest a live connection can be (API Gateway: 2h)")->capture_default_str();
  rec->add_flag("--check", o->check, "Also ask GetConnection about every younger connected session");
  rec->add_option("--endpoint", o->endpoint, "Management endpoint for every session (default: its gateway's)");
  rec->callback([&g, &run, o] { run = [&g, o] { return reconcile(g, *o); }; });

  auto* kick_cmd =
      sessions->add_subcommand("kick", "Close connections with DeleteConnection and mark them disconnected");
  kick_cmd->add_option("connection-id", o->connection_ids, "Connection ids")->required();
  kick_cmd->add_option("--endpoint", o->endpoint, "Management endpoint (default: each session's gateway endpoint)");
  kick_cmd->callback([&g, &run, o] { run = [&g, o] { return kick(g, *o); }; });
}

}  // namespace apigw::cli

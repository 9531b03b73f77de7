// apigw-ws gateway: runs the local API Gateway (WebSocket APIs, @connections, /metrics) in the
// foreground until SIGINT or SIGTERM, then closes every connection and sends its $disconnect.
// With --tls-cert/--tls-key it serves wss:// and https:// and re-reads the files on SIGHUP.
#include "cli_common.hpp"

#include "apigw/gateway/config.hpp"
#include "apigw/gateway/gateway.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

namespace apigw::cli {
namespace {

// shard_context: one shard's io_context (one thread), whose pending handlers can be destroyed
// (shutdown) before any shard's io_context is.
class shard_context : public boost::asio::io_context {
 public:
  shard_context() : boost::asio::io_context(1) {}
  using boost::asio::io_context::shutdown;
};

struct gateway_cli_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4510;
  std::optional<std::string> config;
  std::string auth = "none";
  std::optional<std::string> state_file;
  std::string backend = "http://127.0.0.1:8000/ws/";
  std::size_t threads = 2;
  std::size_t max_frame = 32768;
  std::size_t max_message = 131072;
  std::string idle_timeout = "10m";
  std::string max_duration = "2h";
  std::string shutdown_grace = "10s";
  std::size_t outbound_queue_bytes = 1024 * 1024;
  std::size_t integration_connections = 128;
  double connection_rate = 0;
  double management_rate = 0;
  double management_burst = 5000;
  unsigned idle_close_code = 1001;
  unsigned delete_close_code = 1000;
  bool ping_resets_idle = false;
  std::string control_plane_maps = "merge";
  std::optional<std::string> tls_cert;
  std::optional<std::string> tls_key;
  std::optional<std::string> integration_ca;
  log_options log;
};

// read_pem_file: the whole of a (small) PEM file, or an error naming it.
result<std::string> read_pem_file(const std::string& path, std::string_view option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return failure{core::error::invalid_argument, fmt::format("{}: cannot read {}", option, path)};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int run_gateway(const globals& g, const gateway_cli_options& o) {
  gateway::gateway_config config;
  if (o.config) {
    auto loaded = gateway::load_gateway_config(*o.config);
    if (!loaded) return fail("gateway", loaded.error());
    config = std::move(*loaded);
  } else {
    config = gateway::default_dev_config(o.backend);
    add_request_id_header(config);
  }
  config.control_plane_maps =
      o.control_plane_maps == "replace" ? gateway::map_update::replace : gateway::map_update::merge;
  gateway::gateway_options opts;
  opts.address = o.host;
  opts.port = o.port;
  if (o.auth == "sigv4") {
    if (config.keys.empty()) {
      return fail("gateway", failure{core::error::invalid_argument,
                                     "--auth sigv4 needs keys: add \"keys\": [{\"accessKeyId\": ..., "
                                     "\"secretAccessKey\": ...}] to the --config file"});
    }
    opts.auth = gateway::auth_mode::sigv4;
  }
  auto& lim = opts.limits;
  lim.max_frame_bytes = o.max_frame;
  lim.max_message_bytes = o.max_message;
  lim.max_outbound_bytes = o.outbound_queue_bytes;
  lim.integration_connections_per_origin = o.integration_connections;
  lim.new_connections_per_second = o.connection_rate;
  lim.management_calls_per_second = o.management_rate;
  lim.management_calls_burst = o.management_burst;
  auto idle = parse_duration(o.idle_timeout);
  if (!idle) return fail("gateway --idle-timeout", idle.error());
  auto max_duration = parse_duration(o.max_duration);
  if (!max_duration) return fail("gateway --max-duration", max_duration.error());
  auto grace = parse_duration(o.shutdown_grace);
  if (!grace) return fail("gateway --shutdown-grace", grace.error());
  lim.idle_timeout = *idle;
  lim.max_duration = *max_duration;
  opts.choices.idle_close_code = static_cast<std::uint16_t>(o.idle_close_code);
  opts.choices.max_duration_close_code = static_cast<std::uint16_t>(o.idle_close_code);
  opts.choices.delete_close_code = static_cast<std::uint16_t>(o.delete_close_code);
  opts.choices.ping_resets_idle = o.ping_resets_idle;
  const auto log = make_logger(g, o.log);
  opts.log = log;
  if (o.state_file) opts.state_file = *o.state_file;
  if (o.tls_cert) opts.tls_certificate = *o.tls_cert;
  if (o.tls_key) opts.tls_key = *o.tls_key;
  if (o.integration_ca) {
    auto pem = read_pem_file(*o.integration_ca, "--integration-ca");
    if (!pem) return fail("gateway", pem.error());
    opts.integration_ca_pem = std::move(*pem);
  }
  const bool tls = o.tls_cert.has_value();

  // One io_context per thread, each a shard of the gateway's connections (a connection's reads,
  // integration calls and writes stay on its thread). The first also runs the listener, the
  // control plane and the signals, on the main thread.
  std::vector<std::unique_ptr<shard_context>> shards;
  std::vector<boost::asio::io_context::executor_type> shard_executors;
  for (std::size_t i = 0; i < o.threads; ++i) {
    shards.push_back(std::make_unique<shard_context>());
    shard_executors.push_back(shards.back()->get_executor());
  }
  boost::asio::io_context& io = *shards.front();
  std::optional<gateway::gateway> gateway_object;
  auto& gw = gateway_object.emplace(io.get_executor(), shard_executors, std::move(config), std::move(opts));
  if (auto r = gw.start(); !r) return fail("gateway", r.error());
  if (!g.quiet) {
    std::printf("apigw-ws gateway listening on %s://%s:%u (@connections at %s://%s:%u/{stage}/@connections)\n",
                tls ? "wss" : "ws", o.host.c_str(), gw.port(), tls ? "https" : "http", o.host.c_str(), gw.port());
    std::fflush(stdout);
  }

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    boost::asio::co_spawn(io, gw.shutdown(*grace), [&shards](const std::exception_ptr&) {
      for (auto& s : shards) s->stop();
    });
  });
  // SIGHUP: read the certificate files again (renewed certificates without a restart).
  boost::asio::signal_set reload_signal(io);
  std::function<void(const boost::system::error_code&, int)> on_reload = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (auto r = gw.reload_tls(); !r) {
      log.error("TLS certificate not reloaded; the previous one stays in use", "signal", "SIGHUP", "error",
                r.error().message);
    }
    reload_signal.async_wait(on_reload);
  };
  if (tls) {
    reload_signal.add(SIGHUP);
    reload_signal.async_wait(on_reload);
  }
  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < shards.size(); ++i) {
    workers.emplace_back([s = shards[i].get()] {
      auto busy = boost::asio::make_work_guard(*s);  // a shard without connections waits for one
      s->run();
    });
  }
  io.run();
  for (auto& s : shards) s->stop();  // (when the main loop ended some other way)
  for (auto& t : workers) t.join();
  // Handlers left on one shard hold objects with strands on the others (the connection registry
  // has strands on every shard): every shard's handlers go before any shard itself does.
  gateway_object.reset();
  for (auto& s : shards) s->shutdown();
  boost::system::error_code ignored;
  signals.clear(ignored);
  reload_signal.clear(ignored);
  ignore_stop_signals();
  return k_exit_ok;
}

}  // namespace

void register_gateway(CLI::App& app, const globals& g, command_runner& run) {
  auto o = std::make_shared<gateway_cli_options>();
  auto* cmd = app.add_subcommand(
      "gateway",
      "Run a local API Gateway WebSocket API: clients at ws://HOST:PORT/{stage}, the @connections Management API "
      "at http://HOST:PORT/{stage}/@connections/{id} (boto3/AWS SDK endpoint_url = http://HOST:PORT/{stage}), "
      "Prometheus metrics at /metrics. Routes go to HTTP backends (HTTP_PROXY), exactly as on AWS.");
  cmd->add_option("--host", o->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->port, "Port to listen on (0: any free port)")->capture_default_str();
  cmd->add_option("--config", o->config,
                  "JSON file describing the APIs (apis[].stages/routes/integrations, keys for --auth sigv4); "
                  "without it: one API, stage \"dev\", $connect/$disconnect/$default -> --backend")
      ->check(CLI::ExistingFile);
  cmd->add_option("--backend", o->backend,
                  "Integration base URL of the default dev API ({base}connect, {base}disconnect, {base}default)")
      ->capture_default_str();
  cmd->add_option("--auth", o->auth, "@connections authentication: none (accept anything) or sigv4 (verify)")
      ->check(CLI::IsMember({"none", "sigv4"}))
      ->capture_default_str();
  cmd->add_option("--state-file", o->state_file,
                  "JSON file keeping the APIs across restarts: loaded at start when it exists (it then replaces "
                  "--config's APIs), rewritten after every control-plane change; a corrupt one stops the start");
  cmd->add_option("--threads", o->threads, "I/O threads, one io_context each; connections are spread over them in turn")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--max-frame-bytes", o->max_frame, "Largest client frame; larger closes with 1009")
      ->capture_default_str();
  cmd->add_option("--max-message-bytes", o->max_message,
                  "Largest client message (closes with 1009) and PostToConnection body (413)")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", o->idle_timeout, "Close a connection with no data frames for this long")
      ->check(duration_check())
      ->capture_default_str();
  cmd->add_option("--max-duration", o->max_duration, "Close every connection this long after it opened")
      ->check(duration_check())
      ->capture_default_str();
  cmd->add_option("--idle-close-code", o->idle_close_code, "Close code for idle and max-duration closes [unverified]")
      ->check(CLI::Range(1000, 4999))
      ->capture_default_str();
  cmd->add_option("--delete-close-code", o->delete_close_code, "Close code for DeleteConnection [unverified]")
      ->check(CLI::Range(1000, 4999))
      ->capture_default_str();
  cmd->add_flag("--ping-resets-idle", o->ping_resets_idle, "Count pings as activity for the idle timeout");
  cmd->add_option("--control-plane-maps", o->control_plane_maps,
                  "How UpdateStage stageVariables and UpdateIntegration requestParameters apply: merge (keys given "
                  "are set, an empty value removes a key; what AWS is reported to do) or replace [unverified]")
      ->check(CLI::IsMember({"merge", "replace"}))
      ->capture_default_str();
  cmd->add_option("--outbound-queue-bytes", o->outbound_queue_bytes,
                  "Bytes queued for one client (every frame counts): over it PostToConnection gets 429 "
                  "LimitExceededException, and a reply or error frame closes the connection with 1008")
      ->capture_default_str();
  cmd->add_option("--integration-connections", o->integration_connections,
                  "Connections open at once to one backend origin for message routes ($connect and $disconnect "
                  "have their own pool with the same cap)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--connection-rate", o->connection_rate,
                  "New connections per second before handshakes get 429 (AWS: 500; 0 = unlimited)")
      ->capture_default_str();
  cmd->add_option("--management-rate", o->management_rate,
                  "@connections calls per second before 429 LimitExceededException (AWS: 10000; 0 = unlimited)")
      ->capture_default_str();
  cmd->add_option("--management-burst", o->management_burst, "Token-bucket burst for --management-rate")
      ->capture_default_str();
  cmd->add_option("--shutdown-grace", o->shutdown_grace, "How long shutdown waits for $disconnect calls")
      ->check(duration_check())
      ->capture_default_str();
  auto* cert = cmd->add_option("--tls-cert", o->tls_cert,
                               "PEM certificate chain (the gateway's certificate first): serve wss:// and https:// "
                               "(@connections, /metrics) only, TLS 1.2+; re-read on SIGHUP")
                   ->check(CLI::ExistingFile);
  auto* key =
      cmd->add_option("--tls-key", o->tls_key, "PEM private key (unencrypted) of --tls-cert")->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  cmd->add_option("--integration-ca", o->integration_ca,
                  "PEM CA certificates trusted for https:// integration endpoints besides the system store (a "
                  "local CA); integration certificates are always verified")
      ->check(CLI::ExistingFile);
  add_log_options(cmd, o->log);
  add_example(cmd, "apigw-ws gateway --port 4510 --backend http://127.0.0.1:8000/ws/");
  add_example(cmd,
              "apigw-ws gateway --tls-cert gw-cert.pem --tls-key gw-key.pem --backend https://localhost:8443/ws/ "
              "--integration-ca ca.pem   # kill -HUP <pid> re-reads the certificate");
  add_example(cmd, "apigw-ws gateway --log-format json --log-level debug 2> gateway.log");
  add_example(cmd, "apigw-ws gateway --config apis.json --auth sigv4 --state-file gw-state.json");
  cmd->callback([&g, &run, o] { run = [&g, o]() -> int { return run_gateway(g, *o); }; });
}

}  // namespace apigw::cli

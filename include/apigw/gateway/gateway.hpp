// apigw/gateway/gateway.hpp: the local API Gateway: one port serving WebSocket clients at
// `ws://HOST:PORT/{stage}[?query]`, the `@connections` Management API at
// `/{stage}/@connections/{id}` and Prometheus metrics at `/metrics` (with a certificate:
// `wss://` and `https://`, gateway_options::tls_certificate).
//
// Each WebSocket connection lives on a strand (shared from a fixed set), driven by completion
// handlers: an idle one is a pending wait for its socket and nothing else (about 3.7 KiB, most of
// it Beast's stream state). A writer coroutine drains its bounded outbound queue while there is
// something to write; one sweeper per gateway enforces every connection's idle, maximum-duration,
// write-stall and close deadlines. Routes go to HTTP_PROXY integrations through one keep-alive
// client pool. Behaviour is
// AWS's as documented (docs/design/gateway.md); every `[unverified]` choice is a
// field of `unverified_choices`. Never throws out of its coroutines; no dispatcher, no store.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/core/log.hpp"
#include "apigw/gateway/config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::gateway {

// gateway_limits: AWS's WebSocket limits (spec §7), each configurable; 0 disables a rate.
struct gateway_limits {
  std::size_t max_frame_bytes = 32768;     // a larger client frame closes with 1009
  std::size_t max_message_bytes = 131072;  // a larger client message closes with 1009; posts get 413
  std::chrono::milliseconds idle_timeout = std::chrono::minutes(10);
  std::chrono::milliseconds max_duration = std::chrono::hours(2);
  std::size_t max_outbound_bytes = 1024 * 1024;  // queued for one client; over it a post gets 429
  std::size_t max_inflight_per_connection = 32;  // message integrations running at once per client
  // Connections open at once to one backend origin for message integrations; $connect and
  // $disconnect have a pool of their own with the same cap, so message traffic never starves them.
  std::size_t integration_connections_per_origin = 128;
  double new_connections_per_second = 0;  // AWS: 500 per account; 0 = unlimited
  double new_connections_burst = 500;
  double management_calls_per_second = 0;  // AWS: 10,000 per account; 0 = unlimited
  double management_calls_burst = 5000;
  std::chrono::milliseconds handshake_timeout{30000};  // reading the upgrade request / HTTP request
  std::chrono::milliseconds write_timeout{30000};      // a write that stalls longer closes the socket
  std::chrono::milliseconds close_timeout{5000};       // waiting for the client's close frame
};

// unverified_choices: behaviours the spec marks [unverified] (or that AWS does not document),
// with the defaults it recommends.
struct unverified_choices {
  std::uint16_t idle_close_code = 1001;  // spec §1.6
  std::uint16_t max_duration_close_code = 1001;
  std::uint16_t delete_close_code = 1000;
  std::uint16_t shutdown_close_code = 1001;
  std::string timeout_close_reason = "Going away";
  bool ping_resets_idle = false;          // only data frames reset the idle timer
  unsigned connect_timeout_status = 504;  // $connect integration timed out
  unsigned connect_failure_status = 502;  // $connect backend unreachable / garbage
  unsigned unknown_stage_status = 403;    // handshake to a stage nobody serves
  bool binary_for_non_utf8_posts = true;  // PostToConnection data that is not UTF-8 goes as binary
  bool json_content_type = true;          // message requests: application/json if JSON else text/plain
  std::string forwarded_proto = "https";
  std::string forwarded_port = "443";
  bool forward_client_headers = true;  // copy the client's headers to $connect
  bool cross_stage_gone = true;        // a post through another stage's endpoint gets 410
  bool error_frame_on_5xx = true;      // a 5xx from a message integration sends "Internal server error"
};

// auth_mode: how @connections calls are authenticated.
enum class auth_mode {
  none,   // accept any Authorization header or none (AWS SDKs sign; nothing is checked)
  sigv4,  // verify SigV4 against gateway_config::keys; a bad one gets 403 in AWS's form
};

// gateway_options: where to listen and how to behave.
struct gateway_options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 4510;  // 0: the kernel picks one; see gateway::port()
  gateway_limits limits;
  unverified_choices choices;
  auth_mode auth = auth_mode::none;
  std::chrono::milliseconds backend_connect_timeout{5000};
  // TLS for clients: with both set, the port speaks TLS only (1.2 and 1.3): wss:// for WebSocket
  // clients, https:// for @connections, the control plane and /metrics. tls_certificate is the
  // PEM chain (the gateway's certificate first), tls_key its unencrypted PEM key; start() fails
  // naming a file that cannot be used; reload_tls() reads them again (new connections get the new
  // certificate, open ones keep theirs).
  std::filesystem::path tls_certificate;
  std::filesystem::path tls_key;
  // integration_ca_pem: PEM CA certificates trusted for https:// integration endpoints besides the
  // system store (a local CA such as `apigw-ws dev --tls` makes). start() fails when it is set and
  // holds no certificate. Integration certificates are always verified (chain and host name).
  std::string integration_ca_pem;
  // state_file: where control-plane changes are kept (empty: in memory only). When it exists at
  // start it replaces the configuration's APIs; every change rewrites it (temporary file + rename).
  std::filesystem::path state_file;
  // log: one structured line per event (apigw/core/log.hpp; fields in docs/design/logging.md):
  // info lines for each connection, close, integration request (trace_id, request_id,
  // connection_id, route, status, duration_ms) and management or control-plane call; warnings and
  // errors. Its level and format are the logger's: logging::logger::standard_error(level::warn,
  // format::json) writes JSON warnings and errors to stderr, and a plain callable taking the line
  // gets logfmt text at info. Default: no logging; below its level nothing is built.
  logging::logger log;
  // access_log: receives the access-log lines of stages whose accessLogSettings has a format (one
  // per $connect, message and $disconnect; docs/design/gateway.md); called from any thread. Empty:
  // the lines go to standard error.
  std::function<void(std::string_view line)> access_log;
};

// gateway_stats: a snapshot of the counters (also exported at /metrics).
struct gateway_stats {
  std::uint64_t connections_open = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;
  std::uint64_t disconnects_fired = 0;
};

// gateway: see the file comment.
class gateway {
 public:
  // gateway: a gateway serving `config` on `ex`, which must be an io_context's executor (run by
  // any number of threads; anything else throws std::invalid_argument). Nothing is bound until
  // start().
  gateway(boost::asio::any_io_executor ex, gateway_config config, gateway_options options);
  // gateway: the listener and the control plane on `ex`; the WebSocket connections spread in
  // turn over `shards`, executors of io_contexts run by one thread each (`ex` may be one of
  // them), and the deadline sweeper on the first. Each shard has its own integration
  // connections, so a connection's reads, its integration calls and its writes all complete on
  // one thread: no hand-over between threads per message, which is what a shared io_context run
  // by several threads costs. Lifetimes: handlers on `ex` and on each shard hold objects with
  // strands on the shards, so the shards' io_contexts must outlive `ex`'s, and no shard's
  // io_context may be destroyed while another still holds handlers: destroy the gateway, then
  // shut every one down (or run each until it is out of work) before destroying any
  // (apps/apigw-ws/commands/gateway.cpp does).
  gateway(boost::asio::any_io_executor ex, std::vector<boost::asio::io_context::executor_type> shards,
          gateway_config config, gateway_options options);
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  // start: loads the state file (if any), binds and begins accepting. Fails with
  // net::error::bind_failed naming the address, or gateway::error::invalid_config naming a state
  // file that cannot be read or used (the file is left as it is).
  result<void> start();

  // port: the bound port (after start).
  std::uint16_t port() const noexcept;

  // reload_tls: reads gateway_options::tls_certificate and tls_key again. Fails with
  // invalid_argument when the gateway has no TLS, or naming the file that cannot be used (the
  // certificate in use then stays).
  result<void> reload_tls();

  // shutdown: stops accepting, closes every WebSocket with the shutdown close code, and completes
  // once every accepted connection's $disconnect has been sent (or `grace` has passed).
  boost::asio::awaitable<void> shutdown(std::chrono::milliseconds grace = std::chrono::seconds(10));

  // stats: the counters.
  gateway_stats stats() const;

  // metrics_text: the Prometheus text exposition served at /metrics.
  std::string metrics_text() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace apigw::gateway

// apigw/net/http_client_pool.hpp: a keep-alive HTTP/1.1 client for http and https, with a
// bounded set of connections per origin (scheme, host, port) and a timeout on every operation.
//
// One request at a time runs on a connection. A request takes an idle connection of its origin
// (the most recently used one), opens a new one while the origin is below its limit, or waits in
// line (bounded by `timeouts.queue`). The request's exchange runs in the caller's own coroutine
// (no hop to another executor and back); a step's timeout shuts the socket down from a timer, which
// needs no strand. The pool's bookkeeping is a mutex, so `request` may be called from any thread of
// a multi-threaded io_context, on a strand or not.
//
// A kept-alive connection the server has meanwhile closed is noticed before reuse (a
// non-blocking peek sees the FIN) and replaced. If a reused connection still fails before a
// single byte of the request was written, the request is retried once on a new connection. A
// request that was (partly) written is never repeated here: the caller decides (POSTs are not
// idempotent).
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/net/http_message.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace apigw::net {

// client_timeouts: how long each step may take. None may be zero.
struct client_timeouts {
  std::chrono::milliseconds connect{5000};  // DNS + TCP connect + TLS handshake
  std::chrono::milliseconds write{10000};   // writing the whole request
  std::chrono::milliseconds read{30000};    // from the end of the write to the end of the response
  std::chrono::milliseconds queue{30000};   // waiting for a connection when the origin is at its limit
  std::chrono::milliseconds idle{20000};    // an idle kept-alive connection older than this is closed
};

// request_options: per-request settings.
struct request_options {
  // timeout: the whole request's deadline (waiting for a connection, connecting, writing, reading),
  // on top of the per-step timeouts; zero: only those. When it passes, the request fails with
  // net::error::timeout at once, and its connection is closed (the server sees the request
  // abandoned) so its slot goes to the next request of the origin right away.
  std::chrono::milliseconds timeout{0};
};

// client_pool_options: limits and TLS settings.
struct client_pool_options {
  // max_connections_per_origin: connections open at once to one origin (idle, busy or being
  // opened); further requests wait in line for a free one.
  std::size_t max_connections_per_origin = 128;
  std::size_t max_response_bytes = 8 * 1024 * 1024;
  client_timeouts timeouts;
  bool verify_peer = true;                  // verify the server certificate chain and host name (https)
  std::string extra_ca_pem;                 // PEM certificates trusted in addition to the system store
  std::string user_agent = "apigw-ws/0.1";  // sent when the request has no User-Agent
};

// client_pool_stats: counters for tests and diagnostics.
struct client_pool_stats {
  std::uint64_t connections_opened = 0;  // TCP (and TLS) connections established
  std::uint64_t requests = 0;            // requests that got a response
  std::uint64_t reused = 0;              // of those, sent on a kept-alive connection
  std::uint64_t stale_replaced = 0;      // idle connections found closed and replaced
};

// http_client_pool: see the file comment. Destroying the pool closes the idle connections; it
// must not be destroyed while a `request` is still running.
class http_client_pool {
 public:
  // http_client_pool: a pool whose connections and timers run on `ex` (an io_context's
  // executor, possibly run by several threads). Invalid `extra_ca_pem` is reported by every
  // https request (tls_failed), not thrown.
  explicit http_client_pool(boost::asio::any_io_executor ex, client_pool_options options = {});
  ~http_client_pool();
  http_client_pool(const http_client_pool&) = delete;
  http_client_pool& operator=(const http_client_pool&) = delete;

  // request: sends `req` and reads the whole response. Any HTTP status is a value; failures are
  // net::error codes: timeout (condition timeout), pool_closed (unavailable), and resolve/
  // connect/tls/write/read/bad_response (network_error), each with a message naming the origin.
  boost::asio::awaitable<result<http_response>> request(http_request req);

  // request: the same, within `options` (see request_options).
  boost::asio::awaitable<result<http_response>> request(http_request req, request_options options);

  // close: closes idle connections and makes later requests fail with pool_closed. Requests in
  // flight finish normally; their connections are closed afterwards.
  void close();

  // stats: a snapshot of the counters.
  client_pool_stats stats() const;

  // executor: the executor the pool's connections use.
  boost::asio::any_io_executor executor() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace apigw::net
